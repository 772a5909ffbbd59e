import { InvalidEtagError, normaliseEtag } from '../../../tab/server/api-responses';

describe('normaliseEtag: an If-Match put back as Azure Tables wrote it', () => {
  const AZURE = `W/"datetime'2026-11-20T09%3A00%3A00.1234567Z'"`;

  it.each([
    [AZURE, AZURE],
    [`  ${AZURE} `, AZURE],
    [`W/"datetime'2026-11-20T09:00:00.1234567Z'"`, AZURE],
    [`"datetime'2026-11-20T09%3A00%3A00.1234567Z'"`, AZURE],
    [`W/"datetime'2026-11-20T09%3a00%3a00.1234567Z'"`, AZURE],
    ['"0x8DE2B6A1C4F0A12"', '"0x8DE2B6A1C4F0A12"'],
  ])('%s becomes %s', (given, expected) => {
    expect(normaliseEtag(given)).toBe(expected);
  });

  it.each(['null', 'undefined', '*', '', 'W/"datetime\'yesterday\'"', 'W/"datetime\'%E0%A4%A\'"', 'W/"a"b"', 'datetime\'2026-11-20T09:00:00Z\''])('refuses %p', (bad) => {
    expect(() => normaliseEtag(bad, 'etag')).toThrow(InvalidEtagError);
  });
});

import { detectEvidenceType, safeFileName } from '../../../school/evidence-files';

const bytes = (...values: (number | string)[]) => Buffer.concat(values.map((v) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from([v]))));

describe('evidence files are recognised by content', () => {
  it.each([
    ['PNG', bytes(0x89, 'PNG\r\n\x1a\n', 'rest'), 'image/png'],
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 'JFIF'), 'image/jpeg'],
    ['GIF', bytes('GIF89a', 'rest'), 'image/gif'],
    ['WebP', bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '), 'image/webp'],
    ['PDF', bytes('%PDF-1.7\n'), 'application/pdf'],
  ])('accepts %s', (_name, head, contentType) => {
    expect(detectEvidenceType(head)?.contentType).toBe(contentType);
  });

  it.each([
    ['text', bytes('hello, this is text')],
    ['HTML', bytes('<html><script>')],
    ['an executable', bytes('MZ', 0x90, 0)],
    ['a zip', bytes('PK', 3, 4)],
    ['RIFF that is not WebP', bytes('RIFF', 0, 0, 0, 0, 'WAVEfmt ')],
    ['nothing', bytes()],
  ])('refuses %s whatever its name', (_name, head) => {
    expect(detectEvidenceType(head)).toBeUndefined();
  });

  it('gives a safe file name with the detected extension', () => {
    expect(safeFileName('C:\\Users\\x\\chat log.PNG', { contentType: 'image/png', extension: 'png' })).toBe('chat log.png');
    expect(safeFileName('../../etc/passwd', { contentType: 'application/pdf', extension: 'pdf' })).toBe('passwd.pdf');
    expect(safeFileName('evil"\u0007<name>.exe', { contentType: 'image/gif', extension: 'gif' })).toBe('evilname.gif');
    expect(safeFileName('', { contentType: 'image/jpeg', extension: 'jpg' })).toBe('evidence.jpg');
  });
});

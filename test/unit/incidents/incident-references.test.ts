import { formatIncidentReference, incidentCounterName, parseIncidentReference } from '../../../school/incident-references';

describe('formatIncidentReference', () => {
  const cases: Array<[number, number, string]> = [
    [2026, 1, 'ES-2026-0001'],
    [2026, 42, 'ES-2026-0042'],
    [2026, 999, 'ES-2026-0999'],
    [2026, 9999, 'ES-2026-9999'],
    [2026, 10000, 'ES-2026-10000'],
    [2027, 123456, 'ES-2027-123456'],
  ];
  it.each(cases)('when the year is %i and the sequence is %i, gives %s', (year, sequence, reference) => {
    expect(formatIncidentReference(year, sequence)).toBe(reference);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('when the sequence is %p, refuses it with a RangeError', (sequence) => {
    expect(() => formatIncidentReference(2026, sequence)).toThrow(RangeError);
  });
});

describe('parseIncidentReference', () => {
  it.each([1, 7, 42, 999, 9999, 10000, 99999, 1234567])('when sequence %i is formatted and parsed again, comes back unchanged', (sequence) => {
    expect(parseIncidentReference(formatIncidentReference(2026, sequence))).toEqual({ year: 2026, sequence });
  });

  const accepted: Array<[string, { year: number; sequence: number }]> = [
    ['ES-2026-0042', { year: 2026, sequence: 42 }],
    ['es-2026-0042', { year: 2026, sequence: 42 }],
    ['  ES-2025-0001 ', { year: 2025, sequence: 1 }],
    ['ES-2026-10000', { year: 2026, sequence: 10000 }],
  ];
  it.each(accepted)('when given "%s", reads %j', (reference, parsed) => {
    expect(parseIncidentReference(reference)).toEqual(parsed);
  });

  const rejected = ['', 'ES-2026-042', 'ES-2026-42', 'ES-26-0042', 'ES-20260-0042', 'XS-2026-0042', 'ES 2026 0042', 'ES-2026-0042x', 'ES-2026-', 'ES-2026-00-42', 'ref ES-2026-0042'];
  it.each(rejected)('when given "%s", returns undefined', (reference) => {
    expect(parseIncidentReference(reference)).toBeUndefined();
  });
});

describe('incidentCounterName', () => {
  it('when the year changes, names a different counter, so references restart at 0001 each year', () => {
    expect(incidentCounterName(2026)).not.toBe(incidentCounterName(2027));
    expect(incidentCounterName(2026)).toContain('2026');
  });
});

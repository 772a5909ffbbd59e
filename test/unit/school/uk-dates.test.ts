import { daysBetweenDates, formatUkDate, formatUkDateTime, formatUkTime, isHistoricDate, londonDate, parseUkDate } from '../../../school/uk-dates';

describe('UK dates', () => {
  it.each([
    ['2026-03-04', '4 March 2026'],
    ['2026-12-01', '1 December 2026'],
    ['2024-02-29', '29 February 2024'],
    ['2026-02-30', '2026-02-30'],
    ['not a date', 'not a date'],
  ])('formats %s as %s', (iso, words) => {
    expect(formatUkDate(iso)).toBe(words);
  });

  // The clocks go forward at 01:00 UTC on 29 March 2026 and back at 01:00 UTC on 25 October 2026.
  it.each([
    ['2026-01-15T09:30:00Z', '15 January 2026, 09:30'],
    ['2026-03-29T00:59:00Z', '29 March 2026, 00:59'],
    ['2026-03-29T01:00:00Z', '29 March 2026, 02:00'],
    ['2026-06-30T23:30:00Z', '1 July 2026, 00:30'],
    ['2026-10-25T00:59:00Z', '25 October 2026, 01:59'],
    ['2026-10-25T01:00:00Z', '25 October 2026, 01:00'],
    ['2026-12-31T23:59:00Z', '31 December 2026, 23:59'],
  ])('shows %s in Europe/London as %s', (instant, expected) => {
    expect(formatUkDateTime(instant)).toBe(expected);
    expect(formatUkDateTime(new Date(instant))).toBe(expected);
  });

  it('reads the school day in London, not UTC', () => {
    expect(londonDate(new Date('2026-06-30T23:30:00Z'))).toBe('2026-07-01');
    expect(londonDate(new Date('2026-12-31T23:30:00Z'))).toBe('2026-12-31');
    expect(formatUkTime('2026-07-01T08:15:00Z')).toBe('09:15');
    expect(formatUkDateTime('garbage')).toBe('garbage');
  });

  it.each([
    ['01/12/2026', '2026-12-01', '1 December 2026', true],
    ['1/12/26', '2026-12-01', '1 December 2026', true],
    ['13/01/2026', '2026-01-13', '13 January 2026', false],
    ['05/05/2026', '2026-05-05', '5 May 2026', false],
    ['4.3.2026', '2026-03-04', '4 March 2026', true],
    ['2026-03-04', '2026-03-04', '4 March 2026', false],
    ['4 March 2026', '2026-03-04', '4 March 2026', false],
    ['4th Mar 2026', '2026-03-04', '4 March 2026', false],
  ])('reads a typed %s the UK way', (typed, iso, words, ambiguous) => {
    expect(parseUkDate(typed)).toEqual({ isoDate: iso, words, ambiguous });
  });

  it.each(['31/02/2026', '12/13/2026', '2026-13-01', 'yesterday', '4 Smarch 2026', ''])('refuses %p', (typed) => {
    expect(parseUkDate(typed)).toBeUndefined();
  });

  it('flags incidents more than a year old as historic', () => {
    expect(isHistoricDate('2025-03-04', '2026-03-04')).toBe(false);
    expect(isHistoricDate('2025-03-03', '2026-03-04')).toBe(true);
    expect(isHistoricDate('2010-09-01', '2026-03-04')).toBe(true);
    expect(isHistoricDate('2027-02-28', '2028-02-29')).toBe(false);
    expect(isHistoricDate('2027-02-27', '2028-02-29')).toBe(true);
    expect(daysBetweenDates('2026-03-28', '2026-03-30')).toBe(2);
  });
});

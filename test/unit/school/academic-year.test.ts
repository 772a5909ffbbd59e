import { academicYearAt, academicYearOfDate, academicYearStartsAt, isCurrentForAnnualRenewal, londonMidnight, nextRenewalAt } from '../../../school/academic-year';

describe('academic years (1 September, Europe/London)', () => {
  it.each([
    ['2026-08-31T22:59:59Z', 2025, '23:59 on 31 August BST is still the old year'],
    ['2026-08-31T23:00:00Z', 2026, 'midnight on 1 September BST starts the new year'],
    ['2026-09-01T00:30:00Z', 2026, 'early on 1 September in UTC'],
    ['2027-01-01T00:00:00Z', 2026, 'January is in the year that started in September'],
    ['2024-02-29T12:00:00Z', 2023, 'leap day'],
    ['2026-03-29T00:30:00Z', 2025, 'the night the clocks go forward'],
    ['2026-10-25T01:30:00Z', 2026, 'the night the clocks go back'],
  ])('%s is in %i (%s)', (instant, year) => {
    expect(academicYearAt(new Date(instant))).toBe(year);
  });

  it.each([
    ['2026-09-01', 2026],
    ['2026-08-31', 2025],
    ['2028-02-29', 2027],
    ['2027-07-31', 2026],
  ])('the date %s is in %i', (date, year) => {
    expect(academicYearOfDate(date)).toBe(year);
  });

  it('rejects something that is not a date', () => {
    expect(() => academicYearOfDate('soon')).toThrow(RangeError);
  });

  it.each([
    [2026, '2026-08-31T23:00:00.000Z'],
    [2027, '2027-08-31T23:00:00.000Z'],
    [2028, '2028-08-31T23:00:00.000Z'],
  ])('the year %i starts at midnight BST on 1 September (%s)', (year, instant) => {
    expect(academicYearStartsAt(year).toISOString()).toBe(instant);
  });

  it('finds London midnight in GMT and across both clock changes', () => {
    expect(londonMidnight(2026, 1, 15).toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(londonMidnight(2026, 3, 29).toISOString()).toBe('2026-03-29T00:00:00.000Z');
    expect(londonMidnight(2026, 3, 30).toISOString()).toBe('2026-03-29T23:00:00.000Z');
    expect(londonMidnight(2026, 10, 25).toISOString()).toBe('2026-10-24T23:00:00.000Z');
    expect(londonMidnight(2026, 10, 26).toISOString()).toBe('2026-10-26T00:00:00.000Z');
  });

  it.each([
    ['2026-12-03T10:00:00Z', '2027-08-31T23:00:00.000Z'],
    ['2026-08-31T22:59:59Z', '2026-08-31T23:00:00.000Z'],
    ['2026-08-31T23:00:00Z', '2027-08-31T23:00:00.000Z'],
    ['2028-02-29T09:00:00Z', '2028-08-31T23:00:00.000Z'],
  ])('after %s the next renewal is due at %s', (instant, due) => {
    expect(nextRenewalAt(new Date(instant)).toISOString()).toBe(due);
  });

  it.each([
    ['2025-09-10T09:00:00Z', '2026-07-20T09:00:00Z', true],
    ['2025-09-10T09:00:00Z', '2026-09-02T09:00:00Z', false],
    ['2026-08-31T22:30:00Z', '2026-08-31T23:30:00Z', false],
    ['2026-08-31T23:30:00Z', '2027-08-31T22:59:00Z', true],
  ])('an acknowledgement at %s is current at %s: %s', (at, now, current) => {
    expect(isCurrentForAnnualRenewal(new Date(at), new Date(now))).toBe(current);
  });
});

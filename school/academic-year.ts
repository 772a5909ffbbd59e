import { londonDate } from './uk-dates';

/**
 * The school year in England starts on 1 September (Education Act 1996, s.579: the school year begins
 * after 31 July; schools' terms start in September). Annual documents are renewed from 1 September,
 * Europe/London time, so a form signed at 23:30 on 31 August (BST) belongs to the year that is ending.
 */
export const ACADEMIC_YEAR_START_MONTH = 9;

/** The academic year an instant falls in, by its starting calendar year (2026 for 2026/27), in Europe/London. */
export function academicYearAt(instant: Date): number {
  return academicYearOfDate(londonDate(instant));
}

/** The academic year of a calendar date (YYYY-MM-DD): 1 September starts a new one. */
export function academicYearOfDate(isoDate: string): number {
  const year = Number(isoDate.slice(0, 4));
  const month = Number(isoDate.slice(5, 7));
  if (!Number.isInteger(year) || !Number.isInteger(month) || month < 1 || month > 12) throw new RangeError(`not a date: ${isoDate}`);
  return month >= ACADEMIC_YEAR_START_MONTH ? year : year - 1;
}

/** The instant an academic year starts: midnight on 1 September in Europe/London (23:00 UTC on 31 August, as BST is in force). */
export function academicYearStartsAt(startYear: number): Date {
  return londonMidnight(startYear, ACADEMIC_YEAR_START_MONTH, 1);
}

/** When the next renewal falls due after `instant`: the start of the following academic year. */
export function nextRenewalAt(instant: Date): Date {
  return academicYearStartsAt(academicYearAt(instant) + 1);
}

/** Whether an acknowledgement made at `acknowledgedAt` still counts at `now` for a document renewed every September. */
export function isCurrentForAnnualRenewal(acknowledgedAt: Date, now: Date): boolean {
  return academicYearAt(acknowledgedAt) === academicYearAt(now);
}

/** Midnight at the start of a calendar day in Europe/London, as an instant (handles GMT and BST). */
export function londonMidnight(year: number, month: number, day: number): Date {
  const wall = Date.UTC(year, month - 1, day);
  // London is UTC or UTC+1; try both and keep the one whose London date is the wanted day at 00:00.
  for (const offsetHours of [1, 0]) {
    const candidate = new Date(wall - offsetHours * 3_600_000);
    if (londonDate(candidate) === isoDay(year, month, day) && londonDate(new Date(candidate.getTime() - 1)) !== isoDay(year, month, day)) return candidate;
  }
  throw new RangeError(`no midnight in Europe/London on ${isoDay(year, month, day)}`);
}

function isoDay(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

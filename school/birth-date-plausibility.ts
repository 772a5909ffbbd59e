import type { YearGroup } from './pupil-roll';
import { formatUkDate, londonDate } from './uk-dates';

/**
 * Whether a date of birth on the roll is plausible for the pupil, so that a mistyped one (2071 for 2017, 1917,
 * a sibling's) is flagged and not used: a date of birth sets how long the pupil's safeguarding records are kept
 * (school/retention.ts), and one typed too early would make them due for deletion too soon.
 *
 * In England a child starts Reception in the September after their fourth birthday (the School Admissions
 * Code), so in the academic year starting 1 September Y, Reception is the children born 1 September Y-5 to
 * 31 August Y-4, Year n those born n years before, and Nursery a year after. One year either side is allowed:
 * pupils are sometimes taught out of their year group (a summer-born child who started Reception a year late,
 * or one moved up).
 */

/** Years either side of the year group's usual birth dates that are still accepted. */
export const YEAR_GROUP_TOLERANCE_YEARS = 1;

/**
 * Without a year group (or an academic year to place it in), the ages a pupil of a primary or middle school can
 * have: from Nursery at 2 to the end of Year 8 at 13, with a year either side.
 */
export const YOUNGEST_PUPIL_YEARS = 1;
export const OLDEST_PUPIL_YEARS = 15;

const YEAR_OFFSET: Record<YearGroup, number> = { N: -1, R: 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8 };

export interface BirthDateRange {
  /** YYYY-MM-DD, inclusive. */
  earliest: string;
  latest: string;
}

/** The dates of birth accepted for a pupil in `yearGroup` in the academic year starting 1 September `academicYearStart`. */
export function yearGroupBirthRange(yearGroup: YearGroup, academicYearStart: number): BirthDateRange {
  const offset = YEAR_OFFSET[yearGroup];
  return {
    earliest: `${academicYearStart - 5 - offset - YEAR_GROUP_TOLERANCE_YEARS}-09-01`,
    latest: `${academicYearStart - 4 - offset + YEAR_GROUP_TOLERANCE_YEARS}-08-31`,
  };
}

/** The dates of birth accepted for a pupil of any year group on the UK day `today` (YYYY-MM-DD). */
export function pupilAgeBirthRange(today: string): BirthDateRange {
  const year = Number(today.slice(0, 4));
  // 29 February counts as the 28th in the years that have none.
  const monthDay = today.slice(4) === '-02-29' ? '-02-28' : today.slice(4);
  return { earliest: `${year - OLDEST_PUPIL_YEARS - 1}${monthDay}`, latest: `${year - YOUNGEST_PUPIL_YEARS}${monthDay}` };
}

export interface PlausibilityContext {
  /** The academic year the roll is for (the year it starts); the year-group check needs it. */
  academicYearStart?: number | undefined;
  /** Now; the check without a year group counts ages from its UK day. */
  today: Date;
}

/**
 * Undefined when `dateOfBirth` (YYYY-MM-DD) is plausible for the pupil; otherwise the sentence for the roll's
 * report, saying what was expected and that the date has not been used.
 */
export function describeImplausibleBirthDate(dateOfBirth: string, yearGroup: YearGroup | undefined, context: PlausibilityContext): string | undefined {
  const byYearGroup = yearGroup !== undefined && context.academicYearStart !== undefined;
  const range = byYearGroup ? yearGroupBirthRange(yearGroup, context.academicYearStart!) : pupilAgeBirthRange(londonDate(context.today));
  if (dateOfBirth >= range.earliest && dateOfBirth <= range.latest) return undefined;
  const who = byYearGroup
    ? `a pupil in ${yearGroupName(yearGroup)} in ${context.academicYearStart}/${String(context.academicYearStart! + 1).slice(2)}`
    : `a pupil at a primary or middle school`;
  return (
    `the date of birth ${formatUkDate(dateOfBirth)} is not plausible for ${who} (expected between ${formatUkDate(range.earliest)} and ${formatUkDate(range.latest)}), ` +
    `so it has not been used: until it is corrected in the MIS, this pupil's records are kept by the school's retention rule`
  );
}

function yearGroupName(yearGroup: YearGroup): string {
  if (yearGroup === 'N') return 'Nursery';
  if (yearGroup === 'R') return 'Reception';
  return `Year ${yearGroup}`;
}

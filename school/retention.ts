import type { InvolvedParty } from './incident-routing';
import { schoolDate } from './incident-submission';

/**
 * A pupil's safeguarding record is kept until their date of birth plus 25 years, as the IRMS
 * Information Management Toolkit for Schools advises for child protection files.
 */
export const YEARS_AFTER_BIRTH = 25;

/**
 * The school's rule for incidents the date-of-birth rule cannot settle: a pupil not on the register or
 * without a date of birth, or a concern about an adult. `from: 'created'` counts `fallbackYears` from the
 * day the concern was reported; `from: 'closed'` counts from the day it was closed, so an incident under
 * that rule has no retention date while it is open and is never listed for deletion before it closes.
 */
export interface RetentionRule {
  fallbackYears: number;
  from: 'created' | 'closed';
}

/**
 * 25 years from the day the concern was reported. A pupil is born before any concern about them, so
 * this is never earlier than their date of birth plus 25 years: not knowing a date of birth never
 * shortens how long a record is kept.
 */
export const DEFAULT_RETENTION_RULE: RetentionRule = { fallbackYears: 25, from: 'created' };

/** What an incident's retention date was worked out from. */
export type RetentionBasis = 'date-of-birth' | 'school-rule';

export interface Retention {
  /** Keep until the end of this day (YYYY-MM-DD, UK); undefined while a rule counted from closure waits for the close. */
  date: string | undefined;
  basis: RetentionBasis;
}

/** What the rule needs to know about an incident. Times are ISO instants; the days are counted in the UK. */
export interface RetentionFacts {
  involved: readonly InvolvedParty[];
  createdAt: string;
  closedAt?: string | undefined;
}

/**
 * The day an incident may be deleted after (with the DSL's approval).
 *
 * The date-of-birth rule applies only when everyone involved is a pupil on the register whose date of
 * birth is known: then it is the latest of their dates of birth plus 25 years. Anything else (an unlisted
 * pupil, a missing date of birth, staff, a visitor, no one named) uses the school's rule, but never gives
 * a day earlier than a known pupil's date of birth plus 25 years, so naming an adult alongside a pupil
 * never shortens the pupil's record.
 *
 * Whatever the basis, the date is never earlier than the day the concern was reported plus the school's
 * fallback years (`reportFloor`): a date of birth typed decades too early, which would put the record past
 * retention on the day it is written, cannot shorten how long it is kept. With the default rule (25 years
 * from the report) the floor always decides, since every pupil is born before any concern about them; a
 * school whose fallback is shorter (say 7 years) gets the date-of-birth rule, with the fallback as a minimum.
 *
 * `birthDates` maps register ids (`externalId`) to YYYY-MM-DD.
 */
export function retentionDateFor(facts: RetentionFacts, birthDates: ReadonlyMap<string, string>, rule: RetentionRule): Retention {
  const pupilDates = facts.involved.flatMap((party) => {
    const born = party.kind === 'pupil' ? birthDates.get(party.pupilId) : undefined;
    return born ? [addYears(born, YEARS_AFTER_BIRTH)] : [];
  });
  const latestPupilDate = latest(pupilDates);
  const floor = reportFloor(facts.createdAt, rule);
  if (facts.involved.length > 0 && pupilDates.length === facts.involved.length) {
    return latestPupilDate! >= floor ? { date: latestPupilDate, basis: 'date-of-birth' } : { date: floor, basis: 'school-rule' };
  }

  const start = rule.from === 'created' ? facts.createdAt : facts.closedAt;
  if (!start) return { date: undefined, basis: 'school-rule' };
  const ruleDate = addYears(schoolDate(new Date(start)), rule.fallbackYears);
  return { date: latest([ruleDate, floor, ...(latestPupilDate ? [latestPupilDate] : [])]), basis: 'school-rule' };
}

/** The earliest retention date any incident can have: the UK day it was reported plus the school's fallback years. */
export function reportFloor(createdAt: string, rule: RetentionRule): string {
  return addYears(schoolDate(new Date(createdAt)), rule.fallbackYears);
}

/** True once the UK day `now` falls after the retention date; never while the incident is on legal hold or has no date. */
export function isPastRetention(incident: { retentionDate?: string | undefined; legalHold?: boolean | undefined }, now: Date): boolean {
  if (incident.legalHold === true || !incident.retentionDate) return false;
  return schoolDate(now) > incident.retentionDate;
}

/** Problems with a school's rule, as sentences for the start-up check; empty when it can be used. */
export function validateRetentionRule(rule: RetentionRule): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(rule.fallbackYears) || rule.fallbackYears < 1 || rule.fallbackYears > 100) {
    problems.push(`The retention fallback must be a whole number of years from 1 to 100, not ${String(rule.fallbackYears)}.`);
  }
  if (rule.from !== 'created' && rule.from !== 'closed') problems.push(`The retention fallback counts from 'created' or 'closed', not '${String(rule.from)}'.`);
  return problems;
}

/** Adds whole years to a YYYY-MM-DD day; 29 February becomes 1 March in a year that has none, so the record is kept a day longer, never shorter. */
export function addYears(day: string, years: number): string {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const shifted = new Date(Date.UTC(year + years, month - 1, date));
  return shifted.toISOString().slice(0, 10);
}

function latest(days: readonly string[]): string | undefined {
  return days.length === 0 ? undefined : days.reduce((a, b) => (b > a ? b : a));
}

/**
 * "Continued infringements, following previous warnings or sanctions" (seeds 001 and 004): when one pupil
 * is involved in the school's threshold of incidents within a term, the case view says so.
 *
 * Terms are the three English school terms by calendar month, so they need no per-school calendar:
 * autumn (September to December), spring (January to March) and summer (April to August). Easter moves
 * the real spring/summer boundary by a week or two; a school that needs exact dates would add a calendar.
 */

export const DEFAULT_REPEAT_THRESHOLD = 3;

export interface SchoolTerm {
  id: string;
  label: string;
  from: string;
  to: string;
}

/** The term a calendar date (YYYY-MM-DD) falls in. */
export function termOf(isoDate: string): SchoolTerm {
  const year = Number(isoDate.slice(0, 4));
  const month = Number(isoDate.slice(5, 7));
  if (month >= 9) return { id: `${year}-autumn`, label: `Autumn term ${year}`, from: `${year}-09-01`, to: `${year}-12-31` };
  if (month <= 3) return { id: `${year}-spring`, label: `Spring term ${year}`, from: `${year}-01-01`, to: `${year}-03-31` };
  return { id: `${year}-summer`, label: `Summer term ${year}`, from: `${year}-04-01`, to: `${year}-08-31` };
}

/**
 * How many of the given incidents involve each pupil in the term of `on`, for the pupils named; only those
 * at or over the threshold are returned.
 */
export function pupilsAtThreshold(
  incidents: readonly { occurredOn: string; involved: readonly { kind: string; pupilId?: string }[] }[],
  pupilIds: readonly string[],
  on: string,
  threshold: number,
): { pupilId: string; count: number; term: SchoolTerm }[] {
  const term = termOf(on);
  return pupilIds.flatMap((pupilId) => {
    const count = incidents.filter((i) => i.occurredOn >= term.from && i.occurredOn <= term.to && i.involved.some((p) => p.kind === 'pupil' && p.pupilId === pupilId)).length;
    return count >= threshold ? [{ pupilId, count, term }] : [];
  });
}

/** Reads the school's threshold setting: a whole number from 2 to 20. */
export function parseRepeatThreshold(value: string | undefined): { ok: true; threshold: number } | { ok: false; problem: string } {
  if (value === undefined || value.trim() === '') return { ok: true, threshold: DEFAULT_REPEAT_THRESHOLD };
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2 || n > 20) return { ok: false, problem: 'REPEAT_INCIDENT_THRESHOLD must be a whole number from 2 to 20 (incidents per pupil per term).' };
  return { ok: true, threshold: n };
}

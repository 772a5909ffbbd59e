/**
 * Dates and times the way a UK school writes them: `4 March 2026`, and clock times in Europe/London
 * (GMT in winter, BST in summer) whatever the server's own zone.
 *
 * Strings are assembled from `formatToParts`, never taken whole from `Intl`: en-GB punctuation (the comma
 * before a time, "at") differs between the ICU versions of Node 20 and Node 22.
 */

export const SCHOOL_TIME_ZONE = 'Europe/London';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD (so not 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** `2026-03-04` → `4 March 2026`. Anything that is not a calendar date is returned unchanged, so a bad row never hides. */
export function formatUkDate(isoDate: string): string {
  if (!isCalendarDate(isoDate)) return isoDate;
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

interface LondonParts {
  date: string;
  time: string;
}

// Built once: constructing an Intl.DateTimeFormat costs about 100 µs, which a 30,000-row roll paid per row.
const LONDON_CLOCK = new Intl.DateTimeFormat('en-GB', {
  timeZone: SCHOOL_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function londonParts(instant: Date): LondonParts {
  const parts = LONDON_CLOCK.formatToParts(instant);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return { date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}` };
}

/** The school's calendar date (YYYY-MM-DD) at an instant: what "today" means for a UK school. */
export function londonDate(instant: Date): string {
  return londonParts(instant).date;
}

/** An instant as `4 March 2026, 14:05` in Europe/London time (BST in summer). Invalid input comes back unchanged. */
export function formatUkDateTime(instant: Date | string): string {
  const value = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(value.getTime())) return String(instant);
  const { date, time } = londonParts(value);
  return `${formatUkDate(date)}, ${time}`;
}

/** An instant's Europe/London clock time, `14:05`. */
export function formatUkTime(instant: Date | string): string {
  const value = typeof instant === 'string' ? new Date(instant) : instant;
  return Number.isNaN(value.getTime()) ? String(instant) : londonParts(value).time;
}

export interface TypedDate {
  /** The date as YYYY-MM-DD. */
  isoDate: string;
  /** The date in words (`1 December 2026`), to repeat back to whoever typed it. */
  words: string;
  /**
   * True when the typed form could be read another way (`01/12/2026` is 1 December here, 12 January in
   * the US): the confirmation then repeats the date in words so a misreading is caught.
   */
  ambiguous: boolean;
}

/**
 * Reads a date as a UK school types it: `YYYY-MM-DD` (what the card's date picker sends), `D/M/YYYY`,
 * `D.M.YYYY`, `D-M-YYYY` (day first, always), a two-digit year (`4/3/26` → 2026), or `4 March 2026`.
 * Returns undefined when the text is not a calendar date.
 */
export function parseUkDate(text: string): TypedDate | undefined {
  const value = text.trim();
  if (isCalendarDate(value)) return { isoDate: value, words: formatUkDate(value), ambiguous: false };

  const numeric = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$/.exec(value);
  if (numeric) {
    const day = Number(numeric[1]);
    const month = Number(numeric[2]);
    const year = numeric[3]!.length === 2 ? 2000 + Number(numeric[3]) : Number(numeric[3]);
    const iso = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    if (!isCalendarDate(iso)) return undefined;
    // Read the other way round (month first), would it also be a date, and a different one?
    const ambiguous = day !== month && day <= 12 && month <= 12;
    return { isoDate: iso, words: formatUkDate(iso), ambiguous };
  }

  const worded = /^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$/.exec(value);
  if (worded) {
    const name = worded[2]!.toLowerCase();
    const index = MONTHS.findIndex((m) => m.toLowerCase() === name || (name.length >= 3 && m.toLowerCase().startsWith(name)));
    if (index < 0) return undefined;
    const iso = `${worded[3]}-${String(index + 1).padStart(2, '0')}-${String(Number(worded[1])).padStart(2, '0')}`;
    return isCalendarDate(iso) ? { isoDate: iso, words: formatUkDate(iso), ambiguous: false } : undefined;
  }
  return undefined;
}

/** Whole days from one calendar date to another (positive when `to` is later). */
export function daysBetweenDates(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * True when an incident date is more than a year before the school's today: a historic concern, which
 * the seed policies say to record like any other (flagged, never refused).
 */
export function isHistoricDate(occurredOn: string, today: string): boolean {
  if (!isCalendarDate(occurredOn) || !isCalendarDate(today)) return false;
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  // A year ago today; 29 February falls back to 28 February.
  const lastYear = new Date(Date.UTC(y - 1, m - 1, d));
  if (lastYear.getUTCMonth() !== m - 1) lastYear.setUTCDate(0);
  return occurredOn < lastYear.toISOString().slice(0, 10);
}

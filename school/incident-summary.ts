import { fourCOf, INCIDENT_TYPES, type FourC, type IncidentType } from './incident-types';

/**
 * Anonymous incident aggregates for governors, as pure functions.
 *
 * Counters are kept per calendar month of the incident (`occurredOn`), so the cost of a summary grows with
 * the number of months, not incidents. An incident closed later still counts in the month it happened.
 *
 * Academic years start on 1 September. Terms: autumn = September–December, spring = January–April,
 * summer = May–August. Easter moves, so April is always counted as spring (an approximation we accept:
 * governors compare like with like from year to year).
 */
export interface MonthCounters {
  /** `YYYY-MM` */
  month: string;
  total: number;
  byType: Partial<Record<IncidentType, number>>;
  byFourC: Partial<Record<FourC, number>>;
  byYearGroup: Record<string, number>;
  closed: number;
  /** Whole days from report to close → number of incidents, for the median. */
  closeDays: Record<string, number>;
  /** Incidents escalated (counted once per incident per kind). */
  escalated: Record<EscalationKind, number>;
}

export type EscalationKind = 'dsl' | 'police' | 'lado';
export const ESCALATION_KINDS: readonly EscalationKind[] = ['dsl', 'police', 'lado'];

/** Response actions that count as an escalation when recorded on an incident's chronology. */
export const ESCALATION_ACTIONS: Readonly<Record<string, EscalationKind>> = {
  'refer-dsl': 'dsl',
  'refer-police': 'police',
  'refer-lado': 'lado',
};

export type Term = 'autumn' | 'spring' | 'summer';
export const TERMS: readonly Term[] = ['autumn', 'spring', 'summer'];

/** Shown instead of a count from 1 to 2, so that no pupil can be identified. */
export const SUPPRESSED = 'fewer than 3';
export type ShownCount = number | typeof SUPPRESSED;

export function emptyMonth(month: string): MonthCounters {
  return { month, total: 0, byType: {}, byFourC: {}, byYearGroup: {}, closed: 0, closeDays: {}, escalated: { dsl: 0, police: 0, lado: 0 } };
}

export function monthOf(isoDate: string): string {
  return isoDate.slice(0, 7);
}

/** The academic year a month belongs to, by its starting calendar year (2025 for 2025/26). */
export function academicYearOf(month: string): number {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return m >= 9 ? year : year - 1;
}

export function academicYearLabel(startYear: number): string {
  return `${startYear}/${String((startYear + 1) % 100).padStart(2, '0')}`;
}

export function termOf(month: string): Term {
  const m = Number(month.slice(5, 7));
  if (m >= 9) return 'autumn';
  if (m <= 4) return 'spring';
  return 'summer';
}

/** The 24 months of the current and previous academic years, oldest first. */
export function summaryMonths(now: Date): string[] {
  const current = academicYearOf(now.toISOString().slice(0, 7));
  const months: string[] = [];
  for (let year = current - 1; year <= current; year++) {
    for (let i = 0; i < 12; i++) {
      const m = ((8 + i) % 12) + 1;
      months.push(`${m >= 9 ? year : year + 1}-${String(m).padStart(2, '0')}`);
    }
  }
  return months;
}

export interface IncidentFacts {
  type: IncidentType;
  yearGroups: readonly string[];
}

export function addIncident(counters: MonthCounters, incident: IncidentFacts): MonthCounters {
  const next = structuredClone(counters);
  next.total += 1;
  next.byType[incident.type] = (next.byType[incident.type] ?? 0) + 1;
  const c = fourCOf(incident.type);
  next.byFourC[c] = (next.byFourC[c] ?? 0) + 1;
  for (const yearGroup of new Set(incident.yearGroups)) next.byYearGroup[yearGroup] = (next.byYearGroup[yearGroup] ?? 0) + 1;
  return next;
}

export function addClose(counters: MonthCounters, days: number): MonthCounters {
  const next = structuredClone(counters);
  next.closed += 1;
  const key = String(Math.max(0, Math.floor(days)));
  next.closeDays[key] = (next.closeDays[key] ?? 0) + 1;
  return next;
}

export function addEscalation(counters: MonthCounters, kind: EscalationKind): MonthCounters {
  const next = structuredClone(counters);
  next.escalated[kind] += 1;
  return next;
}

export function daysBetween(fromIso: string, toIso: string): number {
  return Math.floor((Date.parse(toIso) - Date.parse(fromIso)) / 86_400_000);
}

export function suppress(count: number): ShownCount {
  return count >= 1 && count <= 2 ? SUPPRESSED : count;
}

export interface CountRow {
  key: string;
  label: string;
  count: ShownCount;
}

export interface IncidentSummaryFigures {
  academicYears: string[];
  totals: { incidents: ShownCount; open: ShownCount; closed: ShownCount; medianDaysToClose: number | null };
  byType: CountRow[];
  byFourC: CountRow[];
  byMonth: CountRow[];
  byTerm: CountRow[];
  byYearGroup: CountRow[];
  escalated: { kind: EscalationKind; label: string; count: ShownCount; percent: number | typeof SUPPRESSED | null }[];
}

const FOUR_C_LABELS: Record<FourC, string> = { content: 'Content', contact: 'Contact', conduct: 'Conduct', commerce: 'Commerce' };
const ESCALATION_LABELS: Record<EscalationKind, string> = { dsl: 'Designated Safeguarding Lead', police: 'Police (or CEOP / IWF)', lado: 'LADO' };
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Median of a days histogram, or null when nothing has closed. */
export function medianFromHistogram(histogram: Record<string, number>): number | null {
  const entries = Object.entries(histogram).map(([d, n]) => [Number(d), n] as const).filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const valueAt = (index: number): number => {
    let seen = 0;
    for (const [d, n] of entries) {
      seen += n;
      if (index < seen) return d;
    }
    return entries[entries.length - 1]![0];
  };
  return total % 2 === 1 ? valueAt((total - 1) / 2) : (valueAt(total / 2 - 1) + valueAt(total / 2)) / 2;
}

/** Summary figures over the current and previous academic years, with every count from 1 to 2 suppressed. */
export function summariseMonths(stored: readonly MonthCounters[], now: Date): IncidentSummaryFigures {
  const months = summaryMonths(now);
  const byMonth = new Map(stored.map((m) => [m.month, m]));
  const inWindow = months.map((m) => byMonth.get(m) ?? emptyMonth(m));
  const sum = (pick: (m: MonthCounters) => number): number => inWindow.reduce((s, m) => s + pick(m), 0);
  const total = sum((m) => m.total);
  const closed = sum((m) => m.closed);
  const closeDays: Record<string, number> = {};
  for (const m of inWindow) for (const [d, n] of Object.entries(m.closeDays)) closeDays[d] = (closeDays[d] ?? 0) + n;
  const yearGroups = [...new Set(inWindow.flatMap((m) => Object.keys(m.byYearGroup)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const currentYear = academicYearOf(months[months.length - 1]!);
  return {
    academicYears: [academicYearLabel(currentYear - 1), academicYearLabel(currentYear)],
    totals: { incidents: suppress(total), open: suppress(total - closed), closed: suppress(closed), medianDaysToClose: medianFromHistogram(closeDays) },
    byType: INCIDENT_TYPES.map((t) => ({ key: t.id, label: t.label, count: suppress(sum((m) => m.byType[t.id] ?? 0)) })),
    byFourC: (Object.keys(FOUR_C_LABELS) as FourC[]).map((c) => ({ key: c, label: FOUR_C_LABELS[c], count: suppress(sum((m) => m.byFourC[c] ?? 0)) })),
    byMonth: inWindow.map((m) => ({ key: m.month, label: `${MONTH_NAMES[Number(m.month.slice(5, 7)) - 1]} ${m.month.slice(0, 4)}`, count: suppress(m.total) })),
    byTerm: [currentYear - 1, currentYear].flatMap((year) =>
      TERMS.map((term) => ({
        key: `${year}-${term}`,
        label: `${term[0]!.toUpperCase()}${term.slice(1)} ${academicYearLabel(year)}`,
        count: suppress(inWindow.filter((m) => academicYearOf(m.month) === year && termOf(m.month) === term).reduce((s, m) => s + m.total, 0)),
      })),
    ),
    byYearGroup: yearGroups.map((y) => ({ key: y, label: y, count: suppress(sum((m) => m.byYearGroup[y] ?? 0)) })),
    escalated: ESCALATION_KINDS.map((kind) => {
      const count = sum((m) => m.escalated[kind]);
      const shown = suppress(count);
      return { kind, label: ESCALATION_LABELS[kind], count: shown, percent: total === 0 ? null : shown === SUPPRESSED ? SUPPRESSED : Math.round((count / total) * 100) };
    }),
  };
}

import { suppressCells, type CellRelation } from './complementary-suppression';
import { rolesThatMayView, type IncidentAudience } from './incident-routing';
import { fourCOf, INCIDENT_TYPES, type FourC, type IncidentType } from './incident-types';
import type { Role } from './roles';

/**
 * Anonymous incident aggregates for governors, as pure functions.
 *
 * Counters are kept per calendar month of the incident (`occurredOn`), so the cost of a summary grows with
 * the number of months, not incidents. An incident closed later still counts in the month it happened.
 *
 * Academic years start on 1 September. Terms: autumn = September–December, spring = January–April,
 * summer = May–August. Easter moves, so April is always counted as spring (an approximation we accept:
 * governors compare like with like from year to year).
 *
 * Allegations about adults (`staff-concern`, `headteacher-concern`) are never counted: the head, the DSL or
 * the chair could otherwise find one about themselves by subtracting their own triage list from the totals.
 * They are reported to the chair and the LADO instead. Child-protection concerns are counted, and kept apart
 * in `childProtection` as well, so that a coordinator (who cannot list them) is shown only what they can list.
 */
export interface MonthCounters extends ScopeCounters {
  /** `YYYY-MM` */
  month: string;
  /** The child-protection share of every counter below (already included in them). */
  childProtection?: ScopeCounters;
}

export interface ScopeCounters {
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

/**
 * Shown instead of a hidden count: every count from 1 to 2 (so that no pupil can be identified), and the
 * complementary counts hidden so that those cannot be worked out by subtraction. One label for both, because
 * two labels would tell a reader which hidden cells are small.
 */
export const SUPPRESSED = 'hidden';
export type ShownCount = number | typeof SUPPRESSED;
/** Counts below this are hidden. */
export const SUPPRESSION_THRESHOLD = 3;

/** Incident audiences the summary counts; allegations about adults never are (see MonthCounters). */
export const COUNTED_AUDIENCES: readonly IncidentAudience[] = ['standard', 'child-protection'];

export function isCountedInSummary(audience: IncidentAudience | undefined): boolean {
  return audience === undefined || COUNTED_AUDIENCES.includes(audience);
}

/**
 * The audiences a viewer's summary counts: the ones their own triage list shows, when they have a list
 * (so the summary minus their list is always zero), otherwise every counted audience (governors, the chair).
 */
export function summaryAudiencesFor(roles: ReadonlySet<Role>): IncidentAudience[] {
  const listed = COUNTED_AUDIENCES.filter((a) => rolesThatMayView(a).some((role) => roles.has(role)));
  return listed.length > 0 ? listed : [...COUNTED_AUDIENCES];
}

function emptyScope(): ScopeCounters {
  return { total: 0, byType: {}, byFourC: {}, byYearGroup: {}, closed: 0, closeDays: {}, escalated: { dsl: 0, police: 0, lado: 0 } };
}

export function emptyMonth(month: string): MonthCounters {
  return { month, ...emptyScope() };
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
  /** Absent means `standard`. */
  audience?: IncidentAudience;
}

/** Applies `change` to the counters, and to the child-protection share too for a child-protection concern; allegations about adults change nothing. */
function applyTo(counters: MonthCounters, audience: IncidentAudience | undefined, change: (scope: ScopeCounters) => void): MonthCounters {
  if (!isCountedInSummary(audience)) return counters;
  const next = structuredClone(counters);
  change(next);
  if (audience === 'child-protection') {
    next.childProtection ??= emptyScope();
    change(next.childProtection);
  }
  return next;
}

export function addIncident(counters: MonthCounters, incident: IncidentFacts): MonthCounters {
  return applyTo(counters, incident.audience, (next) => {
    next.total += 1;
    next.byType[incident.type] = (next.byType[incident.type] ?? 0) + 1;
    const c = fourCOf(incident.type);
    next.byFourC[c] = (next.byFourC[c] ?? 0) + 1;
    for (const yearGroup of new Set(incident.yearGroups)) next.byYearGroup[yearGroup] = (next.byYearGroup[yearGroup] ?? 0) + 1;
  });
}

export function addClose(counters: MonthCounters, days: number, audience?: IncidentAudience): MonthCounters {
  return applyTo(counters, audience, (next) => {
    next.closed += 1;
    const key = String(Math.max(0, Math.floor(days)));
    next.closeDays[key] = (next.closeDays[key] ?? 0) + 1;
  });
}

export function addEscalation(counters: MonthCounters, kind: EscalationKind, audience?: IncidentAudience): MonthCounters {
  return applyTo(counters, audience, (next) => {
    next.escalated[kind] += 1;
  });
}

/** One month's counters for the given audiences (the stored counters hold standard + child protection). */
export function countersFor(counters: MonthCounters, audiences: readonly IncidentAudience[]): MonthCounters {
  const withCp = audiences.includes('child-protection');
  const withStandard = audiences.includes('standard');
  const cp = counters.childProtection ?? emptyScope();
  if (withCp && withStandard) return counters;
  const pick = (all: number, cpPart: number): number => (withStandard ? all - cpPart : cpPart);
  const record = <K extends string>(all: Partial<Record<K, number>>, cpPart: Partial<Record<K, number>>): Partial<Record<K, number>> => {
    const out: Partial<Record<K, number>> = {};
    for (const key of new Set([...Object.keys(all), ...Object.keys(cpPart)]) as Set<K>) {
      const n = pick(all[key] ?? 0, cpPart[key] ?? 0);
      if (n > 0) out[key] = n;
    }
    return out;
  };
  return {
    month: counters.month,
    total: pick(counters.total, cp.total),
    byType: record(counters.byType, cp.byType),
    byFourC: record(counters.byFourC, cp.byFourC),
    byYearGroup: record(counters.byYearGroup, cp.byYearGroup) as Record<string, number>,
    closed: pick(counters.closed, cp.closed),
    closeDays: record(counters.closeDays, cp.closeDays) as Record<string, number>,
    escalated: { dsl: pick(counters.escalated.dsl, cp.escalated.dsl), police: pick(counters.escalated.police, cp.escalated.police), lado: pick(counters.escalated.lado, cp.escalated.lado) },
  };
}

export function daysBetween(fromIso: string, toIso: string): number {
  return Math.floor((Date.parse(toIso) - Date.parse(fromIso)) / 86_400_000);
}

/** Primary suppression of a lone count (one with no published relation to any other). */
export function suppress(count: number): ShownCount {
  return count >= 1 && count < SUPPRESSION_THRESHOLD ? SUPPRESSED : count;
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

/** The cell ids the summary publishes, and the additive relations between them (used by suppression and by the disclosure proof). */
export interface SummaryCells {
  values: Map<string, number>;
  relations: CellRelation[];
}

export const TOTAL_CELL = 'total';

/** Every published count as a cell, with the relations a reader could subtract along. */
export function summaryCells(inWindow: readonly MonthCounters[], currentYear: number): SummaryCells {
  const values = new Map<string, number>();
  const relations: CellRelation[] = [];
  const sum = (pick: (m: MonthCounters) => number): number => inWindow.reduce((s, m) => s + pick(m), 0);
  values.set(TOTAL_CELL, sum((m) => m.total));
  values.set('closed', sum((m) => m.closed));
  values.set('open', values.get(TOTAL_CELL)! - values.get('closed')!);
  relations.push({ parent: TOTAL_CELL, children: ['open', 'closed'] });
  for (const t of INCIDENT_TYPES) values.set(`type:${t.id}`, sum((m) => m.byType[t.id] ?? 0));
  relations.push({ parent: TOTAL_CELL, children: INCIDENT_TYPES.map((t) => `type:${t.id}`) });
  for (const c of FOUR_CS) {
    values.set(`fourC:${c}`, sum((m) => m.byFourC[c] ?? 0));
    relations.push({ parent: `fourC:${c}`, children: INCIDENT_TYPES.filter((t) => t.fourC === c).map((t) => `type:${t.id}`) });
  }
  relations.push({ parent: TOTAL_CELL, children: FOUR_CS.map((c) => `fourC:${c}`) });
  for (const m of inWindow) values.set(`month:${m.month}`, m.total);
  relations.push({ parent: TOTAL_CELL, children: inWindow.map((m) => `month:${m.month}`) });
  const terms: string[] = [];
  for (const year of [currentYear - 1, currentYear]) {
    for (const term of TERMS) {
      const key = `term:${year}-${term}`;
      const months = inWindow.filter((m) => academicYearOf(m.month) === year && termOf(m.month) === term);
      values.set(key, months.reduce((s, m) => s + m.total, 0));
      relations.push({ parent: key, children: months.map((m) => `month:${m.month}`) });
      terms.push(key);
    }
  }
  relations.push({ parent: TOTAL_CELL, children: terms });
  // An incident may name several year groups or none, so year groups need not add up to the total. We assume
  // the worst case, that a reader knows they do (every incident names exactly one), and protect against that.
  const yearGroups = yearGroupsOf(inWindow);
  for (const y of yearGroups) values.set(`yearGroup:${y}`, sum((m) => m.byYearGroup[y] ?? 0));
  if (yearGroups.length > 0) relations.push({ parent: TOTAL_CELL, children: yearGroups.map((y) => `yearGroup:${y}`) });
  // Escalations overlap (one incident may go to the DSL and the police) and relate to nothing else, so each
  // is hidden on its own; its share is hidden with it.
  for (const kind of ESCALATION_KINDS) values.set(`escalated:${kind}`, sum((m) => m.escalated[kind]));
  return { values, relations };
}

const FOUR_CS = Object.keys(FOUR_C_LABELS) as FourC[];

function yearGroupsOf(inWindow: readonly MonthCounters[]): string[] {
  return [...new Set(inWindow.flatMap((m) => Object.entries(m.byYearGroup).filter(([, n]) => n > 0).map(([y]) => y)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/**
 * Summary figures over the current and previous academic years, for the given audiences. Counts from 1 to 2
 * are hidden, and so are complementary counts, so that no hidden count can be worked out from the totals or
 * the other breakdowns. The median days to close is hidden when fewer than 3 incidents have closed.
 */
export function summariseMonths(stored: readonly MonthCounters[], now: Date, audiences: readonly IncidentAudience[] = COUNTED_AUDIENCES): IncidentSummaryFigures {
  const months = summaryMonths(now);
  const byMonth = new Map(stored.map((m) => [m.month, m]));
  const inWindow = months.map((m) => countersFor(byMonth.get(m) ?? emptyMonth(m), audiences));
  const currentYear = academicYearOf(months[months.length - 1]!);
  const { values, relations } = summaryCells(inWindow, currentYear);
  const hidden = suppressCells(values, relations, { threshold: SUPPRESSION_THRESHOLD, avoid: new Set([TOTAL_CELL]) });
  const shown = (cell: string): ShownCount => (hidden.has(cell) ? SUPPRESSED : values.get(cell)!);
  const closeDays: Record<string, number> = {};
  for (const m of inWindow) for (const [d, n] of Object.entries(m.closeDays)) closeDays[d] = (closeDays[d] ?? 0) + n;
  const total = values.get(TOTAL_CELL)!;
  return {
    academicYears: [academicYearLabel(currentYear - 1), academicYearLabel(currentYear)],
    totals: {
      incidents: shown(TOTAL_CELL),
      open: shown('open'),
      closed: shown('closed'),
      medianDaysToClose: values.get('closed')! < SUPPRESSION_THRESHOLD ? null : medianFromHistogram(closeDays),
    },
    byType: INCIDENT_TYPES.map((t) => ({ key: t.id, label: t.label, count: shown(`type:${t.id}`) })),
    byFourC: FOUR_CS.map((c) => ({ key: c, label: FOUR_C_LABELS[c], count: shown(`fourC:${c}`) })),
    byMonth: inWindow.map((m) => ({ key: m.month, label: `${MONTH_NAMES[Number(m.month.slice(5, 7)) - 1]} ${m.month.slice(0, 4)}`, count: shown(`month:${m.month}`) })),
    byTerm: [currentYear - 1, currentYear].flatMap((year) =>
      TERMS.map((term) => ({ key: `${year}-${term}`, label: `${term[0]!.toUpperCase()}${term.slice(1)} ${academicYearLabel(year)}`, count: shown(`term:${year}-${term}`) })),
    ),
    byYearGroup: yearGroupsOf(inWindow).map((y) => ({ key: y, label: y, count: shown(`yearGroup:${y}`) })),
    escalated: ESCALATION_KINDS.map((kind) => {
      const count = values.get(`escalated:${kind}`)!;
      const shownCount = suppress(count);
      const percent = total === 0 ? null : shownCount === SUPPRESSED || hidden.has(TOTAL_CELL) ? SUPPRESSED : Math.round((count / total) * 100);
      return { kind, label: ESCALATION_LABELS[kind], count: shownCount, percent };
    }),
  };
}

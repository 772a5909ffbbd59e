import type { AuditStore } from '../records/audit-store';
import { addCounters, differenceOf, type IncidentAggregateStore } from '../records/incident-aggregate-store';
import { pendingCountKey, type ChronologyEvent, type IncidentRecord, type IncidentStore, type PendingCount } from '../records/incident-store';
import type { PendingCountStore } from '../records/pending-count-store';
import {
  addClose,
  addEscalation,
  addIncident,
  daysBetween,
  emptyMonth,
  ESCALATION_ACTIONS,
  isCountedInSummary,
  monthOf,
  summariseMonths,
  summaryAudiencesFor,
  summaryMonths,
  suppress,
  SUPPRESSED,
  SUPPRESSION_THRESHOLD,
  type EscalationKind,
  type ShownCount,
  type IncidentSummaryFigures,
  type MonthCounters,
} from '../school/incident-summary';
import { hasAnyRole, type Principal, type Role } from '../school/roles';
import { suppressCells } from '../school/complementary-suppression';

/** Who may read the governors' summary. */
export const SUMMARY_ROLES: readonly Role[] = ['governor', 'chair', 'coordinator', 'dsl', 'headteacher'];

/** AUP coverage as the AUP feature reports it (usecases/aup-coverage.ts getAupCoverageSummary). */
export interface AupCoverageFigures {
  documents: { title: string; version: number; percent: number; members?: number; acknowledged?: number; groups: { group: string; percent: number; members?: number; acknowledged?: number }[] }[];
}

/** One document's coverage as governors see it: per audience, with any share that would single someone out hidden. */
export interface ShownAupCoverage {
  title: string;
  version: number;
  percent: number | typeof SUPPRESSED;
  groups: { group: string; percent: number | typeof SUPPRESSED }[];
}

/** Pupil-policy compliance as the enforcement feature reports it (getLatestComplianceSummary). */
export interface ComplianceFigures {
  total: number;
  compliant: number;
  compliantShare: number;
  finishedAt: string;
}

/** Policy review, annual audit and filtering review, with the named lead and governor (a role title, not a person). */
export interface GovernanceFigures {
  policyReviewDue: string | null;
  annualAudit: { status: 'done' | 'due'; completedOn: string | null };
  /** The DfE filtering and monitoring review: done when answered, with all four participants and signed off; then due again a year later. */
  filteringReview: { status: 'done' | 'due'; completedOn: string | null; nextDue: string | null };
  lead: string | null;
  governor: string | null;
}

/** Online-safety training of the people the register tracks (staff and governor roles). */
export interface TrainingFigures {
  people: number;
  current: number;
}

/** Filtering change and exception requests made this academic year. */
export interface FilteringFigures {
  approved: number;
  refused: number;
  waiting: number;
  dueForReversal: number;
}

/** Photo and video consent for pupils on the roll, per area (usecases/consent-register.ts countConsentCoverage). */
export interface ConsentFigures {
  pupils: number;
  areas: { label: string; given: number; refused: number; withdrawn: number; notRecorded: number }[];
}

/** One consent area as governors see it. */
export interface ShownConsentArea {
  label: string;
  given: ShownCount;
  refused: ShownCount;
  withdrawn: ShownCount;
  notRecorded: ShownCount;
  givenPercent: number | typeof SUPPRESSED;
}

/** Shapes countConsentCoverage's counts for the summary: the five areas of the policies, in order, by label. */
export function consentFigures(counted: { pupils: number; counts: Record<string, Record<'given' | 'refused' | 'withdrawn' | 'not-recorded', number>> }, label: (area: string) => string): ConsentFigures {
  return {
    pupils: counted.pupils,
    areas: Object.entries(counted.counts).map(([area, c]) => ({ label: label(area), given: c.given, refused: c.refused, withdrawn: c.withdrawn, notRecorded: c['not-recorded'] })),
  };
}

/** Other features' figures; each is optional until that feature exists, and the summary says "not available yet". */
export interface SummaryProviders {
  aupCoverage?: (schoolId: string) => Promise<AupCoverageFigures | undefined>;
  compliance?: (schoolId: string) => Promise<ComplianceFigures | undefined>;
  governance?: (schoolId: string) => Promise<GovernanceFigures | undefined>;
  training?: (schoolId: string) => Promise<TrainingFigures | undefined>;
  filtering?: (schoolId: string) => Promise<FilteringFigures | undefined>;
  consent?: (schoolId: string) => Promise<ConsentFigures | undefined>;
}

type Optional<T> = { available: true; figures: T } | { available: false; message: string };

export interface IncidentSummary extends IncidentSummaryFigures {
  generatedAt: string;
  /** What the counts cover: child-protection concerns only for viewers whose own list shows them; allegations about adults never. */
  counts: { childProtection: boolean; allegationsAboutAdults: false };
  aupCoverage: Optional<{ documents: ShownAupCoverage[] }>;
  compliance: Optional<{ compliantPercent: number | typeof SUPPRESSED; pupils: ShownCount; checkedOn: string }>;
  governance: Optional<GovernanceFigures>;
  training: Optional<{ people: ShownCount; current: ShownCount; notCurrent: ShownCount; currentPercent: number | typeof SUPPRESSED }>;
  filtering: Optional<{ requests: ShownCount; approved: ShownCount; refused: ShownCount; waiting: ShownCount; dueForReversal: ShownCount }>;
  consent: Optional<{ pupils: ShownCount; areas: ShownConsentArea[] }>;
}

export interface SummaryDependencies {
  schoolId: string;
  aggregates: Pick<IncidentAggregateStore, 'listMonths'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  clock: () => Date;
  providers: SummaryProviders;
}

const NOT_YET = 'not available yet';

/** The governors' summary: aggregates only, from per-month counters (cost grows with months, not incidents). */
export async function getIncidentSummary(deps: SummaryDependencies, principal: Principal): Promise<{ kind: 'forbidden' } | { kind: 'ok'; summary: IncidentSummary }> {
  if (!hasAnyRole(principal, ...SUMMARY_ROLES)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'summary.read', target: 'incident-summary', outcome: 'denied' });
    return { kind: 'forbidden' };
  }
  const now = deps.clock();
  const months = summaryMonths(now);
  const [stored, aup, compliance, governance, training, filtering, consent] = await Promise.all([
    deps.aggregates.listMonths(deps.schoolId, months[0]!, months[months.length - 1]!),
    optional(deps.providers.aupCoverage, deps.schoolId),
    optional(deps.providers.compliance, deps.schoolId),
    optional(deps.providers.governance, deps.schoolId),
    optional(deps.providers.training, deps.schoolId),
    optional(deps.providers.filtering, deps.schoolId),
    optional(deps.providers.consent, deps.schoolId),
  ]);
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'summary.read', target: 'incident-summary', outcome: 'succeeded' });
  const audiences = summaryAudiencesFor(principal.roles);
  return {
    kind: 'ok',
    summary: {
      generatedAt: now.toISOString(),
      counts: { childProtection: audiences.includes('child-protection'), allegationsAboutAdults: false },
      ...summariseMonths(stored, now, audiences),
      // Whitelisted fields only: never a document id, run id or person.
      aupCoverage: aup ? { available: true, figures: { documents: aup.documents.map(shownAupCoverage) } } : { available: false, message: NOT_YET },
      compliance: compliance
        ? { available: true, figures: shownCompliance(compliance) }
        : { available: false, message: NOT_YET },
      governance: governance ? { available: true, figures: governance } : { available: false, message: NOT_YET },
      training: training ? { available: true, figures: shownTraining(training) } : { available: false, message: NOT_YET },
      filtering: filtering ? { available: true, figures: shownFiltering(filtering) } : { available: false, message: NOT_YET },
      consent: consent ? { available: true, figures: shownConsent(consent) } : { available: false, message: NOT_YET },
    },
  };
}

/**
 * A document's AUP coverage per audience. Governors know how many people hold each role, so a share tells them
 * how many have not acknowledged: a share is hidden when 1 or 2 have, or have not, and complements are hidden
 * so that none can be worked out from the document's total (as if no one held two of its roles).
 */
export function shownAupCoverage(d: AupCoverageFigures['documents'][number]): ShownAupCoverage {
  if (d.members === undefined || d.acknowledged === undefined) return { title: d.title, version: d.version, percent: SUPPRESSED, groups: d.groups.map((g) => ({ group: g.group, percent: SUPPRESSED })) };
  const values = new Map<string, number>([['total', d.members], ['acked', d.acknowledged], ['owed', d.members - d.acknowledged]]);
  const groups = d.groups.filter((g) => g.members !== undefined && g.acknowledged !== undefined);
  for (const g of groups) {
    values.set(`${g.group}:total`, g.members!);
    values.set(`${g.group}:acked`, g.acknowledged!);
    values.set(`${g.group}:owed`, g.members! - g.acknowledged!);
  }
  const relations = [
    { parent: 'total', children: ['acked', 'owed'] },
    ...groups.map((g) => ({ parent: `${g.group}:total`, children: [`${g.group}:acked`, `${g.group}:owed`] })),
    ...(groups.length > 0 ? [{ parent: 'acked', children: groups.map((g) => `${g.group}:acked`) }, { parent: 'owed', children: groups.map((g) => `${g.group}:owed`) }] : []),
  ];
  // Headcounts are public knowledge (everyone knows how many staff there are), so they are never the complement.
  const hidden = suppressCells(values, relations, { threshold: SUPPRESSION_THRESHOLD, avoid: new Set([...values.keys()].filter((k) => k.endsWith('total'))) });
  const share = (prefix: string, percent: number): number | typeof SUPPRESSED => (hidden.has(`${prefix}acked`) || hidden.has(`${prefix}owed`) ? SUPPRESSED : percent);
  return {
    title: d.title,
    version: d.version,
    percent: share('', d.percent),
    groups: d.groups.map((g) => ({ group: g.group, percent: groups.includes(g) ? share(`${g.group}:`, g.percent) : SUPPRESSED })),
  };
}

/** Pupil-policy compliance: the share is hidden when 1 or 2 accounts are, or are not, compliant (it would single a pupil out). */
export function shownCompliance(c: ComplianceFigures): { compliantPercent: number | typeof SUPPRESSED; pupils: ShownCount; checkedOn: string } {
  const drifted = c.total - c.compliant;
  const small = (n: number): boolean => n >= 1 && n < SUPPRESSION_THRESHOLD;
  return { compliantPercent: small(c.compliant) || small(drifted) ? SUPPRESSED : Math.round(c.compliantShare * 100), pupils: suppress(c.total), checkedOn: c.finishedAt.slice(0, 10) };
}

/**
 * Training coverage with small numbers hidden: trained + not trained = people, so when either part is 1 or 2
 * both parts and the share are hidden (the total alone is shown), and no one untrained can be singled out.
 */
export function shownTraining(f: TrainingFigures): { people: ShownCount; current: ShownCount; notCurrent: ShownCount; currentPercent: number | typeof SUPPRESSED } {
  const values = new Map([['people', f.people], ['current', f.current], ['notCurrent', f.people - f.current]]);
  const hidden = suppressCells(values, [{ parent: 'people', children: ['current', 'notCurrent'] }], { threshold: SUPPRESSION_THRESHOLD, avoid: new Set(['people']) });
  const shown = (k: string): ShownCount => (hidden.has(k) ? SUPPRESSED : values.get(k)!);
  return { people: shown('people'), current: shown('current'), notCurrent: shown('notCurrent'), currentPercent: hidden.has('current') || hidden.has('people') || f.people === 0 ? SUPPRESSED : Math.round((f.current / f.people) * 100) };
}

/** Filtering requests this year by outcome, with counts of 1 or 2 hidden and complements so none can be worked out. */
export function shownFiltering(f: FilteringFigures): { requests: ShownCount; approved: ShownCount; refused: ShownCount; waiting: ShownCount; dueForReversal: ShownCount } {
  const values = new Map([['requests', f.approved + f.refused + f.waiting], ['approved', f.approved], ['refused', f.refused], ['waiting', f.waiting], ['dueForReversal', f.dueForReversal]]);
  const hidden = suppressCells(values, [{ parent: 'requests', children: ['approved', 'refused', 'waiting'] }], { threshold: SUPPRESSION_THRESHOLD, avoid: new Set(['requests']) });
  const shown = (k: string): ShownCount => (hidden.has(k) ? SUPPRESSED : values.get(k)!);
  return { requests: shown('requests'), approved: shown('approved'), refused: shown('refused'), waiting: shown('waiting'), dueForReversal: shown('dueForReversal') };
}

/**
 * Consent per area with small numbers hidden. In each area given + refused + withdrawn + not recorded = pupils on
 * the roll, a number governors know, so a count of 1 or 2 is hidden with a complement in its area and none can be
 * worked out; the share given is hidden with the count given. Areas are not added to one another (each counts
 * every pupil once), so they are separate relations sharing the roll's total.
 */
export function shownConsent(f: ConsentFigures): { pupils: ShownCount; areas: ShownConsentArea[] } {
  const STATUSES = ['given', 'refused', 'withdrawn', 'notRecorded'] as const;
  const values = new Map<string, number>([['pupils', f.pupils]]);
  f.areas.forEach((a, i) => STATUSES.forEach((s) => values.set(`${i}:${s}`, a[s])));
  const relations = f.areas.map((_a, i) => ({ parent: 'pupils', children: STATUSES.map((s) => `${i}:${s}`) }));
  const hidden = suppressCells(values, relations, { threshold: SUPPRESSION_THRESHOLD, avoid: new Set(['pupils']) });
  // A roll of 1 or 2 is known to anyone in the school, and any zero shown beside it would tell the rest: hide all.
  if (f.pupils > 0 && f.pupils < SUPPRESSION_THRESHOLD) for (const key of values.keys()) hidden.add(key);
  const shown = (k: string): ShownCount => (hidden.has(k) ? SUPPRESSED : values.get(k)!);
  return {
    pupils: shown('pupils'),
    areas: f.areas.map((a, i) => ({
      label: a.label,
      given: shown(`${i}:given`),
      refused: shown(`${i}:refused`),
      withdrawn: shown(`${i}:withdrawn`),
      notRecorded: shown(`${i}:notRecorded`),
      givenPercent: hidden.has(`${i}:given`) || hidden.has('pupils') || f.pupils === 0 ? SUPPRESSED : Math.round((a.given / f.pupils) * 100),
    })),
  };
}

async function optional<T>(provider: ((schoolId: string) => Promise<T | undefined>) | undefined, schoolId: string): Promise<T | undefined> {
  if (!provider) return undefined;
  try {
    return await provider(schoolId);
  } catch {
    return undefined;
  }
}

export type AggregateWriter = Pick<IncidentAggregateStore, 'updateMonth'>;

/**
 * Stores a count change at once, keyed to its pending row so that it counts once, whoever sends it (this write,
 * its retry, or the catch-up after a crash). Nothing to do for a change that counts nowhere.
 */
export async function storeCount(aggregates: AggregateWriter, schoolId: string, count: PendingCount | undefined): Promise<void> {
  if (!count) return;
  await aggregates.updateMonth(schoolId, count.month, (m) => addCounters(m, count.delta), { onceKey: count.key });
}

/**
 * What a newly recorded incident adds to its month (chronology line 1). Child-protection incidents count as
 * escalated to the DSL at once, because the DSL is alerted to them. Allegations about adults count nowhere (see
 * school/incident-summary.ts), so they cost no write.
 */
export function countForNewIncident(incident: Pick<IncidentRecord, 'reference' | 'type' | 'yearGroups' | 'occurredOn' | 'audience'>): PendingCount | undefined {
  if (!isCountedInSummary(incident.audience)) return undefined;
  const month = monthOf(incident.occurredOn);
  const added = addIncident(emptyMonth(month), incident);
  return { key: pendingCountKey(incident.reference, 1), month, delta: incident.audience === 'child-protection' ? addEscalation(added, 'dsl', incident.audience) : added };
}

/** The kind of escalation a referral counts as (the response matrix's actions of the same kind). */
const REFERRAL_ESCALATIONS: Readonly<Record<string, EscalationKind>> = { dsl: 'dsl', lado: 'lado', police: 'police', ceop: 'police', iwf: 'police' };

/**
 * The escalation a new action or referral adds, if it is the first of its kind for the incident (and not already
 * counted for child protection). Earlier escalations are the chronology's matrix actions and the incident's referrals.
 */
export function newEscalation(
  incident: Pick<IncidentRecord, 'audience'> & { referrals?: readonly { to: string }[] | undefined },
  earlier: readonly ChronologyEvent[],
  step: { action: string } | { referralTo: string },
): EscalationKind | undefined {
  const kind = 'action' in step ? ESCALATION_ACTIONS[step.action] : REFERRAL_ESCALATIONS[step.referralTo];
  if (!kind) return undefined;
  if (kind === 'dsl' && incident.audience === 'child-protection') return undefined;
  if (earlier.some((e) => e.kind === 'action' && ESCALATION_ACTIONS[e.what] === kind)) return undefined;
  if ((incident.referrals ?? []).some((r) => REFERRAL_ESCALATIONS[r.to] === kind)) return undefined;
  return kind;
}

/** What an escalation adds, on the chronology line the change appends. */
export function countForEscalation(incident: Pick<IncidentRecord, 'reference' | 'occurredOn' | 'audience' | 'eventCount'>, kind: EscalationKind | undefined): PendingCount | undefined {
  if (!kind || !isCountedInSummary(incident.audience)) return undefined;
  const month = monthOf(incident.occurredOn);
  return { key: pendingCountKey(incident.reference, incident.eventCount + 1), month, delta: addEscalation(emptyMonth(month), kind, incident.audience) };
}

/** What a close adds (closed, and days to close), on the chronology line the close appends. */
export function countForClose(incident: Pick<IncidentRecord, 'reference' | 'occurredOn' | 'createdAt' | 'audience' | 'eventCount'>, closedAt: string): PendingCount | undefined {
  if (!isCountedInSummary(incident.audience)) return undefined;
  const month = monthOf(incident.occurredOn);
  return { key: pendingCountKey(incident.reference, incident.eventCount + 1), month, delta: addClose(emptyMonth(month), daysBetween(incident.createdAt, closedAt), incident.audience) };
}

/**
 * Adds everything one incident counts for in its month, as it is classified now: the incident, its escalations
 * (from its chronology's actions and its referrals, in order) and its close. The rebuild sums these; a
 * reclassification moves the difference.
 */
export function addIncidentContribution(
  counters: MonthCounters,
  incident: Pick<IncidentRecord, 'type' | 'yearGroups' | 'audience' | 'status' | 'createdAt'> & { referrals?: readonly { to: string }[] | undefined },
  chronology: readonly ChronologyEvent[],
): MonthCounters {
  if (!isCountedInSummary(incident.audience)) return counters;
  let m = addIncident(counters, incident);
  if (incident.audience === 'child-protection') m = addEscalation(m, 'dsl', incident.audience);
  const kinds = new Set<EscalationKind>();
  const actions = chronology.filter((e) => e.kind === 'action').map((e) => ESCALATION_ACTIONS[e.what]);
  const referrals = (incident.referrals ?? []).map((r) => REFERRAL_ESCALATIONS[r.to]);
  for (const kind of [...actions, ...referrals]) {
    if (!kind || kinds.has(kind) || (kind === 'dsl' && incident.audience === 'child-protection')) continue;
    kinds.add(kind);
    m = addEscalation(m, kind, incident.audience);
  }
  const closed = chronology.find((e) => e.kind === 'closed');
  if (incident.status === 'closed' && closed) m = addClose(m, daysBetween(incident.createdAt, closed.at), incident.audience);
  return m;
}

/**
 * Moves a reclassified incident's counts at once: its whole contribution as it was classified (type, four Cs,
 * child-protection share, escalations, close) comes off its month and its contribution as it is now goes on,
 * in one write, on the chronology line of the reclassification. Allegations about adults count nowhere, before or after.
 */
export function countForReclassification(
  before: Pick<IncidentRecord, 'reference' | 'occurredOn' | 'type' | 'yearGroups' | 'audience' | 'status' | 'createdAt' | 'eventCount' | 'referrals'>,
  after: Pick<IncidentRecord, 'type' | 'yearGroups' | 'audience' | 'status' | 'createdAt'>,
  chronology: readonly ChronologyEvent[],
): PendingCount | undefined {
  if (!isCountedInSummary(before.audience) && !isCountedInSummary(after.audience)) return undefined;
  const month = monthOf(before.occurredOn);
  const delta = differenceOf(
    addIncidentContribution(emptyMonth(month), { ...after, referrals: before.referrals }, chronology),
    addIncidentContribution(emptyMonth(month), before, chronology),
  );
  return { key: pendingCountKey(before.reference, before.eventCount + 1), month, delta };
}

/** Pending counts younger than this are left to the writer that is storing them now. */
export const COUNT_CATCH_UP_AFTER_MS = 10 * 60_000;

/**
 * Counts every pending change older than `COUNT_CATCH_UP_AFTER_MS` that was not counted (its writer failed or
 * died), then removes the rows. Safe to run on every instance at once: each change counts once (storeCount).
 */
export async function catchUpIncidentCounts(
  deps: { pending: Pick<PendingCountStore, 'listPendingCounts' | 'deletePendingCounts'>; aggregates: AggregateWriter; clock: () => Date },
  schoolId: string,
): Promise<{ pending: number }> {
  const before = new Date(deps.clock().getTime() - COUNT_CATCH_UP_AFTER_MS).toISOString();
  const pending = await deps.pending.listPendingCounts(schoolId, before);
  await Promise.all(pending.map((count) => storeCount(deps.aggregates, schoolId, count)));
  await deps.pending.deletePendingCounts(schoolId, pending.map((count) => count.key));
  return { pending: pending.length };
}

/**
 * Rebuilds every month's counters from the incidents and their chronologies (a back-fill). Run it only while no
 * count is pending (`PendingCountStore.listPendingCounts` empty): a pending change is already in what it rebuilds, and
 * the catch-up would then add it again. Nothing in the product runs it; the tests use it to prove the live counts.
 */
export async function rebuildIncidentAggregates(deps: { incidents: Pick<IncidentStore, 'listIncidents' | 'listChronology'>; aggregates: Pick<IncidentAggregateStore, 'replaceAll'> }, schoolId: string): Promise<{ incidents: number; months: number }> {
  const months = new Map<string, MonthCounters>();
  const incidents = await deps.incidents.listIncidents(schoolId);
  for (const incident of incidents) {
    if (!isCountedInSummary(incident.audience)) continue;
    const key = monthOf(incident.occurredOn);
    const chronology = await deps.incidents.listChronology(schoolId, incident.reference);
    months.set(key, addIncidentContribution(months.get(key) ?? emptyMonth(key), incident, chronology));
  }
  await deps.aggregates.replaceAll(schoolId, [...months.values()]);
  return { incidents: incidents.length, months: months.size };
}

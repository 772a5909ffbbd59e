import type { AuditStore } from '../records/audit-store';
import type { StoredAttachment } from '../records/attachment-store';
import type { AppendExtras, ChronologyEvent, IncidentStatus, IncidentStore, PendingCount, StoredIncident } from '../records/incident-store';
import type { PupilRecord } from '../records/pupil-register-store';
import { isConflict } from '../records/tables';
import { incidentTypeLabel, isIncidentType, type IncidentType } from '../school/incident-types';
import { mayTriageIncident, maySignOff } from '../school/incident-routing';
import { RESPONSE_ACTIONS, type ResponseMatrix } from '../school/response-matrix';
import { hasAnyRole, type Principal, type Role } from '../school/roles';
import { formatUkDate } from '../school/uk-dates';
import { caseView, needsSecondSignOff, type IncidentDetail } from './case-view';
import { countForClose, countForEscalation, newEscalation, storeCount, type AggregateWriter } from './summarise-incidents';

export { needsSecondSignOff } from './case-view';
export type { CaseChronologyLine, CasePupil, IncidentDetail, RepeatWarning } from './case-view';

/** Who may use the triage view at all; which incidents each sees comes from school/incident-routing.ts. */
export const TRIAGE_ROLES: readonly Role[] = ['coordinator', 'dsl', 'headteacher', 'chair'];

/** Display names for staff, by Entra object id (Graph when connected; role labels locally). Names never go to logs. */
export interface PeopleNames {
  displayNames(objectIds: readonly string[]): Promise<Map<string, string>>;
}

/** What the case view reads about one pupil from the register. */
export type PupilLookup = { getPupil(schoolId: string, externalId: string): Promise<PupilRecord | undefined> };

/** What a case view shows of one stored attachment. */
export type AttachmentSummary = StoredAttachment;

export interface TriageDependencies {
  schoolId: string;
  incidents: Pick<IncidentStore, 'listIncidents' | 'getIncident' | 'listChronology' | 'appendEvent'>;
  aggregates: AggregateWriter;
  audit: Pick<AuditStore, 'appendAudit'> & Partial<Pick<AuditStore, 'auditRowFor'>>;
  matrix: ResponseMatrix;
  clock: () => Date;
  /** The pupil register, for the names, year groups and classes of the pupils involved. */
  pupils?: PupilLookup;
  people?: PeopleNames;
  /** Who holds each role, for alerts that referrals and reclassifications send. */
  roles?: { listRoleMembers(role: Role): Promise<string[]> };
  /** Repeated incidents in a term that make the case view suggest the matrix's escalation (default 3). */
  repeatThreshold?: number;
  attachments?: { listAttachments(schoolId: string, reference: string): Promise<AttachmentSummary[]> };
}

export interface IncidentFilters {
  status?: IncidentStatus;
  type?: IncidentType;
  from?: string;
  to?: string;
  yearGroup?: string;
  /** `missing`: only open incidents not yet recorded in CPOMS (or MyConcern). */
  cpoms?: 'missing';
}

export interface IncidentListItem {
  reference: string;
  type: IncidentType;
  typeLabel: string;
  status: IncidentStatus;
  occurredOn: string;
  occurredOnText: string;
  yearGroups: string[];
  audience: StoredIncident['audience'];
  historic: boolean;
  /** Open and not yet in CPOMS: the coordinator records every incident there (seed 000). */
  notInCpoms: boolean;
  awaitingSecondSignOff: boolean;
}

export type TriageOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'not-found' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'precondition-required' }
  | { kind: 'conflict'; message: string; etag: string | undefined };

/** Triage only by role or referral, never for the subject: a reporter's right to see their own report is for /myreports. */
function mayTriage(principal: Principal, incident: StoredIncident): boolean {
  return mayTriageIncident(principal, incident);
}

export async function listIncidentsForTriage(deps: TriageDependencies, principal: Principal, filters: IncidentFilters): Promise<TriageOutcome<IncidentListItem[]>> {
  if (!hasAnyRole(principal, ...TRIAGE_ROLES)) {
    await audit(deps, principal, 'incident.list', 'incidents', 'denied');
    return { kind: 'forbidden' };
  }
  const all = await deps.incidents.listIncidents(deps.schoolId);
  const items = all
    .filter((i) => mayTriage(principal, i))
    .filter((i) => !filters.status || i.status === filters.status)
    .filter((i) => !filters.type || i.type === filters.type)
    .filter((i) => !filters.from || i.occurredOn >= filters.from)
    .filter((i) => !filters.to || i.occurredOn <= filters.to)
    .filter((i) => !filters.yearGroup || i.yearGroups.includes(filters.yearGroup))
    .filter((i) => filters.cpoms !== 'missing' || (i.status !== 'closed' && !i.cpomsReference))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((i) => ({
      reference: i.reference,
      type: i.type,
      typeLabel: incidentTypeLabel(i.type),
      status: i.status,
      occurredOn: i.occurredOn,
      occurredOnText: formatUkDate(i.occurredOn),
      yearGroups: i.yearGroups,
      audience: i.audience,
      historic: i.historic === true,
      notInCpoms: i.status !== 'closed' && !i.cpomsReference,
      awaitingSecondSignOff: i.pendingClose !== undefined,
    }));
  await audit(deps, principal, 'incident.list', 'incidents', 'succeeded', { count: items.length });
  return { kind: 'ok', value: items };
}

/** A saved change whose case view could not be read back: the caller learns it was saved, with the new etag. */
export interface SavedNotice {
  saved: true;
  reference: string;
  status: IncidentStatus;
  etag: string;
  warnings: string[];
}

async function load(deps: TriageDependencies, principal: Principal, reference: string, action: string): Promise<TriageOutcome<StoredIncident>> {
  // Staff without a triage role may still have been given an incident by a referral; that is decided per incident.
  const byRole = hasAnyRole(principal, ...TRIAGE_ROLES);
  if (!byRole && !hasAnyRole(principal, 'staff')) {
    await audit(deps, principal, action, reference, 'denied');
    return { kind: 'forbidden' };
  }
  const incident = await deps.incidents.getIncident(deps.schoolId, reference);
  if (!incident) {
    await audit(deps, principal, action, reference, 'denied', { reason: 'not-found' });
    return byRole ? { kind: 'not-found' } : { kind: 'forbidden' };
  }
  if (!mayTriage(principal, incident)) {
    await audit(deps, principal, action, reference, 'denied');
    return { kind: 'forbidden' };
  }
  return { kind: 'ok', value: incident };
}

/** Loads an incident the caller may work, for the case actions (case-actions.ts). */
export function loadForTriage(deps: TriageDependencies, principal: Principal, reference: string, action: string): Promise<TriageOutcome<StoredIncident>> {
  return load(deps, principal, reference, action);
}

export async function getIncidentForTriage(deps: TriageDependencies, principal: Principal, reference: string): Promise<TriageOutcome<IncidentDetail>> {
  const loaded = await load(deps, principal, reference, 'incident.read');
  if (loaded.kind !== 'ok') return loaded;
  const incident = loaded.value;
  const chronology = await deps.incidents.listChronology(deps.schoolId, reference);
  await audit(deps, principal, 'incident.read', reference, 'succeeded');
  return { kind: 'ok', value: await caseView(deps, principal, incident, chronology) };
}

export interface ActionInput {
  etag?: string;
  what?: unknown;
  why?: unknown;
}
export interface CloseInput {
  etag?: string;
  decision?: unknown;
  rationale?: unknown;
  outcome?: unknown;
  lessonsLearnt?: unknown;
}

export const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

export async function recordTriageAction(deps: TriageDependencies, principal: Principal, reference: string, input: ActionInput): Promise<TriageOutcome<IncidentDetail | SavedNotice>> {
  const what = text(input.what);
  const why = text(input.why);
  const problems = [...(what ? [] : ['Say what was done (what).']), ...(why ? [] : ['Say why (why).'])];
  return updateIncident(deps, principal, reference, 'incident.action', input.etag, problems, async (incident, chronology) => {
    const label = what in RESPONSE_ACTIONS ? what : what.slice(0, 500);
    const count = countForEscalation(incident, newEscalation(incident, chronology, { action: what }));
    const updated = await deps.incidents.appendEvent(
      incident,
      { at: deps.clock().toISOString(), actorId: principal.aadObjectId, kind: 'action', what: label, why: why.slice(0, 2000) },
      incident.status === 'open' ? { status: 'in-progress' } : {},
      withCount(auditExtras(deps, principal, 'incident.action', reference), count),
    );
    return { updated, afterwards: count ? () => storeCount(deps.aggregates, deps.schoolId, count) : undefined };
  });
}

export async function recordParentsInformed(deps: TriageDependencies, principal: Principal, reference: string, input: ActionInput): Promise<TriageOutcome<IncidentDetail | SavedNotice>> {
  const why = text(input.why) || text(input.what);
  return updateIncident(deps, principal, reference, 'incident.parents-informed', input.etag, [], async (incident) => ({
    updated: await deps.incidents.appendEvent(
      incident,
      { at: deps.clock().toISOString(), actorId: principal.aadObjectId, kind: 'parents-informed', what: 'Parents or carers informed', why: why.slice(0, 2000) },
      {},
      auditExtras(deps, principal, 'incident.parents-informed', reference),
    ),
  }));
}

export type CloseResult = (IncidentDetail | SavedNotice) & { closeStatus: 'closed' | 'awaiting-second-signoff' };

/**
 * Closes an incident with a decision, rationale and outcome. The gravest cases and allegations against staff
 * need a second senior person: the first close records the request (`awaiting-second-signoff`) and only a
 * different senior person's `confirmClose` closes it.
 */
export async function closeIncident(deps: TriageDependencies, principal: Principal, reference: string, input: CloseInput): Promise<TriageOutcome<CloseResult>> {
  const decision = text(input.decision);
  const rationale = text(input.rationale);
  const outcome = text(input.outcome);
  const lessons = text(input.lessonsLearnt);
  const problems = [
    ...(decision ? [] : ['A decision is required to close an incident.']),
    ...(rationale ? [] : ['A rationale is required to close an incident.']),
    ...(outcome ? [] : ['An outcome is required to close an incident.']),
  ];
  let closeStatus: CloseResult['closeStatus'] = 'closed';
  const result = await updateIncident(deps, principal, reference, 'incident.close', input.etag, problems, async (incident) => {
    const at = deps.clock().toISOString();
    if (needsSecondSignOff(incident)) {
      if (!maySignOff(principal, incident)) return 'forbidden';
      if (incident.pendingClose) return { conflict: 'This close is already waiting for a second senior person to confirm it.' };
      closeStatus = 'awaiting-second-signoff';
      const pendingClose = { byId: principal.aadObjectId, at, decision: decision.slice(0, 1000), rationale: rationale.slice(0, 2000), outcome: outcome.slice(0, 1000), lessonsLearnt: lessons.slice(0, 1000) };
      const updated = await deps.incidents.appendEvent(
        incident,
        { at, actorId: principal.aadObjectId, kind: 'close-requested', what: `Close proposed: ${pendingClose.decision}`, why: closeWhy(pendingClose) },
        { pendingClose },
        auditExtras(deps, principal, 'incident.close.request', reference),
      );
      return { updated };
    }
    const count = countForClose(incident, at);
    const updated = await deps.incidents.appendEvent(
      incident,
      { at, actorId: principal.aadObjectId, kind: 'closed', what: decision.slice(0, 1000), why: closeWhy({ rationale, outcome, lessonsLearnt: lessons }) },
      { status: 'closed' },
      withCount(auditExtras(deps, principal, 'incident.close', reference), count),
    );
    return { updated, afterwards: () => storeCount(deps.aggregates, deps.schoolId, count) };
  });
  return result.kind === 'ok' ? { kind: 'ok', value: { ...result.value, closeStatus } } : result;
}

/** The second senior person confirms a proposed close; the person who proposed it cannot (403). */
export async function confirmClose(deps: TriageDependencies, principal: Principal, reference: string, input: { etag?: string }): Promise<TriageOutcome<CloseResult>> {
  const result = await updateIncident(deps, principal, reference, 'incident.close.confirm', input.etag, [], async (incident) => {
    const pending = incident.pendingClose;
    if (!pending) return { conflict: 'There is no close waiting for confirmation on this incident.' };
    if (pending.byId === principal.aadObjectId || !maySignOff(principal, incident)) return 'forbidden';
    const at = deps.clock().toISOString();
    const count = countForClose(incident, at);
    const updated = await deps.incidents.appendEvent(
      incident,
      { at, actorId: principal.aadObjectId, kind: 'closed', what: pending.decision, why: `${closeWhy(pending)}\nSecond sign-off: confirmed by a second senior person.` },
      { status: 'closed', pendingClose: undefined },
      withCount(auditExtras(deps, principal, 'incident.close.confirm', reference, { proposedBy: pending.byId }), count),
    );
    return { updated, afterwards: () => storeCount(deps.aggregates, deps.schoolId, count) };
  });
  return result.kind === 'ok' ? { kind: 'ok', value: { ...result.value, closeStatus: 'closed' } } : result;
}

function closeWhy(close: { rationale: string; outcome: string; lessonsLearnt: string }): string {
  return [`Rationale: ${close.rationale}`, `Outcome: ${close.outcome}`, ...(close.lessonsLearnt ? [`Lessons learnt: ${close.lessonsLearnt}`] : [])].join('\n').slice(0, 4000);
}

/**
 * The audit entry for a change, written in the same transaction as its chronology line when the audit store
 * can embed it: a saved change can then never lack its audit entry.
 */
export function auditExtras(deps: TriageDependencies, principal: Principal, action: string, reference: string, details?: Record<string, string | number>, extra: AppendExtras = {}): AppendExtras {
  if (!deps.audit.auditRowFor) return extra;
  const row = deps.audit.auditRowFor(deps.schoolId, { actorId: principal.aadObjectId, action, target: reference, outcome: 'succeeded', ...(details ? { details } : {}) });
  return { ...extra, rows: [...(extra.rows ?? []), row as unknown as Record<string, unknown>] };
}

/** Adds a count change (if any) to a change's transaction, so that it is kept until counted. */
export function withCount(extra: AppendExtras, count: PendingCount | undefined): AppendExtras {
  return count ? { ...extra, counts: [...(extra.counts ?? []), count] } : extra;
}

/** What a change does: the saved incident, and work after the save that must not turn a saved change into an error. */
export type ChangeResult = { updated: StoredIncident; afterwards?: (() => Promise<void>) | undefined; warnings?: string[] } | 'forbidden' | { conflict: string } | { invalid: string[] };

/**
 * Loads, checks and changes an incident, guarded by the etag the caller read. Once the change is saved, nothing
 * after it may report "nothing was saved": follow-up work (counts, alerts) and reading the case back are
 * best-effort, and their failure comes back as a warning beside the saved result.
 */
export async function updateIncident(
  deps: TriageDependencies,
  principal: Principal,
  reference: string,
  action: string,
  etag: string | undefined,
  problems: string[],
  apply: (incident: StoredIncident, chronology: ChronologyEvent[]) => Promise<ChangeResult>,
  /** A further check on who may make this change (for example, the DSL or head only), before anything else is read. */
  mayAct: (principal: Principal) => boolean = () => true,
): Promise<TriageOutcome<IncidentDetail | SavedNotice>> {
  const loaded = await load(deps, principal, reference, action);
  if (loaded.kind !== 'ok') return loaded;
  if (!mayAct(principal)) {
    await audit(deps, principal, action, reference, 'denied');
    return { kind: 'forbidden' };
  }
  if (problems.length > 0) return { kind: 'invalid', problems };
  if (!etag) return { kind: 'precondition-required' };
  const incident = loaded.value;
  const stale = { kind: 'conflict' as const, etag: incident.etag, message: 'Someone else changed this incident since you opened it. Reload it to see their change, then try again.' };
  if (incident.status === 'closed') {
    await audit(deps, principal, action, reference, 'denied', { reason: 'closed' });
    return { ...stale, message: 'This incident is already closed; its history cannot be changed.' };
  }
  if (incident.etag !== etag) {
    await audit(deps, principal, action, reference, 'denied', { reason: 'stale' });
    return stale;
  }
  let result: ChangeResult;
  try {
    const chronology = await deps.incidents.listChronology(deps.schoolId, reference);
    result = await apply(incident, chronology);
  } catch (error) {
    if (!isConflict(error)) throw error;
    await audit(deps, principal, action, reference, 'denied', { reason: 'stale' });
    const current = await deps.incidents.getIncident(deps.schoolId, reference);
    return { ...stale, etag: current?.etag };
  }
  if (result === 'forbidden') {
    await audit(deps, principal, action, reference, 'denied');
    return { kind: 'forbidden' };
  }
  if ('conflict' in result) {
    await audit(deps, principal, action, reference, 'denied', { reason: 'state' });
    return { kind: 'conflict', message: result.conflict, etag: incident.etag };
  }
  if ('invalid' in result) return { kind: 'invalid', problems: result.invalid };

  // Saved. From here on, a failure is a warning beside the saved result, never "nothing was saved".
  const { updated } = result;
  const warnings = [...(result.warnings ?? [])];
  if (!deps.audit.auditRowFor) {
    try {
      await audit(deps, principal, action, reference, 'succeeded');
    } catch {
      warnings.push('Saved, but the audit entry could not be written yet.');
    }
  }
  if (result.afterwards) {
    try {
      await result.afterwards();
    } catch {
      warnings.push('Saved. The governors’ counts will include this within 30 minutes.');
    }
  }
  try {
    const chronology = await deps.incidents.listChronology(deps.schoolId, reference);
    const view = await caseView(deps, principal, updated, chronology);
    try {
      await audit(deps, principal, 'incident.read', reference, 'succeeded');
    } catch {
      // The change and its audit entry are saved; a missing read line is not worth hiding the save.
    }
    return { kind: 'ok', value: warnings.length > 0 ? { ...view, warnings } : view };
  } catch {
    return { kind: 'ok', value: { saved: true, reference, status: updated.status, etag: updated.etag, warnings: [...warnings, 'Saved. Reload the incident to see the change.'] } };
  }
}

export function audit(deps: TriageDependencies, principal: Principal, action: string, target: string, outcome: 'succeeded' | 'denied', details?: Record<string, string | number>): Promise<void> {
  return deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action, target, outcome, ...(details ? { details } : {}) });
}

export function parseFilters(query: Record<string, unknown>): { ok: true; filters: IncidentFilters } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const filters: IncidentFilters = {};
  const get = (k: string): string | undefined => (typeof query[k] === 'string' && query[k] !== '' ? (query[k] as string) : undefined);
  const status = get('status');
  if (status) {
    if (['open', 'in-progress', 'closed'].includes(status)) filters.status = status as IncidentStatus;
    else problems.push('status must be open, in-progress or closed.');
  }
  const type = get('type');
  if (type) {
    if (isIncidentType(type)) filters.type = type;
    else problems.push('type is not an incident type.');
  }
  for (const key of ['from', 'to'] as const) {
    const value = get(key);
    if (value) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(value)) filters[key] = value;
      else problems.push(`${key} must be a date (YYYY-MM-DD).`);
    }
  }
  const yearGroup = get('yearGroup');
  if (yearGroup) filters.yearGroup = yearGroup;
  const cpoms = get('cpoms');
  if (cpoms) {
    if (cpoms === 'missing') filters.cpoms = 'missing';
    else problems.push('cpoms must be "missing".');
  }
  return problems.length ? { ok: false, problems } : { ok: true, filters };
}

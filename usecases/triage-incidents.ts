import type { AuditStore } from '../records/audit-store';
import type { ChronologyEvent, IncidentStatus, IncidentStore, StoredIncident } from '../records/incident-store';
import { isConflict } from '../records/tables';
import { incidentTypeLabel, isIncidentType, type IncidentType } from '../school/incident-types';
import { rolesThatMayView } from '../school/incident-routing';
import { RESPONSE_ACTIONS, suggestActions, type ResponseMatrix } from '../school/response-matrix';
import { hasAnyRole, type Principal, type Role } from '../school/roles';
import { newEscalation, recordCloseInAggregates, recordEscalationInAggregates, type AggregateWriter } from './summarise-incidents';

/** Who may use the triage view at all; which incidents each sees comes from school/incident-routing.ts. */
export const TRIAGE_ROLES: readonly Role[] = ['coordinator', 'dsl', 'headteacher', 'chair'];

export interface TriageDependencies {
  schoolId: string;
  incidents: Pick<IncidentStore, 'listIncidents' | 'getIncident' | 'listChronology' | 'appendEvent'>;
  aggregates: AggregateWriter;
  audit: Pick<AuditStore, 'appendAudit'>;
  matrix: ResponseMatrix;
  clock: () => Date;
}

export interface IncidentFilters {
  status?: IncidentStatus;
  type?: IncidentType;
  from?: string;
  to?: string;
  yearGroup?: string;
}

export interface IncidentListItem {
  reference: string;
  type: IncidentType;
  typeLabel: string;
  status: IncidentStatus;
  occurredOn: string;
  yearGroups: string[];
  audience: StoredIncident['audience'];
}

export type TriageOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'not-found' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'precondition-required' }
  | { kind: 'conflict'; message: string; etag: string | undefined };

/** Triage only by role: a reporter's right to see their own report is for /myreports, not this view. */
function mayTriage(principal: Principal, incident: Pick<StoredIncident, 'audience'>): boolean {
  return rolesThatMayView(incident.audience).some((role) => principal.roles.has(role));
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
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((i) => ({ reference: i.reference, type: i.type, typeLabel: incidentTypeLabel(i.type), status: i.status, occurredOn: i.occurredOn, yearGroups: i.yearGroups, audience: i.audience }));
  await audit(deps, principal, 'incident.list', 'incidents', 'succeeded', { count: items.length });
  return { kind: 'ok', value: items };
}

export interface IncidentDetail {
  incident: Omit<StoredIncident, 'submissionId' | 'schoolId'> & { typeLabel: string };
  chronology: ChronologyEvent[];
  suggestedActions: { id: string; label: string }[];
  etag: string;
}

async function load(deps: TriageDependencies, principal: Principal, reference: string, action: string): Promise<TriageOutcome<StoredIncident>> {
  if (!hasAnyRole(principal, ...TRIAGE_ROLES)) {
    await audit(deps, principal, action, reference, 'denied');
    return { kind: 'forbidden' };
  }
  const incident = await deps.incidents.getIncident(deps.schoolId, reference);
  if (!incident) return { kind: 'not-found' };
  if (!mayTriage(principal, incident)) {
    await audit(deps, principal, action, reference, 'denied');
    return { kind: 'forbidden' };
  }
  return { kind: 'ok', value: incident };
}

export async function getIncidentForTriage(deps: TriageDependencies, principal: Principal, reference: string): Promise<TriageOutcome<IncidentDetail>> {
  const loaded = await load(deps, principal, reference, 'incident.read');
  if (loaded.kind !== 'ok') return loaded;
  const incident = loaded.value;
  const chronology = await deps.incidents.listChronology(deps.schoolId, reference);
  await audit(deps, principal, 'incident.read', reference, 'succeeded');
  const { submissionId: _s, schoolId: _p, ...visible } = incident;
  return {
    kind: 'ok',
    value: {
      incident: { ...visible, typeLabel: incidentTypeLabel(incident.type) },
      chronology,
      suggestedActions: suggestActions(deps.matrix, incident.type, incident.subject),
      etag: incident.etag,
    },
  };
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

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

export async function recordTriageAction(deps: TriageDependencies, principal: Principal, reference: string, input: ActionInput): Promise<TriageOutcome<IncidentDetail>> {
  const what = text(input.what);
  const why = text(input.why);
  const problems = [...(what ? [] : ['Say what was done (what).']), ...(why ? [] : ['Say why (why).'])];
  return update(deps, principal, reference, 'incident.action', input.etag, problems, async (incident, chronology) => {
    const label = what in RESPONSE_ACTIONS ? what : what.slice(0, 500);
    const updated = await deps.incidents.appendEvent(
      incident,
      { at: deps.clock().toISOString(), actorId: principal.aadObjectId, kind: 'action', what: label, why: why.slice(0, 2000) },
      incident.status === 'open' ? { status: 'in-progress' } : {},
    );
    const escalation = newEscalation(incident, chronology, what);
    if (escalation) await recordEscalationInAggregates(deps.aggregates, incident, escalation);
    return updated;
  });
}

export async function recordParentsInformed(deps: TriageDependencies, principal: Principal, reference: string, input: ActionInput): Promise<TriageOutcome<IncidentDetail>> {
  const why = text(input.why) || text(input.what);
  return update(deps, principal, reference, 'incident.parents-informed', input.etag, [], async (incident) =>
    deps.incidents.appendEvent(incident, { at: deps.clock().toISOString(), actorId: principal.aadObjectId, kind: 'parents-informed', what: 'Parents or carers informed', why: why.slice(0, 2000) }),
  );
}

export async function closeIncident(deps: TriageDependencies, principal: Principal, reference: string, input: CloseInput): Promise<TriageOutcome<IncidentDetail>> {
  const decision = text(input.decision);
  const rationale = text(input.rationale);
  const outcome = text(input.outcome);
  const lessons = text(input.lessonsLearnt);
  const problems = [
    ...(decision ? [] : ['A decision is required to close an incident.']),
    ...(rationale ? [] : ['A rationale is required to close an incident.']),
    ...(outcome ? [] : ['An outcome is required to close an incident.']),
  ];
  return update(deps, principal, reference, 'incident.close', input.etag, problems, async (incident) => {
    const at = deps.clock().toISOString();
    const why = [`Rationale: ${rationale}`, `Outcome: ${outcome}`, ...(lessons ? [`Lessons learnt: ${lessons}`] : [])].join('\n');
    const updated = await deps.incidents.appendEvent(incident, { at, actorId: principal.aadObjectId, kind: 'closed', what: decision.slice(0, 1000), why: why.slice(0, 4000) }, { status: 'closed' });
    await recordCloseInAggregates(deps.aggregates, incident, at);
    return updated;
  });
}

async function update(
  deps: TriageDependencies,
  principal: Principal,
  reference: string,
  action: string,
  etag: string | undefined,
  problems: string[],
  apply: (incident: StoredIncident, chronology: ChronologyEvent[]) => Promise<StoredIncident>,
): Promise<TriageOutcome<IncidentDetail>> {
  const loaded = await load(deps, principal, reference, action);
  if (loaded.kind !== 'ok') return loaded;
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
  try {
    const chronology = await deps.incidents.listChronology(deps.schoolId, reference);
    await apply(incident, chronology);
  } catch (error) {
    if (!isConflict(error)) throw error;
    await audit(deps, principal, action, reference, 'denied', { reason: 'stale' });
    const current = await deps.incidents.getIncident(deps.schoolId, reference);
    return { ...stale, etag: current?.etag };
  }
  await audit(deps, principal, action, reference, 'succeeded');
  return getIncidentForTriage(deps, principal, reference);
}

function audit(deps: TriageDependencies, principal: Principal, action: string, target: string, outcome: 'succeeded' | 'denied', details?: Record<string, string | number>): Promise<void> {
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
  return problems.length ? { ok: false, problems } : { ok: true, filters };
}

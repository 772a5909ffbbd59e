import type { AuditStore } from '../records/audit-store';
import type { FilteringStore } from '../records/filtering-store';
import {
  checkFilteringChangeRequest,
  checkFilteringDecision,
  FILTERING_DECISION_ROLES,
  FILTERING_REQUEST_ROLES,
  isDueForReversal,
  type FilteringChangeRequest,
} from '../school/filtering-changes';
import { hasAnyRole, type Principal } from '../school/roles';
import { londonToday } from './aup-paper-forms';

export interface FilteringDependencies {
  schoolId: string;
  store: Pick<FilteringStore, 'createChangeRequest' | 'getChangeRequest' | 'replaceChangeRequest' | 'listChangeRequests'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  clock: () => Date;
}

type Outcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'not-found' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'conflict'; message: string; reason?: string };

/** A request as the tab lists it, with whether a temporary exception is due to be reversed. */
export interface ListedFilteringChange extends FilteringChangeRequest {
  dueForReversal: boolean;
}

const target = (id: string): string => `filtering-change:${id}`;

/** Any member of staff asks for a filter change or exception; the answer carries its id. A retry the same day is stored once. */
export async function requestFilteringChange(deps: FilteringDependencies, principal: Principal, body: Record<string, unknown>): Promise<Outcome<{ id: string; status: FilteringChangeRequest['status']; duplicate: boolean }>> {
  if (!hasAnyRole(principal, ...FILTERING_REQUEST_ROLES)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'filtering.change.request', target: 'filtering', outcome: 'denied' });
    return { kind: 'forbidden' };
  }
  const now = deps.clock();
  const checked = checkFilteringChangeRequest(body, principal.aadObjectId, londonToday(now));
  if ('problems' in checked) return { kind: 'invalid', problems: checked.problems };
  const { created, request } = await deps.store.createChangeRequest(deps.schoolId, { ...checked.request, requestedAt: now.toISOString(), status: 'requested' });
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'filtering.change.request', target: target(request.id), outcome: 'succeeded', details: { change: request.change, temporary: request.until !== undefined, duplicate: !created } });
  return { kind: 'ok', value: { id: request.id, status: request.status, duplicate: !created } };
}

/** The head or the coordinator approves or refuses a request with a reason; never the requester (403). Decided once. */
export async function decideFilteringChange(deps: FilteringDependencies, principal: Principal, id: string, body: Record<string, unknown>): Promise<Outcome<FilteringChangeRequest>> {
  const found = await deps.store.getChangeRequest(deps.schoolId, id);
  if (!found) {
    if (!hasAnyRole(principal, ...FILTERING_DECISION_ROLES)) return deny(deps, principal, id, 'role');
    return { kind: 'not-found' };
  }
  const check = checkFilteringDecision(found.request, principal, body);
  switch (check.kind) {
    case 'forbidden':
      return deny(deps, principal, id, check.reason);
    case 'invalid':
      return check;
    case 'already-decided':
      return { kind: 'conflict', message: `This request was already ${check.status}.`, reason: 'already-decided' };
    case 'ok':
      break;
  }
  const decided: FilteringChangeRequest = { ...found.request, status: check.approve ? 'approved' : 'refused', decidedBy: principal.aadObjectId, decidedAt: deps.clock().toISOString(), why: check.why };
  if (!(await deps.store.replaceChangeRequest(deps.schoolId, decided, found.etag))) {
    return { kind: 'conflict', message: 'Someone decided this request at the same moment. Reload to see their decision.', reason: 'already-decided' };
  }
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'filtering.change.decide', target: target(id), outcome: 'succeeded', details: { approved: check.approve } });
  return { kind: 'ok', value: decided };
}

async function deny(deps: FilteringDependencies, principal: Principal, id: string, reason: string): Promise<{ kind: 'forbidden' }> {
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'filtering.change.decide', target: target(id), outcome: 'denied', details: { reason } });
  return { kind: 'forbidden' };
}

/** The log of requests: the head, the coordinator, the DSL and IT see all of them; other staff see their own. */
export async function listFilteringChanges(deps: FilteringDependencies, principal: Principal): Promise<Outcome<{ changes: ListedFilteringChange[]; dueForReversal: number }>> {
  if (!hasAnyRole(principal, ...FILTERING_REQUEST_ROLES)) return { kind: 'forbidden' };
  const everyone = hasAnyRole(principal, ...FILTERING_DECISION_ROLES, 'dsl', 'admin');
  const today = londonToday(deps.clock());
  const changes = (await deps.store.listChangeRequests(deps.schoolId))
    .filter((c) => everyone || c.requestedBy === principal.aadObjectId)
    .map((c) => ({ ...c, dueForReversal: isDueForReversal(c, today) }));
  return { kind: 'ok', value: { changes, dueForReversal: changes.filter((c) => c.dueForReversal).length } };
}

import { createHash } from 'node:crypto';
import { hasAnyRole, type Principal, type Role } from './roles';

/**
 * Filtering change and exception requests. The school policies ask for every change to the web filter, and
 * every exception, to be requested, approved by the headteacher or the e-safety coordinator, and logged with
 * clear reasons; a temporary exception is reversed on its date.
 */
export type FilteringChangeKind = 'unblock' | 'block';

export interface FilteringChangeRequest {
  id: string;
  site: string;
  change: FilteringChangeKind;
  reason: string;
  /** A temporary exception's end, YYYY-MM-DD: on that day it shows as due for reversal. Absent for a permanent change. */
  until?: string;
  requestedBy: string;
  requestedAt: string;
  status: 'requested' | 'approved' | 'refused';
  decidedBy?: string;
  decidedAt?: string;
  why?: string;
}

/** Any member of staff may ask for a change. */
export const FILTERING_REQUEST_ROLES: readonly Role[] = ['staff', 'coordinator', 'dsl', 'headteacher', 'admin'];
/** The head or the coordinator decides (seeds 001, 003, 004), never the person who asked. */
export const FILTERING_DECISION_ROLES: readonly Role[] = ['headteacher', 'coordinator'];

const SITE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?:\/[^\s]{0,200})?$/;

/** A site as a host name with an optional path, lower case, without the scheme or `www.`. */
export function normaliseSite(input: string): string {
  return input.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/^www\./, '').replace(/\/+$/, '');
}

/** Checks a request body; every problem is listed. The id is derived from its content, so a retried request is stored once. */
export function checkFilteringChangeRequest(
  body: Record<string, unknown>,
  requester: string,
  today: string,
): { request: Omit<FilteringChangeRequest, 'requestedAt' | 'status'> } | { problems: string[] } {
  const problems: string[] = [];
  const site = typeof body.site === 'string' ? normaliseSite(body.site) : '';
  if (!SITE.test(site)) problems.push('site must be a web address such as example.org or example.org/page');
  const change = body.change;
  if (change !== 'unblock' && change !== 'block') problems.push('change must be "unblock" or "block"');
  const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
  if (reason.length < 5 || reason.length > 1000) problems.push('reason must say why, in 5 to 1,000 characters');
  let until: string | undefined;
  if (body.until !== undefined && body.until !== null && body.until !== '') {
    until = typeof body.until === 'string' ? body.until : '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(until) || Number.isNaN(Date.parse(`${until}T00:00:00Z`))) problems.push('until must be a date as YYYY-MM-DD');
    else if (until < today) problems.push('until cannot be in the past');
  }
  if (problems.length > 0) return { problems };
  const id = createHash('sha256').update(JSON.stringify([requester, site, change, reason, until ?? '', today]), 'utf8').digest('hex').slice(0, 16);
  return { request: { id, site, change: change as FilteringChangeKind, reason, ...(until ? { until } : {}), requestedBy: requester } };
}

export type DecisionCheck =
  | { kind: 'ok'; approve: boolean; why: string }
  | { kind: 'forbidden'; reason: 'role' | 'own-request' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'already-decided'; status: FilteringChangeRequest['status'] };

/** Who may decide, and whether the decision is well-formed: head or coordinator, never the requester, with a reason, once. */
export function checkFilteringDecision(request: FilteringChangeRequest, decider: Principal, body: Record<string, unknown>): DecisionCheck {
  if (!hasAnyRole(decider, ...FILTERING_DECISION_ROLES)) return { kind: 'forbidden', reason: 'role' };
  if (decider.aadObjectId === request.requestedBy) return { kind: 'forbidden', reason: 'own-request' };
  const problems: string[] = [];
  if (typeof body.approve !== 'boolean') problems.push('approve must be true or false');
  const why = typeof body.why === 'string' ? body.why.trim() : '';
  if (why.length < 3 || why.length > 1000) problems.push('why must give the reason for the decision, in 3 to 1,000 characters');
  if (problems.length > 0) return { kind: 'invalid', problems };
  if (request.status !== 'requested') return { kind: 'already-decided', status: request.status };
  return { kind: 'ok', approve: body.approve as boolean, why };
}

/** An approved temporary exception whose date has come: the filter should be put back. */
export function isDueForReversal(request: FilteringChangeRequest, today: string): boolean {
  return request.status === 'approved' && request.until !== undefined && request.until <= today;
}

import type { AuditStore } from '../records/audit-store';
import { canReportIncidents, type Principal, type Role } from '../school/roles';
import type { PeopleNames } from './triage-incidents';

/** The report card's staff picker (`subjectStaff`) searches this dataset as the user types. */
export const STAFF_DATASET = 'staff';

/** Teams shows at most 15 typeahead options (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search). */
export const STAFF_SEARCH_LIMITS = { minQueryLength: 1, maxQueryLength: 50, maxResults: 15 } as const;

/** The roles whose holders are staff a concern can be about (the role directory's staff, leaders included). */
const STAFF_ROLES: readonly Role[] = ['staff', 'coordinator', 'dsl', 'headteacher'];

export interface StaffPickerDependencies {
  schoolId: string;
  roles: { listRoleMembers(role: Role): Promise<string[]> };
  people: PeopleNames;
  audit: Pick<AuditStore, 'appendAudit'>;
}

export type StaffSearchOutcome = { kind: 'results'; results: { title: string; value: string }[] } | { kind: 'forbidden' } | { kind: 'invalid'; message: string };

/**
 * Finds members of staff by name for the report card's "which member of staff?" picker: staff only, at most 15
 * results, every search audited (never the query or the names found). The value submitted is the person's
 * object id; the reporter never learns anyone's role from it.
 */
export async function searchStaffForReport(deps: StaffPickerDependencies, principal: Principal, query: { text: string }, correlationId: string): Promise<StaffSearchOutcome> {
  const audit = (outcome: 'succeeded' | 'denied', count?: number) =>
    deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'staff.search', target: '', outcome, correlationId, ...(count !== undefined ? { details: { count } } : {}) });
  if (!canReportIncidents(principal)) {
    await audit('denied');
    return { kind: 'forbidden' };
  }
  const text = query.text.trim().toLowerCase();
  if (text.length > STAFF_SEARCH_LIMITS.maxQueryLength) return { kind: 'invalid', message: 'That search is too long: type part of the name.' };
  if (text.length < STAFF_SEARCH_LIMITS.minQueryLength) return { kind: 'results', results: [] };
  const ids = new Set<string>();
  for (const role of STAFF_ROLES) for (const id of await deps.roles.listRoleMembers(role)) ids.add(id);
  const names = await deps.people.displayNames([...ids]);
  const results = [...ids]
    .map((id) => ({ title: names.get(id) ?? '', value: id }))
    .filter((r) => r.title && r.title.toLowerCase().includes(text))
    .sort((a, b) => a.title.localeCompare(b.title, 'en-GB'))
    .slice(0, STAFF_SEARCH_LIMITS.maxResults);
  await audit('succeeded', results.length);
  return { kind: 'results', results };
}

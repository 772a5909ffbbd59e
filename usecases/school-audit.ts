import type { AuditStore } from '../records/audit-store';
import type { SchoolAuditStore } from '../records/school-audit-store';
import { isConflict } from '../records/tables';
import {
  AUDIT_QUESTIONS,
  checklistStatus,
  currentAcademicYear,
  emptyAuditYear,
  FILTERING_QUESTIONS,
  FILTERING_REVIEW_PARTICIPANTS,
  filteringReviewStatus,
  parseAuditYear,
  type SchoolAuditYear,
} from '../school/school-audit';
import { hasAnyRole, type Principal, type Role } from '../school/roles';
import { SUMMARY_ROLES, type GovernanceFigures } from './summarise-incidents';

/** Who keeps the annual audit and the filtering review; governors read it. */
export const SCHOOL_AUDIT_EDITORS: readonly Role[] = ['coordinator', 'dsl', 'headteacher'];

export interface SchoolAuditDependencies {
  schoolId: string;
  store: Pick<SchoolAuditStore, 'getYear' | 'saveYear'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  clock: () => Date;
}

export type SchoolAuditOutcome =
  | { kind: 'ok'; value: { year: SchoolAuditYear; etag: string | null; /** Whether this caller may save it (SCHOOL_AUDIT_EDITORS); governors read only. */ canEdit: boolean; questions: { annualAudit: typeof AUDIT_QUESTIONS; filteringReview: typeof FILTERING_QUESTIONS }; participants: typeof FILTERING_REVIEW_PARTICIPANTS; filteringReview: ReturnType<typeof filteringReviewStatus> } }
  | { kind: 'forbidden' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'conflict'; message: string };

export async function getSchoolAudit(deps: SchoolAuditDependencies, principal: Principal, academicYear = currentAcademicYear(deps.clock())): Promise<SchoolAuditOutcome> {
  if (!hasAnyRole(principal, ...SUMMARY_ROLES)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'school-audit.read', target: `year|${academicYear}`, outcome: 'denied' });
    return { kind: 'forbidden' };
  }
  const stored = await deps.store.getYear(deps.schoolId, academicYear);
  const { etag, ...year } = stored ?? { ...emptyAuditYear(academicYear), etag: null };
  return { kind: 'ok', value: { year, etag, canEdit: hasAnyRole(principal, ...SCHOOL_AUDIT_EDITORS), questions: { annualAudit: AUDIT_QUESTIONS, filteringReview: FILTERING_QUESTIONS }, participants: FILTERING_REVIEW_PARTICIPANTS, filteringReview: filteringReviewStatus(year) } };
}

/** Saves the current year's record; `etag` is what the client read (none when the year had no record yet). */
export async function saveSchoolAudit(deps: SchoolAuditDependencies, principal: Principal, input: unknown, etag: string | undefined): Promise<SchoolAuditOutcome> {
  const academicYear = currentAcademicYear(deps.clock());
  if (!hasAnyRole(principal, ...SCHOOL_AUDIT_EDITORS)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'school-audit.save', target: `year|${academicYear}`, outcome: 'denied' });
    return { kind: 'forbidden' };
  }
  const parsed = parseAuditYear(academicYear, input);
  if (!parsed.ok) return { kind: 'invalid', problems: parsed.problems };
  try {
    await deps.store.saveYear(deps.schoolId, parsed.year, etag);
  } catch (error) {
    if (!isConflict(error)) throw error;
    return { kind: 'conflict', message: 'Someone else saved this year\'s audit since you opened it. Reload it, then make your change again.' };
  }
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'school-audit.save', target: `year|${academicYear}`, outcome: 'succeeded' });
  return getSchoolAudit(deps, principal, academicYear);
}

/** The summary's governance block from the current year's record (undefined until anything is recorded). */
export async function getGovernanceFigures(deps: Pick<SchoolAuditDependencies, 'schoolId' | 'store' | 'clock'>): Promise<GovernanceFigures | undefined> {
  const year = await deps.store.getYear(deps.schoolId, currentAcademicYear(deps.clock()));
  if (!year) return undefined;
  return {
    policyReviewDue: year.policyReviewDue,
    annualAudit: checklistStatus('annual-audit', year.annualAudit),
    filteringReview: (({ status, completedOn, nextDue }) => ({ status, completedOn, nextDue }))(filteringReviewStatus(year)),
    lead: year.lead,
    governor: year.governor,
  };
}

import type { AuditStore } from '../records/audit-store';
import type { IncidentStore, StoredIncident } from '../records/incident-store';
import { ReviewConflictError, type RetentionReviewRecord, type RetentionReviewStore } from '../records/retention-review-store';
import type { PupilRecord } from '../records/pupil-register-store';
import { isConflict } from '../records/tables';
import { isSubject, rolesThatMayViewIncident } from '../school/incident-routing';
import { schoolDate } from '../school/incident-submission';
import { incidentTypeLabel, type IncidentType } from '../school/incident-types';
import { isPastRetention, reportFloor, retentionDateFor, type Retention, type RetentionBasis, type RetentionRule } from '../school/retention';
import { hasAnyRole, type Principal, type Role } from '../school/roles';

/** Who may read the retention review, approve a deletion and place or lift a legal hold. */
export const RETENTION_ROLES: readonly Role[] = ['dsl', 'headteacher'];

/** The actor id the daily review writes to the audit log. */
export const RETENTION_REVIEW_ACTOR = 'system:retention-review';

export interface RetentionDependencies {
  schoolId: string;
  incidents: Pick<IncidentStore, 'listIncidents' | 'getIncident' | 'listChronology' | 'appendEvent' | 'deleteIncident'>;
  reviews: Pick<RetentionReviewStore, 'listReviews' | 'getReview' | 'saveReviews' | 'recordApproval'>;
  /** The pupil register, for dates of birth learnt after an incident was reported. */
  pupils: { listPupils(schoolId: string): Promise<Pick<PupilRecord, 'externalId' | 'dateOfBirth'>[]> };
  audit: Pick<AuditStore, 'appendAudit'>;
  /** The school's rule for incidents without every pupil's date of birth. */
  rule: RetentionRule;
  clock: () => Date;
  /** Evidence attachments (Azure Blob), deleted with the incident. */
  attachments?: { deleteAll(schoolId: string, reference: string): Promise<number> };
}

export type RetentionOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'not-found' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'precondition-required' }
  | { kind: 'conflict'; reason: 'stale' | 'legal-hold' | 'not-due' | 'open'; message: string; etag: string | undefined };

/** An incident past its retention date. It carries no names and no description. */
export interface RetentionDue {
  reference: string;
  type: IncidentType;
  /** The UK day it was reported. */
  createdOn: string;
  retentionDate: string;
  basis: RetentionBasis;
}

export interface RetentionReviewItem extends RetentionDue {
  typeLabel: string;
  /** The UK day a review first listed it. */
  listedOn: string;
  /** The incident's current etag, for `approveRetentionDeletion` and `setLegalHold`. */
  etag: string;
}

export interface RetentionReviewRun {
  due: RetentionDue[];
  /** Listed before but no longer due (placed on legal hold, or a date corrected). */
  withdrawn: string[];
  /** Past retention but on legal hold, so not listed. */
  onLegalHold: number;
}

/**
 * The daily retention job: lists every incident past its retention date and not on legal hold, and saves
 * that list for the DSL or the head to approve. It never deletes or changes an incident. Running it twice
 * gives the same list; an incident no longer due is marked withdrawn rather than removed from the list.
 */
export async function reviewRetention(deps: RetentionDependencies): Promise<RetentionReviewRun> {
  // Each save is guarded by the etags this run read, so an approval recorded meanwhile is never overwritten;
  // a run that loses that race reads again (the approved incident is gone by then, so it is not listed).
  for (let attempt = 1; ; attempt++) {
    try {
      return await reviewOnce(deps);
    } catch (error) {
      if (!(error instanceof ReviewConflictError) || attempt >= REVIEW_ATTEMPTS) throw error;
    }
  }
}

/** Runs of the review that may lose a race with an approval before the job gives up until its next tick. */
const REVIEW_ATTEMPTS = 3;

async function reviewOnce(deps: RetentionDependencies): Promise<RetentionReviewRun> {
  const now = deps.clock();
  const at = now.toISOString();
  const [incidents, existing, birthDates] = await Promise.all([deps.incidents.listIncidents(deps.schoolId), deps.reviews.listReviews(deps.schoolId), birthDatesOf(deps)]);

  const due: { incident: StoredIncident; retention: Retention & { date: string } }[] = [];
  let onLegalHold = 0;
  for (const incident of incidents) {
    // An open incident is never listed, whatever its dates: it can never be approved for deletion.
    if (incident.status !== 'closed') continue;
    const retention = await retentionOf(deps, incident, birthDates);
    if (!retention.date || !isPastRetention({ retentionDate: retention.date }, now)) continue;
    if (incident.legalHold === true) onLegalHold++;
    else due.push({ incident, retention: { ...retention, date: retention.date } });
  }

  const previous = new Map(existing.map((row) => [row.reference, row]));
  // A recorded approval is final: the review never lists that reference again or rewrites its row.
  const listed = due.filter(({ incident }) => previous.get(incident.reference)?.status !== 'approved').map(({ incident, retention }): RetentionReviewRecord => {
    const before = previous.get(incident.reference);
    return {
      schoolId: deps.schoolId,
      reference: incident.reference,
      type: incident.type,
      createdAt: incident.createdAt,
      retentionDate: retention.date,
      basis: retention.basis,
      status: 'pending',
      listedAt: before?.status === 'pending' ? before.listedAt : at,
      reviewedAt: at,
      ...(before ? { etag: before.etag } : {}),
    };
  });
  const dueReferences = new Set(listed.map((row) => row.reference));
  const withdrawn = existing
    .filter((row) => row.status === 'pending' && !dueReferences.has(row.reference))
    .map((row): RetentionReviewRecord => ({ ...row, status: 'withdrawn', withdrawnAt: at }));
  await deps.reviews.saveReviews(deps.schoolId, [...listed, ...withdrawn]);

  const newlyListed = listed.filter((row) => row.listedAt === at).length;
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: RETENTION_REVIEW_ACTOR,
    action: 'retention.review',
    target: 'incidents',
    outcome: 'succeeded',
    details: { incidents: incidents.length, due: listed.length, newlyListed, withdrawn: withdrawn.length, onLegalHold },
  });
  return { due: listed.map(toDue), withdrawn: withdrawn.map((row) => row.reference), onLegalHold };
}

/** The saved review for the DSL or the head: references, types and dates only, oldest retention date first. */
export async function listRetentionReview(deps: RetentionDependencies, principal: Principal): Promise<RetentionOutcome<RetentionReviewItem[]>> {
  if (!hasAnyRole(principal, ...RETENTION_ROLES)) {
    await audit(deps, principal, 'retention.list', 'retention-review', 'denied');
    return { kind: 'forbidden' };
  }
  const [rows, incidents] = await Promise.all([deps.reviews.listReviews(deps.schoolId), deps.incidents.listIncidents(deps.schoolId)]);
  const live = new Map(incidents.map((incident) => [incident.reference, incident]));
  const items = rows
    .filter((row) => row.status === 'pending')
    .flatMap((row): RetentionReviewItem[] => {
      const incident = live.get(row.reference);
      if (!incident || incident.legalHold === true || !mayReview(principal, incident)) return [];
      return [{ ...toDue(row), typeLabel: incidentTypeLabel(row.type), listedOn: schoolDate(new Date(row.listedAt)), etag: incident.etag }];
    })
    .sort((a, b) => a.retentionDate.localeCompare(b.retentionDate) || a.reference.localeCompare(b.reference));
  await audit(deps, principal, 'retention.list', 'retention-review', 'succeeded', { count: items.length });
  return { kind: 'ok', value: items };
}

export interface ApproveDeletionInput {
  rationale?: unknown;
  etag?: string;
}

export interface ApprovedDeletion {
  reference: string;
  deletedAt: string;
  rowsDeleted: number;
}

/**
 * Deletes an incident past its retention date on the explicit approval of the DSL or the head: the incident,
 * its chronology, its submission marker and its alerts. The review row stays, marked approved with who, when
 * and why, as the school's record of the deletion; the audit log keeps who, when, the reference and the
 * retention date, but not the rationale, because audit entries never hold free text. The governors' monthly
 * counts are anonymous and left as they are, so the summary still counts the incident.
 */
export async function approveRetentionDeletion(
  deps: RetentionDependencies,
  principal: Principal,
  reference: string,
  input: ApproveDeletionInput,
): Promise<RetentionOutcome<ApprovedDeletion>> {
  const action = 'incident.delete';
  const loaded = await load(deps, principal, reference, action);
  if (loaded.kind !== 'ok') return loaded;
  const rationale = text(input.rationale);
  if (!rationale) return { kind: 'invalid', problems: ['Say why the incident may now be deleted (rationale).'] };
  if (!input.etag) return { kind: 'precondition-required' };
  const incident = loaded.value;
  const now = deps.clock();
  const at = now.toISOString();

  if (incident.legalHold === true) {
    await audit(deps, principal, action, reference, 'denied', { reason: 'legal-hold' });
    return { kind: 'conflict', reason: 'legal-hold', etag: incident.etag, message: 'This incident is on legal hold, so it cannot be deleted. Lift the hold first if it is no longer needed.' };
  }
  if (incident.status !== 'closed') {
    await audit(deps, principal, action, reference, 'denied', { reason: 'open' });
    return { kind: 'conflict', reason: 'open', etag: incident.etag, message: 'This incident is still open, so it cannot be deleted. Close it first; its retention is then checked again.' };
  }
  const retention = await retentionOf(deps, incident, await birthDatesOf(deps));
  if (!retention.date || !isPastRetention({ retentionDate: retention.date }, now)) {
    await audit(deps, principal, action, reference, 'denied', { reason: 'not-due' });
    const when = retention.date ? `it is kept until ${retention.date}` : 'its retention period starts only when it is closed';
    return { kind: 'conflict', reason: 'not-due', etag: incident.etag, message: `This incident is not past its retention date: ${when}.` };
  }
  if (incident.etag !== input.etag) {
    await audit(deps, principal, action, reference, 'denied', { reason: 'stale' });
    return staleConflict(incident.etag);
  }

  const details = { reason: 'retention-period-ended', retentionDate: retention.date, basis: retention.basis };
  await audit(deps, principal, action, reference, 'attempted', details);
  let rowsDeleted: number;
  try {
    // Attachments first: if that fails, the incident is still there to be approved again.
    if (deps.attachments) await deps.attachments.deleteAll(deps.schoolId, reference);
    rowsDeleted = await deps.incidents.deleteIncident(incident, at);
  } catch (error) {
    if (!isConflict(error)) {
      await audit(deps, principal, action, reference, 'failed', details).catch(() => undefined);
      throw error;
    }
    await audit(deps, principal, action, reference, 'denied', { reason: 'stale' });
    return staleConflict((await deps.incidents.getIncident(deps.schoolId, reference))?.etag);
  }

  const before = await deps.reviews.getReview(deps.schoolId, reference);
  // The approval always wins over the daily review's rows (which never overwrite it in turn).
  await deps.reviews.recordApproval(deps.schoolId, {
      schoolId: deps.schoolId,
      reference,
      type: incident.type,
      createdAt: incident.createdAt,
      retentionDate: retention.date,
      basis: retention.basis,
      status: 'approved',
      listedAt: before?.listedAt ?? at,
      reviewedAt: before?.reviewedAt ?? at,
      approvedBy: principal.aadObjectId,
      approvedAt: at,
      rationale: rationale.slice(0, 2000),
  });
  await audit(deps, principal, action, reference, 'succeeded', { ...details, rowsDeleted });
  return { kind: 'ok', value: { reference, deletedAt: at, rowsDeleted } };
}

export interface LegalHoldInput {
  hold?: unknown;
  reason?: unknown;
  etag?: string;
}

export interface LegalHoldState {
  reference: string;
  legalHold: boolean;
  etag: string;
}

/** Places or lifts a legal hold, with a chronology line saying why; an incident on hold is never listed or deleted. */
export async function setLegalHold(deps: RetentionDependencies, principal: Principal, reference: string, input: LegalHoldInput): Promise<RetentionOutcome<LegalHoldState>> {
  const action = 'incident.legal-hold';
  const loaded = await load(deps, principal, reference, action);
  if (loaded.kind !== 'ok') return loaded;
  const reason = text(input.reason);
  const problems = [
    ...(typeof input.hold === 'boolean' ? [] : ['Say whether to place or lift the legal hold (hold: true or false).']),
    ...(reason ? [] : ['Say why (reason).']),
  ];
  if (problems.length > 0) return { kind: 'invalid', problems };
  const hold = input.hold as boolean;
  if (!input.etag) return { kind: 'precondition-required' };
  const incident = loaded.value;
  if ((incident.legalHold === true) === hold) {
    return { kind: 'invalid', problems: [hold ? 'This incident is already on legal hold.' : 'This incident is not on legal hold.'] };
  }
  if (incident.etag !== input.etag) {
    await audit(deps, principal, action, reference, 'denied', { reason: 'stale' });
    return staleConflict(incident.etag);
  }
  let updated: StoredIncident;
  try {
    updated = await deps.incidents.appendEvent(
      incident,
      { at: deps.clock().toISOString(), actorId: principal.aadObjectId, kind: 'status', what: hold ? 'Legal hold placed' : 'Legal hold lifted', why: reason.slice(0, 2000) },
      { legalHold: hold },
    );
  } catch (error) {
    if (!isConflict(error)) throw error;
    await audit(deps, principal, action, reference, 'denied', { reason: 'stale' });
    return staleConflict((await deps.incidents.getIncident(deps.schoolId, reference))?.etag);
  }
  await audit(deps, principal, action, reference, 'succeeded', { hold });
  return { kind: 'ok', value: { reference, legalHold: hold, etag: updated.etag } };
}

/**
 * The incident's retention as the review and an approval apply it: worked out again from the register and the
 * current rule every time, so a date of birth added to the roll later, a corrected date of birth and a change to
 * the school's rule all reach incidents already recorded (the date stored at report time is only what the case
 * view shows until then). Where the register no longer has a date of birth that a stored date-of-birth date was
 * worked out from (the pupil left and was removed), the later of the two is kept, so forgetting never shortens.
 * Either way the date is never earlier than the report date plus the school's fallback (school/retention.ts).
 */
async function retentionOf(deps: RetentionDependencies, incident: StoredIncident, birthDates: ReadonlyMap<string, string>): Promise<Retention> {
  let closedAt = incident.closedAt;
  if (!closedAt && incident.status === 'closed' && deps.rule.from === 'closed') {
    const chronology = await deps.incidents.listChronology(deps.schoolId, incident.reference);
    closedAt = chronology.find((event) => event.kind === 'closed')?.at ?? incident.updatedAt;
  }
  const current = retentionDateFor({ involved: incident.involved, createdAt: incident.createdAt, closedAt }, birthDates, deps.rule);
  if (current.basis === 'date-of-birth' || incident.retentionBasis !== 'date-of-birth' || !incident.retentionDate) return current;
  const floor = reportFloor(incident.createdAt, deps.rule);
  const stored = incident.retentionDate > floor ? incident.retentionDate : floor;
  if (!current.date) return { date: stored, basis: 'date-of-birth' };
  return current.date >= stored ? current : { date: stored, basis: 'date-of-birth' };
}

async function birthDatesOf(deps: RetentionDependencies): Promise<Map<string, string>> {
  const pupils = await deps.pupils.listPupils(deps.schoolId);
  return new Map(pupils.flatMap((p) => (p.dateOfBirth ? [[p.externalId, p.dateOfBirth] as const] : [])));
}

/** A retention role that may also see the incident: a concern about the head is for the chair, so neither the head nor the DSL reviews it here. */
function mayReview(principal: Principal, incident: Pick<StoredIncident, 'audience' | 'reporterId' | 'subjectId' | 'dslExcluded' | 'grantedViewerIds'>): boolean {
  // Never the subject of an allegation, and never the DSL when kept out of one (school/incident-routing.ts).
  return !isSubject(principal, incident) && rolesThatMayViewIncident(incident).some((role) => RETENTION_ROLES.includes(role) && principal.roles.has(role));
}

async function load(deps: RetentionDependencies, principal: Principal, reference: string, action: string): Promise<RetentionOutcome<StoredIncident>> {
  if (!hasAnyRole(principal, ...RETENTION_ROLES)) {
    await audit(deps, principal, action, reference, 'denied');
    return { kind: 'forbidden' };
  }
  const incident = await deps.incidents.getIncident(deps.schoolId, reference);
  if (!incident) return { kind: 'not-found' };
  if (!mayReview(principal, incident)) {
    await audit(deps, principal, action, reference, 'denied');
    return { kind: 'forbidden' };
  }
  return { kind: 'ok', value: incident };
}

function staleConflict(etag: string | undefined): RetentionOutcome<never> {
  return { kind: 'conflict', reason: 'stale', etag, message: 'Someone else changed this incident since you opened it. Reload it to see their change, then try again.' };
}

function toDue(row: RetentionReviewRecord): RetentionDue {
  return { reference: row.reference, type: row.type, createdOn: schoolDate(new Date(row.createdAt)), retentionDate: row.retentionDate, basis: row.basis };
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

function audit(
  deps: RetentionDependencies,
  principal: Principal,
  action: string,
  target: string,
  outcome: 'succeeded' | 'denied' | 'failed' | 'attempted',
  details?: Record<string, string | number | boolean>,
): Promise<void> {
  return deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action, target, outcome, ...(details ? { details } : {}) });
}

import type { AuditStore } from '../records/audit-store';
import type { CounterStore } from '../records/counter-store';
import type { AlertRecord, IncidentRecord, IncidentStore, NewAlert, StoredIncident } from '../records/incident-store';
import { StorageUnavailableError } from '../records/tables';
import type { RoleDirectory } from '../identity/role-directory';
import { countForNewIncident, storeCount, type AggregateWriter } from './summarise-incidents';
import { fourCOf } from '../school/incident-types';
import { formatIncidentReference, incidentCounterName } from '../school/incident-references';
import { audienceOf, dslExcluded, isChildProtection, matrixSubjectOf, rolesToAlert } from '../school/incident-routing';
import { resolveAllegationSubject } from './allegation-subject';
import { schoolDate, validateIncidentSubmission, type FieldProblem, type IncidentFormValues } from '../school/incident-submission';
import { guidanceFor, suggestActionsForIncident, type ResponseMatrix } from '../school/response-matrix';
import { DEFAULT_RETENTION_RULE, retentionDateFor, type RetentionRule } from '../school/retention';
import { canReportIncidents, type Principal, type Role } from '../school/roles';

/** A pupil as the report card offers them: register id, a label for the picker and their year group. */
export interface PupilChoice {
  pupilId: string;
  label: string;
  yearGroup: string;
  /** YYYY-MM-DD when the register knows it; sets the incident's retention date and never goes on the card. */
  dateOfBirth?: string;
}

/** Where the report card finds pupils; the pupil register once provisioning has run. */
export interface PupilPicker {
  listPupilChoices(schoolId: string): Promise<PupilChoice[]>;
  /** The named pupils only, read by key (the submit path); without it the submit path lists every choice. */
  getPupilChoices?(schoolId: string, pupilIds: readonly string[]): Promise<PupilChoice[]>;
  /** Every choice when the roll has at most `limit` pupils, else undefined (reads at most `limit + 1` rows). */
  listPupilChoicesIfAtMost?(schoolId: string, limit: number): Promise<PupilChoice[] | undefined>;
  /** Up to `limit` pupils whose names start with the words typed (the card's typeahead search). */
  searchPupilChoices?(schoolId: string, text: string, limit: number): Promise<PupilChoice[]>;
}

export interface ReportIncidentDependencies {
  schoolId: string;
  incidents: IncidentStore;
  counters: CounterStore;
  audit: AuditStore;
  roles: RoleDirectory;
  pupils: PupilPicker;
  matrix: ResponseMatrix;
  clock: () => Date;
  /** Monthly counters behind the governors' summary. */
  aggregates: AggregateWriter;
  /** The school's retention rule for incidents without every pupil's date of birth; absent means DEFAULT_RETENTION_RULE. */
  retention?: RetentionRule;
}

export interface RecordedIncident {
  kind: 'recorded';
  /** True when this submission had already been recorded (a double click or a retry). */
  duplicate: boolean;
  incident: StoredIncident;
  suggestedActions: { id: string; label: string }[];
  illegalGuidance: readonly string[];
  alertedRoles: Role[];
  /** Alerts this report wrote already claimed for this instance, to deliver at once (`deliverClaimedAlerts`). */
  claimedAlerts?: AlertRecord[];
}

export type ReportIncidentOutcome =
  | RecordedIncident
  | { kind: 'invalid'; problems: FieldProblem[] }
  | { kind: 'forbidden' }
  | { kind: 'storage-unavailable' };

export interface ReportIncidentRequest {
  principal: Principal;
  submissionId: string;
  values: IncidentFormValues;
  correlationId: string;
}

/**
 * Records a concern from the report card: checks the reporter may report, validates on the server,
 * allocates a reference, and stores the incident, its first chronology line and its alerts together.
 * A submission id that was already recorded returns the first incident and stores nothing new.
 */
export async function reportIncident(deps: ReportIncidentDependencies, request: ReportIncidentRequest): Promise<ReportIncidentOutcome> {
  const { principal, submissionId, correlationId } = request;
  const { schoolId, audit } = deps;
  if (!canReportIncidents(principal)) {
    await audit.appendAudit(schoolId, { actorId: principal.aadObjectId, action: 'incident.create', target: '', outcome: 'denied', correlationId }).catch(() => undefined);
    return { kind: 'forbidden' };
  }
  if (!/^[A-Za-z0-9-]{8,64}$/.test(submissionId)) {
    return { kind: 'invalid', problems: [{ field: 'description', message: 'This card is out of date: send /report to get a new one.' }] };
  }

  try {
    const existing = await deps.incidents.findReferenceForSubmission(schoolId, submissionId);
    if (existing) {
      const outcome = await recordedOutcome(deps, principal, existing, true, correlationId);
      // A submission id is only ever on one person's card; anyone else replaying it learns nothing.
      if (outcome.incident.reporterId !== principal.aadObjectId) {
        return { kind: 'invalid', problems: [{ field: 'description', message: 'This card is out of date: send /report to get a new one.' }] };
      }
      return outcome;
    }

    // Only the pupils the form names, read by key: never a scan of the register per report.
    const named = pupilIdsIn(request.values);
    const pupils = deps.pupils.getPupilChoices ? (named.length > 0 ? await deps.pupils.getPupilChoices(schoolId, named) : []) : await deps.pupils.listPupilChoices(schoolId);
    const now = deps.clock();
    const validation = validateIncidentSubmission(request.values, { now, knownPupilIds: new Set(pupils.map((p) => p.pupilId)) });
    if (!validation.ok) return { kind: 'invalid', problems: validation.problems };
    const submission = validation.submission;

    const year = Number(schoolDate(now).slice(0, 4));
    const sequence = await deps.counters.nextValue(schoolId, incidentCounterName(year));
    const reference = formatIncidentReference(year, sequence);
    // A concern about staff never reaches its subject: not alerted, and kept from them (school/incident-routing.ts).
    const subject = await resolveAllegationSubject(deps.roles, submission.subjectStaff);
    const routing = { type: submission.type, childProtection: submission.childProtection, involved: submission.involved, subject: subject.routing };
    const alerts = (await alertsFor(deps.roles, rolesToAlert(routing), principal.aadObjectId, submission.type, isChildProtection(routing))).filter((a) => a.recipientId !== subject.subjectId);
    const yearGroups = submission.involved.flatMap((p) => (p.kind === 'pupil' ? [pupils.find((c) => c.pupilId === p.pupilId)!.yearGroup] : []));
    const at = now.toISOString();
    const birthDates = new Map(pupils.flatMap((p) => (p.dateOfBirth ? [[p.pupilId, p.dateOfBirth] as const] : [])));
    const retention = retentionDateFor({ involved: submission.involved, createdAt: at }, birthDates, deps.retention ?? DEFAULT_RETENTION_RULE);

    const record: IncidentRecord = {
        schoolId,
        reference,
        type: submission.type,
        fourC: fourCOf(submission.type),
        audience: audienceOf(routing),
        childProtection: isChildProtection(routing),
        subject: matrixSubjectOf(routing),
        occurredOn: submission.occurredOn,
        occurredAt: submission.occurredAt,
        involved: submission.involved,
        yearGroups: [...new Set(yearGroups)].sort(),
        location: submission.location,
        description: submission.description,
        actionTaken: submission.actionTaken,
        historic: submission.historic,
        subjectId: subject.subjectId,
        subjectUnresolved: subject.routing === 'unresolved',
        dslExcluded: dslExcluded(routing),
        status: 'open',
        reporterId: principal.aadObjectId,
        submissionId,
        createdAt: at,
        updatedAt: at,
        eventCount: 1,
        retentionDate: retention.date,
        retentionBasis: retention.basis,
        legalHold: false,
    };
    // The count change is written with the incident, so a failed or lost count write is caught up later.
    const count = countForNewIncident(record);
    const result = await deps.incidents.createIncident(
      record,
      { at, actorId: principal.aadObjectId, kind: 'reported', what: 'Concern reported', why: submission.actionTaken ? 'Action already taken by the reporter is recorded on the incident.' : '' },
      alerts,
      // The audit line commits in the same transaction as the incident, so neither can exist without the other.
      {
        auditRows: [audit.auditRowFor(schoolId, { actorId: principal.aadObjectId, action: 'incident.create', target: reference, outcome: 'succeeded', correlationId })],
        claimAlertsAt: at,
        ...(count ? { counts: [count] } : {}),
      },
    );
    if (!result.created) {
      await audit.appendAudit(schoolId, { actorId: principal.aadObjectId, action: 'incident.create', target: reference, outcome: 'failed', correlationId, details: { duplicateOf: result.existingReference } });
      return await recordedOutcome(deps, principal, result.existingReference, true, correlationId);
    }
    try {
      await storeCount(deps.aggregates, schoolId, count);
    } catch {
      // The concern and its pending count are stored; catchUpIncidentCounts counts it within minutes.
    }
    return { ...outcomeFor(deps.matrix, { ...record, etag: '' }, false, alerts), claimedAlerts: result.alerts };
  } catch (error) {
    if (error instanceof StorageUnavailableError) return { kind: 'storage-unavailable' };
    throw error;
  }
}

/** Register ids of the pupils a submitted form names (`pupil:<id>` values), before validation. */
function pupilIdsIn(values: IncidentFormValues): string[] {
  const tokens = (values.involved ?? '').split(',').map((t) => t.trim());
  // Bounded: a form naming more pupils than the limit is refused by validation anyway.
  return [...new Set(tokens.filter((t) => t.startsWith('pupil:') && t.length > 'pupil:'.length).map((t) => t.slice('pupil:'.length)))].slice(0, 50);
}

async function alertsFor(roles: RoleDirectory, alertRoles: Role[], reporterId: string, type: StoredIncident['type'], urgent: boolean): Promise<NewAlert[]> {
  const alerts = new Map<string, NewAlert>();
  for (const role of alertRoles) {
    for (const recipientId of await roles.listRoleMembers(role)) {
      if (recipientId !== reporterId && !alerts.has(recipientId)) alerts.set(recipientId, { recipientId, role, type, urgent });
    }
  }
  return [...alerts.values()];
}

async function recordedOutcome(
  deps: ReportIncidentDependencies,
  principal: Principal,
  reference: string,
  duplicate: boolean,
  correlationId: string,
): Promise<RecordedIncident> {
  const incident = await deps.incidents.getIncident(deps.schoolId, reference);
  if (!incident) throw new Error(`Incident ${reference} has a submission marker but no record; the store is inconsistent.`);
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: principal.aadObjectId,
    action: duplicate ? 'incident.read.resubmission' : 'incident.read.confirmation',
    target: reference,
    outcome: 'succeeded',
    correlationId,
  });
  return outcomeFor(deps.matrix, incident, duplicate, await deps.incidents.listAlertsForIncident(deps.schoolId, reference));
}

/** `alerts` are the ones actually queued, so the card names only roles someone holds, never the reporter's own. */
function outcomeFor(matrix: ResponseMatrix, incident: StoredIncident, duplicate: boolean, alerts: readonly Pick<NewAlert, 'role'>[]): RecordedIncident {
  return {
    kind: 'recorded',
    duplicate,
    incident,
    suggestedActions: suggestActionsForIncident(matrix, incident),
    illegalGuidance: guidanceFor(incident.type),
    alertedRoles: [...new Set(alerts.map((a) => a.role))],
  };
}

/** The caller's own reports, newest first; each listing is audited. */
export async function listMyReports(
  deps: Pick<ReportIncidentDependencies, 'schoolId' | 'incidents' | 'audit'>,
  principal: Principal,
  correlationId: string,
): Promise<StoredIncident[]> {
  const incidents = await deps.incidents.listIncidentsByReporter(deps.schoolId, principal.aadObjectId);
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: principal.aadObjectId,
    action: 'incident.list.own',
    target: incidents.map((i) => i.reference).join(',').slice(0, 30_000),
    outcome: 'succeeded',
    correlationId,
    details: { count: incidents.length },
  });
  return incidents;
}

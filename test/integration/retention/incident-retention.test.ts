import { randomUUID } from 'node:crypto';
import { odata } from '@azure/data-tables';
import { AuditStore } from '../../../records/audit-store';
import { CounterStore } from '../../../records/counter-store';
import { IncidentAggregateStore } from '../../../records/incident-aggregate-store';
import { IncidentStore, type IncidentRecord, type NewAlert } from '../../../records/incident-store';
import { RetentionReviewStore } from '../../../records/retention-review-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { TABLE_NAMES, Tables } from '../../../records/tables';
import type { InvolvedParty } from '../../../school/incident-routing';
import { DEFAULT_RESPONSE_MATRIX } from '../../../school/response-matrix';
import type { RetentionRule } from '../../../school/retention';
import type { Principal, Role } from '../../../school/roles';
import {
  approveRetentionDeletion,
  listRetentionReview,
  RETENTION_REVIEW_ACTOR,
  reviewRetention,
  setLegalHold,
  type RetentionDependencies,
} from '../../../usecases/incident-retention';
import { reportIncident, type ReportIncidentDependencies } from '../../../usecases/report-incident';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const tables = new Tables({ connectionString: testTablesConnectionString() });
const incidents = new IncidentStore(tables);
const reviews = new RetentionReviewStore(tables);
const register = new PupilRegisterStore(tables);

/**
 * The school's rule in these tests: 7 years from the report, so that dates of birth decide where they are later
 * (with the default 25 years from the report, the report date always decides).
 */
const SEVEN_YEARS: RetentionRule = { fallbackYears: 7, from: 'created' };

/** The day the daily job runs in these tests. */
const NOW = new Date('2044-09-01T02:00:00.000Z');
const DESCRIPTION = 'Unkind messages about a classmate were posted in the class team.';

const person = (id: string, ...roles: Role[]): Principal => ({ aadObjectId: id, roles: new Set(roles) });
const DSL = person('dsl-1', 'dsl', 'staff');
const HEAD = person('head-1', 'headteacher', 'staff');
const COORDINATOR = person('coordinator-1', 'coordinator', 'staff');
const TEACHER = person('teacher-1', 'staff');
const CHAIR = person('chair-1', 'chair');

const pupil = (pupilId: string): InvolvedParty => ({ kind: 'pupil', pupilId });

function pupilRow(externalId: string, forename: string, dateOfBirth?: string): PupilRecord {
  const at = '2025-09-05T10:00:00.000Z';
  return { externalId, forename, surname: 'Testpupil', cohort: '23', userPrincipalName: `${externalId.toLowerCase()}@school.example`, status: 'active', groups: [], createdAt: at, updatedAt: at, ...(dateOfBirth ? { dateOfBirth } : {}) };
}

interface Seed {
  reference: string;
  involved: InvolvedParty[];
  createdAt?: string;
  retention?: Pick<IncidentRecord, 'retentionDate' | 'retentionBasis'>;
  legalHold?: boolean;
  audience?: IncidentRecord['audience'];
  alerts?: NewAlert[];
  /** Closed (on the day it was reported) unless said otherwise: only closed incidents can be deleted. */
  status?: 'open' | 'closed';
}

async function seedIncident(schoolId: string, seed: Seed): Promise<void> {
  const at = seed.createdAt ?? '2026-03-02T09:00:00.000Z';
  const record: IncidentRecord = {
    schoolId,
    reference: seed.reference,
    type: seed.audience === 'staff-concern' || seed.audience === 'headteacher-concern' ? 'inappropriate-communication' : 'cyberbullying',
    fourC: 'conduct',
    audience: seed.audience ?? 'standard',
    childProtection: false,
    subject: seed.audience === 'staff-concern' || seed.audience === 'headteacher-concern' ? 'staff' : 'pupil',
    occurredOn: at.slice(0, 10),
    occurredAt: undefined,
    involved: seed.involved,
    yearGroups: [],
    location: 'ICT suite',
    description: DESCRIPTION,
    actionTaken: '',
    status: seed.status ?? 'closed',
    ...(seed.status === 'open' ? {} : { closedAt: at }),
    reporterId: 'teacher-1',
    submissionId: randomUUID(),
    createdAt: at,
    updatedAt: at,
    eventCount: 1,
    ...(seed.retention ?? {}),
    ...(seed.legalHold ? { legalHold: true } : {}),
  };
  await incidents.createIncident(record, { at, actorId: 'teacher-1', kind: 'reported', what: 'Concern reported', why: '' }, seed.alerts ?? []);
}

/**
 * A school on the day of the job, with incidents of every kind:
 * - due: A and F (pupil born 2017-03-14, so kept until 2042-03-14; F is an older row with no retention fields),
 *   J (reported without a date of birth, which the register has learnt since: 2043-01-20),
 *   D (pupil without a date of birth, reported 2019-01-15: the school rule keeps it until 2026-01-15, although
 *   the row says 2044-01-15 from an older rule), G (a staff concern reported 2019-02-01), I (a concern about the
 *   head reported 2019-03-01);
 * - not due: B (pupil born 2019-11-02, kept until 2044-11-02), E (a staff concern from 2040), H (an unlisted pupil, 2040);
 * - C is past retention but on legal hold.
 */
async function seedSchool(): Promise<{ deps: RetentionDependencies; schoolId: string; clock: { now: Date } }> {
  const schoolId = uniqueSchoolId('retention');
  await register.savePupils(schoolId, [
    pupilRow('P1', 'Ada', '2017-03-14'),
    pupilRow('P2', 'Bea', '2019-11-02'),
    pupilRow('P3', 'Cal'),
    pupilRow('P4', 'Dot', '2018-01-20'),
  ]);
  const alerts: NewAlert[] = [
    { recipientId: 'coordinator-1', role: 'coordinator', type: 'cyberbullying', urgent: false },
    { recipientId: 'dsl-1', role: 'dsl', type: 'cyberbullying', urgent: false },
  ];
  const byBirth = (date: string) => ({ retentionDate: date, retentionBasis: 'date-of-birth' as const });
  const byRule = (date: string) => ({ retentionDate: date, retentionBasis: 'school-rule' as const });
  await seedIncident(schoolId, { reference: 'ES-2026-0001', involved: [pupil('P1')], retention: byBirth('2042-03-14'), alerts });
  await seedIncident(schoolId, { reference: 'ES-2026-0002', involved: [pupil('P2')], retention: byBirth('2044-11-02') });
  await seedIncident(schoolId, { reference: 'ES-2026-0003', involved: [pupil('P1')], retention: byBirth('2042-03-14'), legalHold: true });
  await seedIncident(schoolId, { reference: 'ES-2019-0004', involved: [pupil('P3')], createdAt: '2019-01-15T10:00:00.000Z', retention: byRule('2044-01-15') });
  await seedIncident(schoolId, { reference: 'ES-2040-0005', involved: [{ kind: 'staff' }], audience: 'staff-concern', createdAt: '2040-03-02T09:00:00.000Z', retention: byRule('2047-03-02') });
  await seedIncident(schoolId, { reference: 'ES-2026-0006', involved: [pupil('P1')] });
  await seedIncident(schoolId, { reference: 'ES-2019-0007', involved: [{ kind: 'staff' }], audience: 'staff-concern', createdAt: '2019-02-01T10:00:00.000Z', retention: byRule('2044-02-01') });
  await seedIncident(schoolId, { reference: 'ES-2040-0008', involved: [{ kind: 'pupil-unlisted' }], createdAt: '2040-06-01T10:00:00.000Z', retention: byRule('2047-06-01') });
  await seedIncident(schoolId, { reference: 'ES-2019-0009', involved: [{ kind: 'headteacher' }], audience: 'headteacher-concern', createdAt: '2019-03-01T10:00:00.000Z', retention: byRule('2044-03-01') });
  await seedIncident(schoolId, { reference: 'ES-2026-0010', involved: [pupil('P4')], retention: byRule('2051-03-02') });
  // A (0001) has a chronology of more than one line.
  const a = (await incidents.getIncident(schoolId, 'ES-2026-0001'))!;
  await incidents.appendEvent(a, { at: '2026-03-03T09:00:00.000Z', actorId: 'dsl-1', kind: 'action', what: 'refer-dsl', why: 'Spoke to the class.' });

  const clock = { now: NOW };
  const deps: RetentionDependencies = {
    schoolId,
    incidents,
    reviews,
    pupils: register,
    audit: new AuditStore(tables, () => clock.now),
    rule: SEVEN_YEARS,
    clock: () => clock.now,
  };
  return { deps, schoolId, clock };
}

const DUE = ['ES-2026-0001', 'ES-2026-0006', 'ES-2026-0010', 'ES-2019-0004', 'ES-2019-0007', 'ES-2019-0009'];
/** What the DSL and the head see: everything due except the concern about the head, which is the chair's. */
const DUE_FOR_DSL = ['ES-2019-0004', 'ES-2019-0007', 'ES-2026-0001', 'ES-2026-0006', 'ES-2026-0010'];

/** Every row of the school's incidents partition with its etag, so "nothing deleted or changed" can be checked exactly. */
async function incidentRows(schoolId: string): Promise<Map<string, string>> {
  const table = await tables.getTable(TABLE_NAMES.incidents);
  const rows = new Map<string, string>();
  for await (const entity of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${schoolId}` } })) rows.set(entity.rowKey!, entity.etag);
  return rows;
}

const rowsOf = (rows: Map<string, string>, reference: string): string[] => [...rows.keys()].filter((key) => key.includes(`|${reference}`)).sort();

async function etagOf(schoolId: string, reference: string): Promise<string> {
  return (await incidents.getIncident(schoolId, reference))!.etag;
}

describe('reviewRetention (the daily job)', () => {
  it('lists exactly the incidents past retention and not on legal hold, with the date and what it came from', async () => {
    const { deps } = await seedSchool();
    const run = await reviewRetention(deps);
    expect(run.due.map((d) => d.reference).sort()).toEqual([...DUE].sort());
    expect(run.onLegalHold).toBe(1);
    expect(run.withdrawn).toEqual([]);
    const byReference = Object.fromEntries(run.due.map((d) => [d.reference, [d.retentionDate, d.basis, d.createdOn]]));
    expect(byReference).toEqual({
      'ES-2026-0001': ['2042-03-14', 'date-of-birth', '2026-03-02'],
      'ES-2026-0006': ['2042-03-14', 'date-of-birth', '2026-03-02'],
      'ES-2026-0010': ['2043-01-20', 'date-of-birth', '2026-03-02'],
      'ES-2019-0004': ['2026-01-15', 'school-rule', '2019-01-15'],
      'ES-2019-0007': ['2026-02-01', 'school-rule', '2019-02-01'],
      'ES-2019-0009': ['2026-03-01', 'school-rule', '2019-03-01'],
    });
  });

  it('deletes nothing and changes nothing: every incident row is still there with the same etag', async () => {
    const { deps, schoolId } = await seedSchool();
    const before = await incidentRows(schoolId);
    expect(before.size).toBe(10 * 3 + 2 + 1);
    await reviewRetention(deps);
    await reviewRetention(deps);
    expect(await incidentRows(schoolId)).toEqual(before);
    expect(await incidents.listIncidents(schoolId)).toHaveLength(10);
  });

  it('saves the list idempotently: a second run keeps the day each incident was first listed', async () => {
    const { deps, schoolId, clock } = await seedSchool();
    await reviewRetention(deps);
    const first = await reviews.listReviews(schoolId);
    clock.now = new Date('2044-09-02T02:00:00.000Z');
    await reviewRetention(deps);
    const second = await reviews.listReviews(schoolId);
    expect(second.map((r) => [r.reference, r.status, r.listedAt])).toEqual(first.map((r) => [r.reference, r.status, r.listedAt]));
    expect(new Set(second.map((r) => r.reviewedAt))).toEqual(new Set(['2044-09-02T02:00:00.000Z']));
    expect(second).toHaveLength(DUE.length);
  });

  it('writes one audit entry per run, as the job, with counts only', async () => {
    const { deps, schoolId } = await seedSchool();
    await reviewRetention(deps);
    const entries = (await new AuditStore(tables).listAudit(schoolId)).filter((e) => e.action === 'retention.review');
    expect(entries).toEqual([
      expect.objectContaining({ actorId: RETENTION_REVIEW_ACTOR, target: 'incidents', outcome: 'succeeded', details: { incidents: 10, due: 6, newlyListed: 6, withdrawn: 0, onLegalHold: 1 } }),
    ]);
  });

  it('when an incident is placed on legal hold after it was listed, the next run withdraws it', async () => {
    const { deps, schoolId } = await seedSchool();
    await reviewRetention(deps);
    const held = await setLegalHold(deps, DSL, 'ES-2019-0004', { hold: true, reason: 'A civil claim has been notified.', etag: await etagOf(schoolId, 'ES-2019-0004') });
    expect(held.kind).toBe('ok');
    const run = await reviewRetention(deps);
    expect(run.withdrawn).toEqual(['ES-2019-0004']);
    expect(run.due.map((d) => d.reference)).not.toContain('ES-2019-0004');
    expect((await reviews.getReview(schoolId, 'ES-2019-0004'))?.status).toBe('withdrawn');
  });

  it('when the school rule counts from closure, lists a closed incident once its years have passed and never an open one', async () => {
    const schoolId = uniqueSchoolId('retention');
    const rule: RetentionRule = { fallbackYears: 6, from: 'closed' };
    const clock = { now: new Date('2036-06-01T02:00:00.000Z') };
    const deps: RetentionDependencies = { schoolId, incidents, reviews, pupils: register, audit: new AuditStore(tables), rule, clock: () => clock.now };
    await seedIncident(schoolId, { reference: 'ES-2026-0001', involved: [{ kind: 'staff' }], audience: 'staff-concern', status: 'open' });
    await seedIncident(schoolId, { reference: 'ES-2026-0002', involved: [{ kind: 'staff' }], audience: 'staff-concern', status: 'open' });
    await seedIncident(schoolId, { reference: 'ES-2026-0003', involved: [{ kind: 'staff' }], audience: 'staff-concern', status: 'open' });
    const close = async (reference: string, at: string) => {
      const read = (await incidents.getIncident(schoolId, reference))!;
      await incidents.appendEvent(read, { at, actorId: 'head-1', kind: 'closed', what: 'No further action', why: 'Resolved' }, { status: 'closed' });
    };
    await seedIncident(schoolId, { reference: 'ES-2026-0004', involved: [{ kind: 'staff' }], audience: 'staff-concern', status: 'open' });
    await close('ES-2026-0001', '2030-05-01T10:00:00.000Z');
    await close('ES-2026-0002', '2030-07-01T10:00:00.000Z');
    await close('ES-2026-0004', '2029-03-01T10:00:00.000Z');
    // 0004 was closed before closure was recorded on the incident, and changed since: its chronology says when it closed.
    const table = await tables.getTable(TABLE_NAMES.incidents);
    const { etag: _etag, timestamp: _timestamp, closedAt: _closedAt, ...older } = await table.getEntity<Record<string, unknown>>(schoolId, 'incident|ES-2026-0004');
    await table.updateEntity({ ...older, partitionKey: schoolId, rowKey: 'incident|ES-2026-0004', updatedAt: '2031-01-01T10:00:00.000Z' }, 'Replace');

    const run = await reviewRetention(deps);
    expect(run.due.map((d) => [d.reference, d.retentionDate])).toEqual([
      ['ES-2026-0001', '2036-05-01'],
      ['ES-2026-0004', '2035-03-01'],
    ]);
  });
});

describe('listRetentionReview', () => {
  it('shows the DSL and the head references, types and dates only, oldest retention date first', async () => {
    const { deps } = await seedSchool();
    await reviewRetention(deps);
    for (const principal of [DSL, HEAD]) {
      const outcome = await listRetentionReview(deps, principal);
      if (outcome.kind !== 'ok') throw new Error(`expected ok, got ${outcome.kind}`);
      expect(outcome.value.map((i) => i.reference)).toEqual(DUE_FOR_DSL);
      for (const item of outcome.value) {
        expect(Object.keys(item).sort()).toEqual(['basis', 'createdOn', 'etag', 'listedOn', 'reference', 'retentionDate', 'type', 'typeLabel']);
      }
      const text = JSON.stringify(outcome.value);
      expect(text).not.toContain(DESCRIPTION);
      expect(text).not.toMatch(/Ada|Cal|Dot|Testpupil/);
      expect(outcome.value.find((i) => i.reference === 'ES-2026-0001')).toMatchObject({ reference: 'ES-2026-0001', type: 'cyberbullying', typeLabel: expect.any(String), createdOn: '2026-03-02', retentionDate: '2042-03-14', listedOn: '2044-09-01' });
    }
  });

  it.each([
    ['the coordinator', COORDINATOR],
    ['a teacher', TEACHER],
    ['the chair', CHAIR],
  ])('refuses %s, and audits the refusal', async (_who, principal) => {
    const { deps, schoolId } = await seedSchool();
    await reviewRetention(deps);
    expect(await listRetentionReview(deps, principal)).toEqual({ kind: 'forbidden' });
    const entries = await new AuditStore(tables).listAudit(schoolId, { target: 'retention-review' });
    expect(entries).toEqual([expect.objectContaining({ actorId: principal.aadObjectId, action: 'retention.list', outcome: 'denied' })]);
  });
});

describe('approveRetentionDeletion', () => {
  it('deletes only the approved incident, with all its rows, and records who approved it, when and why', async () => {
    const { deps, schoolId } = await seedSchool();
    await reviewRetention(deps);
    const before = await incidentRows(schoolId);
    expect(rowsOf(before, 'ES-2026-0001')).toHaveLength(5);
    const { submissionId } = (await incidents.getIncident(schoolId, 'ES-2026-0001'))!;

    const outcome = await approveRetentionDeletion(deps, DSL, 'ES-2026-0001', { rationale: 'Retention period ended; no proceedings open.', etag: await etagOf(schoolId, 'ES-2026-0001') });
    expect(outcome).toEqual({ kind: 'ok', value: { reference: 'ES-2026-0001', deletedAt: NOW.toISOString(), rowsDeleted: 6 } });

    const after = await incidentRows(schoolId);
    const approved = (await incidents.listIncidents(schoolId)).find((i) => i.reference === 'ES-2026-0001');
    expect(approved).toBeUndefined();
    const gone = [...before.keys()].filter((key) => !after.has(key)).sort();
    expect(gone).toEqual([...rowsOf(before, 'ES-2026-0001'), `submission|${submissionId}`].sort());
    for (const [key, etag] of after) expect(before.get(key)).toBe(etag);
    expect(after.size).toBe(before.size - 6);

    expect(await reviews.getReview(schoolId, 'ES-2026-0001')).toMatchObject({
      status: 'approved',
      approvedBy: 'dsl-1',
      approvedAt: NOW.toISOString(),
      rationale: 'Retention period ended; no proceedings open.',
      retentionDate: '2042-03-14',
    });
    const audit = await new AuditStore(tables).listAudit(schoolId, { target: 'ES-2026-0001' });
    expect(audit.map((e) => [e.action, e.outcome, e.actorId])).toEqual([
      ['incident.delete', 'attempted', 'dsl-1'],
      ['incident.delete', 'succeeded', 'dsl-1'],
    ]);
    expect(audit[1]?.details).toEqual({ reason: 'retention-period-ended', retentionDate: '2042-03-14', basis: 'date-of-birth', rowsDeleted: 6 });
    expect(JSON.stringify(audit)).not.toContain(DESCRIPTION);

    const next = await reviewRetention(deps);
    expect(next.due.map((d) => d.reference)).not.toContain('ES-2026-0001');
    expect((await reviews.getReview(schoolId, 'ES-2026-0001'))?.status).toBe('approved');
    const list = await listRetentionReview(deps, HEAD);
    expect(list.kind === 'ok' && list.value.map((i) => i.reference)).toEqual(DUE_FOR_DSL.filter((r) => r !== 'ES-2026-0001'));
  });

  it('refuses, deleting nothing: legal hold, not yet due, a stale etag, the wrong role, a concern about the head, no rationale, no etag', async () => {
    const { deps, schoolId } = await seedSchool();
    await reviewRetention(deps);
    const before = await incidentRows(schoolId);
    const approve = async (principal: Principal, reference: string, input: { rationale?: string; etag?: string | null } = {}) =>
      approveRetentionDeletion(deps, principal, reference, {
        rationale: input.rationale ?? 'Retention period ended.',
        ...(input.etag === null ? {} : { etag: input.etag ?? (await etagOf(schoolId, reference)) }),
      });

    expect(await approve(DSL, 'ES-2026-0003')).toMatchObject({ kind: 'conflict', reason: 'legal-hold' });
    expect(await approve(HEAD, 'ES-2026-0002')).toMatchObject({ kind: 'conflict', reason: 'not-due', message: expect.stringContaining('2044-11-02') });
    expect(await approve(DSL, 'ES-2040-0005')).toMatchObject({ kind: 'conflict', reason: 'not-due' });
    const stale = await approve(DSL, 'ES-2019-0004', { etag: 'W/"datetime\'2000-01-01T00%3A00%3A00.0000000Z\'"' });
    expect(stale).toEqual({ kind: 'conflict', reason: 'stale', etag: await etagOf(schoolId, 'ES-2019-0004'), message: expect.any(String) });
    for (const principal of [COORDINATOR, TEACHER, CHAIR]) expect(await approve(principal, 'ES-2019-0004')).toEqual({ kind: 'forbidden' });
    expect(await approve(DSL, 'ES-2019-0009')).toEqual({ kind: 'forbidden' });
    expect(await approve(HEAD, 'ES-2019-0009')).toEqual({ kind: 'forbidden' });
    expect(await approve(DSL, 'ES-2019-0004', { rationale: '  ' })).toEqual({ kind: 'invalid', problems: [expect.stringContaining('rationale')] });
    expect(await approve(DSL, 'ES-2019-0004', { etag: null })).toEqual({ kind: 'precondition-required' });
    expect(await approve(DSL, 'ES-2099-0001', { etag: 'x' })).toEqual({ kind: 'not-found' });

    expect(await incidentRows(schoolId)).toEqual(before);
    const denied = (await new AuditStore(tables).listAudit(schoolId)).filter((e) => e.action === 'incident.delete');
    expect(denied.every((e) => e.outcome === 'denied')).toBe(true);
    expect(denied.map((e) => e.details?.reason).filter(Boolean).sort()).toEqual(['legal-hold', 'not-due', 'not-due', 'stale']);
  });

  it('when the incident changes between reading it and deleting it, reports a conflict and deletes nothing', async () => {
    const { deps, schoolId } = await seedSchool();
    const read = await etagOf(schoolId, 'ES-2019-0004');
    const racing: RetentionDependencies = {
      ...deps,
      incidents: {
        listIncidents: (s) => incidents.listIncidents(s),
        getIncident: (s, r) => incidents.getIncident(s, r),
        listChronology: (s, r) => incidents.listChronology(s, r),
        appendEvent: (i, e, c) => incidents.appendEvent(i, e, c),
        deleteIncident: async (incident, at) => {
          // Someone records an action just before the delete goes in.
          await incidents.appendEvent(incident, { at, actorId: 'coordinator-1', kind: 'action', what: 'note', why: 'Late note' });
          return incidents.deleteIncident(incident, at);
        },
      },
    };
    const before = rowsOf(await incidentRows(schoolId), 'ES-2019-0004');
    const outcome = await approveRetentionDeletion(racing, DSL, 'ES-2019-0004', { rationale: 'Retention period ended.', etag: read });
    expect(outcome).toMatchObject({ kind: 'conflict', reason: 'stale', etag: await etagOf(schoolId, 'ES-2019-0004') });
    expect(rowsOf(await incidentRows(schoolId), 'ES-2019-0004')).toEqual([...before, 'event|ES-2019-0004|000002'].sort());
  });
});

describe('dates of birth that were wrong, and open incidents', () => {
  it('when a mistyped date of birth is corrected on the register, the next review recalculates: the incident is withdrawn and cannot be approved', async () => {
    const { deps, schoolId } = await seedSchool();
    // Bea's date of birth was first typed ten years early (2009), and the incident was dated from it.
    await register.savePupils(schoolId, [pupilRow('P2', 'Bea', '2009-11-02')]);
    await seedIncident(schoolId, { reference: 'ES-2026-0011', involved: [pupil('P2')], retention: { retentionDate: '2034-11-02', retentionBasis: 'date-of-birth' } });
    expect((await reviewRetention(deps)).due.map((d) => d.reference)).toContain('ES-2026-0011');

    await register.savePupils(schoolId, [pupilRow('P2', 'Bea', '2019-11-02')]);
    const run = await reviewRetention(deps);
    // ES-2026-0002 is about Bea too, and was listed from the same wrong date of birth.
    expect(run.withdrawn.sort()).toEqual(['ES-2026-0002', 'ES-2026-0011']);
    const approval = await approveRetentionDeletion(deps, DSL, 'ES-2026-0011', { rationale: 'Listed as due.', etag: await etagOf(schoolId, 'ES-2026-0011') });
    expect(approval).toMatchObject({ kind: 'conflict', reason: 'not-due', message: expect.stringContaining('2044-11-02') });
    expect(await incidents.getIncident(schoolId, 'ES-2026-0011')).toBeDefined();
  });

  it('a stored date-of-birth date is never shortened when the register has lost the date of birth', async () => {
    const { deps, schoolId } = await seedSchool();
    // P9 is not on the register any more; the row was dated from a date of birth that made it 2046.
    await seedIncident(schoolId, { reference: 'ES-2026-0012', involved: [pupil('P9')], retention: { retentionDate: '2046-05-01', retentionBasis: 'date-of-birth' } });
    expect((await reviewRetention(deps)).due.map((d) => d.reference)).not.toContain('ES-2026-0012');
  });

  it('an open incident, however old, is never listed and never approved for deletion', async () => {
    const { deps, schoolId } = await seedSchool();
    await seedIncident(schoolId, { reference: 'ES-2010-0013', involved: [{ kind: 'staff' }], audience: 'staff-concern', createdAt: '2010-01-04T10:00:00.000Z', status: 'open' });
    expect((await reviewRetention(deps)).due.map((d) => d.reference)).not.toContain('ES-2010-0013');
    const outcome = await approveRetentionDeletion(deps, DSL, 'ES-2010-0013', { rationale: 'Very old.', etag: await etagOf(schoolId, 'ES-2010-0013') });
    expect(outcome).toMatchObject({ kind: 'conflict', reason: 'open' });
    expect(await incidents.getIncident(schoolId, 'ES-2010-0013')).toBeDefined();
    const denied = (await new AuditStore(tables).listAudit(schoolId, { target: 'ES-2010-0013' })).map((e) => [e.action, e.outcome, e.details?.reason]);
    expect(denied).toEqual([['incident.delete', 'denied', 'open']]);
  });
});

describe('the daily review and approvals', () => {
  it('never overwrites an approval recorded while the review runs: its write fails, it reads again, and the approval stands', async () => {
    const { deps, schoolId } = await seedSchool();
    let raced = false;
    const racing: RetentionDependencies = {
      ...deps,
      reviews: {
        listReviews: (s) => reviews.listReviews(s),
        getReview: (s, r) => reviews.getReview(s, r),
        recordApproval: (s, row) => reviews.recordApproval(s, row),
        saveReviews: async (s, rows) => {
          if (!raced) {
            raced = true;
            // The DSL approves ES-2026-0001 between the review's read and its write.
            await reviews.recordApproval(s, { ...rows.find((r) => r.reference === 'ES-2026-0001')!, etag: undefined, status: 'approved', approvedBy: 'dsl-1', approvedAt: NOW.toISOString(), rationale: 'Approved meanwhile.' });
          }
          return reviews.saveReviews(s, rows);
        },
      },
    };
    const run = await reviewRetention(racing);
    expect(raced).toBe(true);
    expect(run.due.map((d) => d.reference)).not.toContain('ES-2026-0001');
    expect(await reviews.getReview(schoolId, 'ES-2026-0001')).toMatchObject({ status: 'approved', approvedBy: 'dsl-1', rationale: 'Approved meanwhile.' });
    expect((await reviews.listReviews(schoolId)).filter((r) => r.status === 'pending').map((r) => r.reference).sort()).toEqual(DUE.filter((r) => r !== 'ES-2026-0001').sort());
  });

  it('a later review leaves an approved row exactly as it was', async () => {
    const { deps, schoolId } = await seedSchool();
    await reviewRetention(deps);
    await reviews.recordApproval(schoolId, { ...(await reviews.getReview(schoolId, 'ES-2019-0004'))!, status: 'approved', approvedBy: 'head-1', approvedAt: NOW.toISOString(), rationale: 'Ended.' });
    const before = await reviews.getReview(schoolId, 'ES-2019-0004');
    await reviewRetention(deps);
    expect(await reviews.getReview(schoolId, 'ES-2019-0004')).toEqual(before);
  });
});

describe('setLegalHold', () => {
  it('places and lifts a hold with a chronology line saying why; a held incident is not listed, and is listed again once lifted', async () => {
    const { deps, schoolId } = await seedSchool();
    const placed = await setLegalHold(deps, HEAD, 'ES-2019-0007', { hold: true, reason: 'Employment tribunal pending.', etag: await etagOf(schoolId, 'ES-2019-0007') });
    if (placed.kind !== 'ok') throw new Error(`expected ok, got ${placed.kind}`);
    expect(placed.value).toEqual({ reference: 'ES-2019-0007', legalHold: true, etag: await etagOf(schoolId, 'ES-2019-0007') });
    expect((await reviewRetention(deps)).due.map((d) => d.reference)).not.toContain('ES-2019-0007');

    const lifted = await setLegalHold(deps, DSL, 'ES-2019-0007', { hold: false, reason: 'Tribunal concluded.', etag: placed.value.etag });
    expect(lifted).toMatchObject({ kind: 'ok', value: { legalHold: false } });
    expect((await reviewRetention(deps)).due.map((d) => d.reference)).toContain('ES-2019-0007');

    const chronology = await incidents.listChronology(schoolId, 'ES-2019-0007');
    expect(chronology.slice(1).map((e) => [e.actorId, e.what, e.why])).toEqual([
      ['head-1', 'Legal hold placed', 'Employment tribunal pending.'],
      ['dsl-1', 'Legal hold lifted', 'Tribunal concluded.'],
    ]);
    const audit = await new AuditStore(tables).listAudit(schoolId, { target: 'ES-2019-0007' });
    expect(audit.map((e) => [e.action, e.outcome, e.details])).toEqual([
      ['incident.legal-hold', 'succeeded', { hold: true }],
      ['incident.legal-hold', 'succeeded', { hold: false }],
    ]);
  });

  it('can hold a closed incident', async () => {
    const { deps, schoolId } = await seedSchool();
    const read = (await incidents.getIncident(schoolId, 'ES-2026-0002'))!;
    const closed = await incidents.appendEvent(read, { at: '2026-04-01T10:00:00.000Z', actorId: 'dsl-1', kind: 'closed', what: 'Resolved', why: 'Resolved' }, { status: 'closed' });
    expect(await setLegalHold(deps, DSL, 'ES-2026-0002', { hold: true, reason: 'Police request.', etag: closed.etag })).toMatchObject({ kind: 'ok' });
    expect((await incidents.getIncident(schoolId, 'ES-2026-0002'))?.legalHold).toBe(true);
  });

  it('refuses the wrong role, a stale etag, a missing reason, and a hold that is already in place', async () => {
    const { deps, schoolId } = await seedSchool();
    const etag = await etagOf(schoolId, 'ES-2026-0002');
    expect(await setLegalHold(deps, COORDINATOR, 'ES-2026-0002', { hold: true, reason: 'x', etag })).toEqual({ kind: 'forbidden' });
    expect(await setLegalHold(deps, DSL, 'ES-2026-0002', { hold: true, reason: 'Police request.', etag: 'W/"stale"' })).toMatchObject({ kind: 'conflict', reason: 'stale', etag });
    expect(await setLegalHold(deps, DSL, 'ES-2026-0002', { hold: 'yes', reason: '', etag })).toEqual({ kind: 'invalid', problems: [expect.stringContaining('hold'), expect.stringContaining('reason')] });
    expect(await setLegalHold(deps, DSL, 'ES-2026-0003', { hold: true, reason: 'Again.', etag: await etagOf(schoolId, 'ES-2026-0003') })).toEqual({
      kind: 'invalid',
      problems: ['This incident is already on legal hold.'],
    });
    expect(await etagOf(schoolId, 'ES-2026-0002')).toBe(etag);
  });
});

describe('reportIncident sets the retention date', () => {
  async function report(options: { dateOfBirth?: string; involved: string; retention?: RetentionRule }): Promise<IncidentRecord> {
    const schoolId = uniqueSchoolId('retention');
    await register.savePupils(schoolId, [pupilRow('R1', 'Eve', options.dateOfBirth), pupilRow('R2', 'Fay', '2018-06-30')]);
    const deps: ReportIncidentDependencies = {
      schoolId,
      incidents,
      counters: new CounterStore(tables),
      audit: new AuditStore(tables),
      roles: { getPrincipal: async (id) => person(id, 'staff'), listRoleMembers: async () => [] },
      pupils: register,
      matrix: DEFAULT_RESPONSE_MATRIX,
      clock: () => new Date('2026-03-02T09:00:00.000Z'),
      aggregates: new IncidentAggregateStore(tables),
      ...(options.retention ? { retention: options.retention } : {}),
    };
    const outcome = await reportIncident(deps, {
      principal: TEACHER,
      submissionId: randomUUID(),
      correlationId: 'test',
      values: { occurredOn: '2026-03-02', involved: options.involved, incidentType: 'cyberbullying', description: DESCRIPTION, childProtection: 'false' },
    });
    if (outcome.kind !== 'recorded') throw new Error(`expected recorded, got ${outcome.kind}`);
    return (await incidents.getIncident(schoolId, outcome.incident.reference))!;
  }

  it.each([
    ['from the pupils’ dates of birth when the register has them all', { dateOfBirth: '2017-03-14', involved: 'pupil:R1,pupil:R2', retention: SEVEN_YEARS }, '2043-06-30', 'date-of-birth'],
    ['never earlier than the report date plus the fallback, even from a date of birth typed a century early', { dateOfBirth: '1917-03-14', involved: 'pupil:R1', retention: SEVEN_YEARS }, '2033-03-02', 'school-rule'],
    ['from the school rule when a pupil has no date of birth', { involved: 'pupil:R1', retention: { fallbackYears: 7, from: 'created' } as RetentionRule }, '2033-03-02', 'school-rule'],
    ['from the default rule when none is configured', { involved: 'staff' }, '2051-03-02', 'school-rule'],
    ['not at all while a rule counted from closure waits for the close', { involved: 'staff', retention: { fallbackYears: 6, from: 'closed' } as RetentionRule }, undefined, 'school-rule'],
  ])('%s', async (_name, options, date, basis) => {
    const stored = await report(options);
    expect(stored).toMatchObject({ retentionDate: date, retentionBasis: basis, legalHold: false });
  });
});

import { randomUUID } from 'node:crypto';
import { odata } from '@azure/data-tables';
import { IncidentStore, type ChronologyEvent, type IncidentRecord, type NewAlert } from '../../../records/incident-store';
import { storageStatus, TABLE_NAMES, Tables } from '../../../records/tables';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';
import { incidentRecord } from '../../support/incident-records';

const T0 = '2026-03-02T09:00:00.000Z';

function newTables(): Tables {
  return new Tables({ connectionString: testTablesConnectionString() });
}

function incident(schoolId: string, overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return incidentRecord(schoolId, T0, { occurredAt: '10:15', involved: [{ kind: 'pupil', pupilId: 'p-001' }, { kind: 'visitor' }], description: 'Messages calling a pupil names were posted in the class team.', actionTaken: 'Screenshots kept.', ...overrides });
}

const reported: Omit<ChronologyEvent, 'sequence'> = { at: T0, actorId: 'reporter-1', kind: 'reported', what: 'Concern reported', why: '' };
const alerts: NewAlert[] = [
  { recipientId: 'coordinator-1', role: 'coordinator', type: 'cyberbullying', urgent: false },
  { recipientId: 'dsl-1', role: 'dsl', type: 'cyberbullying', urgent: true },
];

/** Every row in a school's partition, by row key, straight from the table. */
async function rowKeys(tables: Tables, schoolId: string): Promise<string[]> {
  const table = await tables.getTable(TABLE_NAMES.incidents);
  const keys: string[] = [];
  for await (const entity of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${schoolId}` } })) keys.push(entity.rowKey!);
  return keys.sort();
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the call to fail, but it succeeded.');
}

describe('IncidentStore against Azurite', () => {
  const tables = newTables();
  const store = new IncidentStore(tables);

  describe('createIncident', () => {
    it('when an incident is created, writes the incident, its submission marker, its first event and its alerts together', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const record = incident(schoolId);
      const created = await store.createIncident(record, reported, alerts);
      expect(created).toMatchObject({ created: true, alerts: alerts.map((a) => expect.objectContaining({ recipientId: a.recipientId, status: 'pending' })) });
      // Each alert's etag comes back from the transaction, so the instance that wrote it can complete it without re-reading.
      expect(created.created && created.alerts.every((a) => a.etag.length > 0)).toBe(true);

      expect(await rowKeys(tables, schoolId)).toEqual(
        [
          `alert|${record.reference}|coordinator-1`,
          `alert|${record.reference}|dsl-1`,
          `event|${record.reference}|000001`,
          `incident|${record.reference}`,
          `submission|${record.submissionId}`,
        ].sort(),
      );
      const { etag, ...stored } = (await store.getIncident(schoolId, record.reference))!;
      expect(etag).toEqual(expect.any(String));
      expect(stored).toEqual({ ...record, legalHold: false, historic: false, subjectUnresolved: false, dslExcluded: false, grantedViewerIds: [], referrals: [] });
      expect(await store.listChronology(schoolId, record.reference)).toEqual([{ ...reported, sequence: 1 }]);
      expect(await store.findReferenceForSubmission(schoolId, record.submissionId)).toBe(record.reference);
      const written = await store.listAlertsForIncident(schoolId, record.reference);
      expect(written.map((a) => [a.recipientId, a.role, a.urgent, a.status])).toEqual([
        ['coordinator-1', 'coordinator', false, 'pending'],
        ['dsl-1', 'dsl', true, 'pending'],
      ]);
    });

    it('when a field is optional and missing (no time), reads it back as undefined', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const record = incident(schoolId, { occurredAt: undefined, location: '', actionTaken: '' });
      await store.createIncident(record, reported, []);
      expect(await store.getIncident(schoolId, record.reference)).toMatchObject({ occurredAt: undefined, location: '', actionTaken: '' });
    });

    it('when the same submission arrives again under a new reference, returns the first reference and stores nothing new', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const first = incident(schoolId);
      await store.createIncident(first, reported, alerts);
      const before = await rowKeys(tables, schoolId);

      const again = incident(schoolId, { submissionId: first.submissionId });
      expect(again.reference).not.toBe(first.reference);
      expect(await store.createIncident(again, reported, alerts)).toEqual({ created: false, existingReference: first.reference });

      expect(await rowKeys(tables, schoolId)).toEqual(before);
      expect((await store.listIncidents(schoolId)).map((i) => i.reference)).toEqual([first.reference]);
      expect(await store.getIncident(schoolId, again.reference)).toBeUndefined();
    });

    it('when two instances create the same submission at once, exactly one incident is stored and both learn its reference', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const submissionId = randomUUID();
      const [a, b] = [incident(schoolId, { submissionId }), incident(schoolId, { submissionId })];
      const results = await Promise.all([new IncidentStore(newTables()).createIncident(a, reported, alerts), new IncidentStore(newTables()).createIncident(b, reported, alerts)]);
      const incidents = await store.listIncidents(schoolId);
      expect(incidents).toHaveLength(1);
      const winner = incidents[0]!.reference;
      expect(results).toEqual(expect.arrayContaining([expect.objectContaining({ created: true }), { created: false, existingReference: winner }]));
    });

    it('when the reference is already taken by another submission, fails with a conflict and writes nothing of the second', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const first = incident(schoolId);
      await store.createIncident(first, reported, []);
      const before = await rowKeys(tables, schoolId);

      const clash = incident(schoolId, { reference: first.reference, reporterId: 'reporter-2' });
      const error = await rejectionOf(store.createIncident(clash, reported, alerts));
      expect(storageStatus(error)).toBe(409);

      // All or nothing: no marker, no event, no alerts from the failed transaction.
      expect(await rowKeys(tables, schoolId)).toEqual(before);
      expect(await store.findReferenceForSubmission(schoolId, clash.submissionId)).toBeUndefined();
      expect((await store.getIncident(schoolId, first.reference))!.reporterId).toBe('reporter-1');
    });
  });

  describe('appendEvent', () => {
    it('when the incident has not changed since it was read, appends the next event and applies the change', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const record = incident(schoolId);
      await store.createIncident(record, reported, []);
      const read = (await store.getIncident(schoolId, record.reference))!;
      const at = '2026-03-02T10:00:00.000Z';

      const updated = await store.appendEvent(read, { at, actorId: 'coordinator-1', kind: 'status', what: 'Triage started', why: 'Needs checking' }, { status: 'in-progress' });

      expect(updated).toMatchObject({ status: 'in-progress', eventCount: 2, updatedAt: at, description: record.description });
      expect(updated.etag).not.toBe(read.etag);
      expect((await store.listChronology(schoolId, record.reference)).map((e) => [e.sequence, e.kind, e.actorId])).toEqual([
        [1, 'reported', 'reporter-1'],
        [2, 'status', 'coordinator-1'],
      ]);
    });

    it('when someone else changed the incident since it was read, throws a 412 conflict and writes no event line', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const record = incident(schoolId);
      await store.createIncident(record, reported, []);
      const stale = (await store.getIncident(schoolId, record.reference))!;
      await store.appendEvent(stale, { at: T0, actorId: 'dsl-1', kind: 'action', what: 'Spoke to the pupil', why: '' });

      const error = await rejectionOf(store.appendEvent(stale, { at: T0, actorId: 'coordinator-1', kind: 'status', what: 'Closing', why: '' }, { status: 'closed' }));

      expect(storageStatus(error)).toBe(412);
      const chronology = await store.listChronology(schoolId, record.reference);
      expect(chronology.map((e) => [e.sequence, e.actorId])).toEqual([
        [1, 'reporter-1'],
        [2, 'dsl-1'],
      ]);
      expect(await store.getIncident(schoolId, record.reference)).toMatchObject({ status: 'open', eventCount: 2 });
    });

    it('when two people append to the same read at once, exactly one succeeds and the chronology has no gap or duplicate', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const record = incident(schoolId);
      await store.createIncident(record, reported, []);
      const read = (await store.getIncident(schoolId, record.reference))!;
      const results = await Promise.allSettled(
        ['coordinator-1', 'dsl-1'].map((actorId) => new IncidentStore(newTables()).appendEvent(read, { at: T0, actorId, kind: 'action', what: 'Action', why: '' })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(storageStatus((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toBe(412);
      expect((await store.listChronology(schoolId, record.reference)).map((e) => e.sequence)).toEqual([1, 2]);
    });
  });

  describe('alerts', () => {
    async function recordedWithAlerts(): Promise<{ schoolId: string; reference: string }> {
      const schoolId = uniqueSchoolId('incidents');
      const record = incident(schoolId);
      await store.createIncident(record, reported, alerts);
      return { schoolId, reference: record.reference };
    }

    it('when two instances claim the same alert at once, exactly one wins', async () => {
      const { schoolId, reference } = await recordedWithAlerts();
      const [alert] = await store.listAlertsForIncident(schoolId, reference);
      const now = new Date('2026-03-02T09:01:00Z');
      const claims = await Promise.all([new IncidentStore(newTables()).claimAlert(alert!, now), new IncidentStore(newTables()).claimAlert(alert!, now)]);
      expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
      expect(claims.find((c) => c !== undefined)).toMatchObject({ status: 'sending', claimedAt: now.toISOString() });
    });

    it('when an alert was claimed already, a claim with the old etag loses', async () => {
      const { schoolId, reference } = await recordedWithAlerts();
      const [alert] = await store.listAlertsForIncident(schoolId, reference);
      expect(await store.claimAlert(alert!, new Date())).toBeDefined();
      expect(await store.claimAlert(alert!, new Date())).toBeUndefined();
    });

    it('when an alert is being sent, it is not pending until the claim goes stale, and then it is', async () => {
      const { schoolId, reference } = await recordedWithAlerts();
      const [alert] = await store.listAlertsForIncident(schoolId, reference);
      const claimedAt = new Date('2026-03-02T09:01:00Z');
      await store.claimAlert(alert!, claimedAt);
      const staleAfterMs = 5 * 60_000;

      const soon = await store.listPendingAlerts(schoolId, { now: new Date(claimedAt.getTime() + staleAfterMs - 1000), staleAfterMs });
      expect(soon.map((a) => a.recipientId)).toEqual(['dsl-1']);

      const later = await store.listPendingAlerts(schoolId, { now: new Date(claimedAt.getTime() + staleAfterMs + 1000), staleAfterMs });
      expect(later.map((a) => [a.recipientId, a.status])).toEqual([
        ['coordinator-1', 'sending'],
        ['dsl-1', 'pending'],
      ]);
      // The stale claim can be taken over by another instance.
      expect(await new IncidentStore(newTables()).claimAlert(later[0]!, new Date())).toBeDefined();
    });

    it('when an alert is delivered, it is never pending again; when sending fails, it is pending again at once', async () => {
      const { schoolId, reference } = await recordedWithAlerts();
      const now = new Date('2026-03-02T09:01:00Z');
      const [toCoordinator, toDsl] = await store.listAlertsForIncident(schoolId, reference);
      await store.completeAlert((await store.claimAlert(toCoordinator!, now))!, 'delivered', now);
      await store.completeAlert((await store.claimAlert(toDsl!, now))!, 'pending', now);

      const pending = await store.listPendingAlerts(schoolId, { now: new Date('2026-03-03T00:00:00Z'), staleAfterMs: 1 });
      expect(pending.map((a) => [a.recipientId, a.status, a.claimedAt])).toEqual([['dsl-1', 'pending', undefined]]);
      const delivered = (await store.listAlertsForIncident(schoolId, reference)).find((a) => a.recipientId === 'coordinator-1')!;
      expect(delivered).toMatchObject({ status: 'delivered', deliveredAt: now.toISOString() });
    });

    it('when asked for one recipient, lists only that person’s pending alerts', async () => {
      const { schoolId } = await recordedWithAlerts();
      const pending = await store.listPendingAlerts(schoolId, { recipientId: 'dsl-1', now: new Date(), staleAfterMs: 60_000 });
      expect(pending.map((a) => a.recipientId)).toEqual(['dsl-1']);
    });
  });

  describe('listIncidentsByReporter', () => {
    it('when several people have reported, returns only that reporter’s incidents, newest first', async () => {
      const schoolId = uniqueSchoolId('incidents');
      const mine = [
        incident(schoolId, { reporterId: 'teacher-a', createdAt: '2026-03-01T09:00:00.000Z' }),
        incident(schoolId, { reporterId: 'teacher-a', createdAt: '2026-03-03T09:00:00.000Z' }),
        incident(schoolId, { reporterId: 'teacher-a', createdAt: '2026-03-02T09:00:00.000Z' }),
      ];
      const theirs = incident(schoolId, { reporterId: 'teacher-b' });
      for (const record of [...mine, theirs]) await store.createIncident(record, reported, []);
      // Another school's incident by the same person id stays out.
      await store.createIncident(incident(uniqueSchoolId('incidents'), { reporterId: 'teacher-a' }), reported, []);

      const listed = await store.listIncidentsByReporter(schoolId, 'teacher-a');
      expect(listed.map((i) => i.reference)).toEqual([mine[1]!.reference, mine[2]!.reference, mine[0]!.reference]);
      expect((await store.listIncidentsByReporter(schoolId, 'teacher-b')).map((i) => i.reference)).toEqual([theirs.reference]);
      expect(await store.listIncidentsByReporter(schoolId, 'teacher-c')).toEqual([]);
    });

    it('when a reporter id contains a quote, is filtered safely and matches no one else', async () => {
      const schoolId = uniqueSchoolId('incidents');
      await store.createIncident(incident(schoolId, { reporterId: "o'brien" }), reported, []);
      await store.createIncident(incident(schoolId, { reporterId: 'someone' }), reported, []);
      expect((await store.listIncidentsByReporter(schoolId, "o'brien")).map((i) => i.reporterId)).toEqual(["o'brien"]);
      expect(await store.listIncidentsByReporter(schoolId, "x' or reporterId ne 'x")).toEqual([]);
    });

    it('lists no chronology lines, markers or alerts as incidents', async () => {
      const schoolId = uniqueSchoolId('incidents');
      await store.createIncident(incident(schoolId), reported, alerts);
      expect(await store.listIncidents(schoolId)).toHaveLength(1);
    });
  });
});

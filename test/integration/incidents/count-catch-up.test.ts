import { AuditStore } from '../../../records/audit-store';
import { IncidentAggregateStore } from '../../../records/incident-aggregate-store';
import { IncidentStore, pendingCountKey } from '../../../records/incident-store';
import { PendingCountStore } from '../../../records/pending-count-store';
import { PupilRegisterStore } from '../../../records/pupil-register-store';
import { SanctionStore } from '../../../records/sanction-store';
import { Tables } from '../../../records/tables';
import { addIncident, emptyMonth } from '../../../school/incident-summary';
import { DEFAULT_RESPONSE_MATRIX } from '../../../school/response-matrix';
import type { Principal, Role } from '../../../school/roles';
import { recordReferral, type CaseActionDependencies } from '../../../usecases/case-actions';
import { catchUpIncidentCounts, COUNT_CATCH_UP_AFTER_MS, countForNewIncident, rebuildIncidentAggregates, storeCount, type AggregateWriter } from '../../../usecases/summarise-incidents';
import { closeIncident, recordTriageAction } from '../../../usecases/triage-incidents';
import { incidentRecord } from '../../support/incident-records';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

/**
 * Every change to the governors' counts is written in the same transaction as the incident change that causes it,
 * as a pending row. The live write counts it at once; the catch-up counts whatever the live write lost (it failed,
 * or its instance died) and removes the rows. Each change is keyed, so nothing is counted twice whichever of them
 * gets there first, or both, or two instances at once. All against Azurite.
 */
const start = new Date('2026-03-10T10:00:00Z');
const dsl: Principal = { aadObjectId: 'dsl-1', roles: new Set<Role>(['dsl', 'staff']) };

function setUp(live: 'working' | 'failing') {
  let now = start;
  const clock = () => now;
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  const schoolId = uniqueSchoolId('countup');
  const incidents = new IncidentStore(tables);
  const aggregates = new IncidentAggregateStore(tables, { lingerMs: 0 });
  const failing: AggregateWriter = { updateMonth: () => Promise.reject(new Error('the count write was lost')) };
  const register = new PupilRegisterStore(tables);
  const deps: CaseActionDependencies = {
    schoolId,
    incidents,
    aggregates: live === 'working' ? aggregates : failing,
    audit: new AuditStore(tables, clock),
    matrix: DEFAULT_RESPONSE_MATRIX,
    clock,
    pupils: register,
    register,
    sanctions: new SanctionStore(tables),
    roles: { listRoleMembers: async (role: Role) => (role === 'dsl' ? ['dsl-1'] : []) },
    graph: undefined,
  };
  /** A new instance's catch-up: its own Tables and stores, sharing only the storage account. */
  const catchUp = () => {
    const other = new Tables({ connectionString: testTablesConnectionString() });
    return catchUpIncidentCounts({ pending: new PendingCountStore(other), aggregates: new IncidentAggregateStore(other, { lingerMs: 0 }), clock }, schoolId);
  };
  const report = async () => {
    const record = incidentRecord(schoolId, start.toISOString(), { reference: `ES-2026-${Math.random().toString().slice(2, 8)}` });
    const count = countForNewIncident(record);
    await incidents.createIncident(record, { at: record.createdAt, actorId: record.reporterId, kind: 'reported', what: 'Reported', why: '' }, [], { counts: count ? [count] : [] });
    if (live === 'working') await storeCount(aggregates, schoolId, count);
    return record;
  };
  const etag = async (reference: string) => (await incidents.getIncident(schoolId, reference))!.etag;
  const month = async () => (await aggregates.listMonths(schoolId, '2026-03', '2026-03'))[0];
  const later = (ms: number) => {
    now = new Date(start.getTime() + ms);
  };
  return { schoolId, incidents, aggregates, deps, catchUp, report, etag, month, later };
}

describe('pending counts and their catch-up', () => {
  it('counts what the live writes lost, once, only after they had their chance, and removes the rows', async () => {
    const { deps, catchUp, report, etag, month, later, schoolId, incidents } = setUp('failing');
    const record = await report();
    const action = await recordTriageAction(deps, dsl, record.reference, { etag: await etag(record.reference), what: 'refer-dsl', why: 'The DSL should see this.' });
    expect(action.kind).toBe('ok');
    const closed = await closeIncident(deps, dsl, record.reference, { etag: await etag(record.reference), decision: 'Resolved', rationale: 'Apology given', outcome: 'Resolved in class' });
    expect(closed).toMatchObject({ kind: 'ok', value: { warnings: ['Saved. The governors’ counts will include this within 30 minutes.'] } });
    expect(await month()).toBeUndefined();

    // Younger than the catch-up's wait: left to the live writer.
    expect(await catchUp()).toEqual({ pending: 0 });
    expect(await month()).toBeUndefined();

    later(COUNT_CATCH_UP_AFTER_MS + 60_000);
    const [a, b] = await Promise.all([catchUp(), catchUp()]);
    expect(a.pending + b.pending).toBeGreaterThanOrEqual(3);
    expect(await month()).toMatchObject({ total: 1, closed: 1, escalated: { dsl: 1, police: 0, lado: 0 }, byType: { cyberbullying: 1 } });
    expect(await new PendingCountStore(new Tables({ connectionString: testTablesConnectionString() })).listPendingCounts(schoolId, new Date(start.getTime() + 3_600_000).toISOString())).toEqual([]);
    expect(await catchUp()).toEqual({ pending: 0 });
    expect(await month()).toMatchObject({ total: 1, closed: 1 });
    // The chronology still holds every line: the pending rows were the only thing removed.
    expect((await incidents.listChronology(schoolId, record.reference)).map((e) => e.kind)).toEqual(['reported', 'action', 'closed']);
  });

  it('does not count again what the live write already stored, even when two instances catch up together', async () => {
    const { deps, catchUp, report, etag, month, later } = setUp('working');
    const records = await Promise.all([report(), report(), report()]);
    await closeIncident(deps, dsl, records[0]!.reference, { etag: await etag(records[0]!.reference), decision: 'Resolved', rationale: 'Apology given', outcome: 'Resolved in class' });
    const counted = await month();
    expect(counted).toMatchObject({ total: 3, closed: 1 });

    later(COUNT_CATCH_UP_AFTER_MS + 60_000);
    const [a, b] = await Promise.all([catchUp(), catchUp()]);
    expect(a.pending + b.pending).toBeGreaterThanOrEqual(4);
    expect(await month()).toEqual(counted);
  });

  it('in one batched write, a change already stored is dropped and the others are counted once each', async () => {
    const { schoolId, aggregates, month } = setUp('working');
    const batched = new IncidentAggregateStore(new Tables({ connectionString: testTablesConnectionString() }), { lingerMs: 20 });
    const one = (key: string) => ({ key, month: '2026-03', delta: addIncident(emptyMonth('2026-03'), { type: 'cyberbullying', yearGroups: ['4'] }) });
    await storeCount(aggregates, schoolId, one(pendingCountKey('ES-2026-0001', 1)));
    // Arriving together, these share one transaction; its first attempt fails on the first key's marker.
    await Promise.all([
      storeCount(batched, schoolId, one(pendingCountKey('ES-2026-0001', 1))),
      storeCount(batched, schoolId, one(pendingCountKey('ES-2026-0002', 1))),
      storeCount(batched, schoolId, one(pendingCountKey('ES-2026-0003', 1))),
      storeCount(batched, schoolId, one(pendingCountKey('ES-2026-0003', 1))),
    ]);
    expect(await month()).toMatchObject({ total: 3, byType: { cyberbullying: 3 } });
  });

  it('a referral to the DSL after the "refer to DSL" action is one escalation, and the rebuild agrees with the live counts', async () => {
    const { schoolId, deps, incidents, aggregates, report, etag, month } = setUp('working');
    const record = await report();
    await recordTriageAction(deps, dsl, record.reference, { etag: await etag(record.reference), what: 'refer-dsl', why: 'The DSL should see this.' });
    for (const to of ['dsl', 'police', 'ceop']) {
      const referred = await recordReferral(deps, dsl, record.reference, { etag: await etag(record.reference), to, why: 'Referred as the policy says.', on: '2026-03-10' });
      expect(referred.kind).toBe('ok');
    }
    const live = await month();
    expect(live).toMatchObject({ total: 1, escalated: { dsl: 1, police: 1, lado: 0 } });

    await rebuildIncidentAggregates({ incidents, aggregates }, schoolId);
    expect(await month()).toEqual(live);
  });
});

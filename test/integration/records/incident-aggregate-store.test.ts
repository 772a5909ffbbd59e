import { IncidentAggregateStore } from '../../../records/incident-aggregate-store';
import { StorageRoundTripCounter } from '../../../records/storage-round-trips';
import { TABLE_NAMES, Tables } from '../../../records/tables';
import { addClose, addIncident, emptyMonth } from '../../../school/incident-summary';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

/** A new Tables per "server instance": nothing is shared between them but the storage account. */
function newInstance(counter?: StorageRoundTripCounter): { store: IncidentAggregateStore; tables: Tables } {
  const tables = new Tables({ connectionString: testTablesConnectionString(), ...(counter ? { policies: [counter.policy] } : {}) });
  return { store: new IncidentAggregateStore(tables), tables };
}

const cyberbullying = (m: ReturnType<typeof emptyMonth>) => addIncident(m, { type: 'cyberbullying', yearGroups: ['Year 5'] });

describe('IncidentAggregateStore against Azurite', () => {
  it('when 200 reports arrive at once on two instances, every one is counted, with no retry storm', async () => {
    const schoolId = uniqueSchoolId('agg');
    const counter = new StorageRoundTripCounter();
    const [a, b] = [newInstance(counter), newInstance(counter)];
    await a.tables.getTable(TABLE_NAMES.incidentAggregates);
    await b.tables.getTable(TABLE_NAMES.incidentAggregates);
    const before = counter.snapshot();
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).store.updateMonth(schoolId, '2026-11', cyberbullying)));
    const used = counter.since(before).total;

    const [month] = await a.store.listMonths(schoolId, '2026-11', '2026-11');
    expect(month).toMatchObject({ month: '2026-11', total: 200, byType: { cyberbullying: 200 }, byYearGroup: { 'Year 5': 200 } });
    // Two writes per batch (read, replace) and a few batches per instance: far below one retry loop per report.
    expect(used).toBeLessThan(40);
  });

  it('sums the shards of a month and an older unsharded row, and keeps months apart', async () => {
    const schoolId = uniqueSchoolId('agg');
    const shards = [0, 1, 2];
    let next = 0;
    const store = new IncidentAggregateStore(new Tables({ connectionString: testTablesConnectionString() }), { pickShard: () => shards[next++ % shards.length]! });
    await store.replaceAll(schoolId, [cyberbullying(emptyMonth('2026-10'))]);
    for (let i = 0; i < 3; i++) await store.updateMonth(schoolId, '2026-10', (m) => addClose(m, 4));
    await store.updateMonth(schoolId, '2026-12', cyberbullying);

    const months = await store.listMonths(schoolId, '2026-09', '2026-12');
    expect(months.map((m) => m.month)).toEqual(['2026-10', '2026-12']);
    expect(months[0]).toMatchObject({ total: 1, closed: 3, closeDays: { '4': 3 } });
    expect(await store.listMonths(schoolId, '2026-11', '2026-11')).toEqual([]);
  });

  it('when a month is rebuilt, its shards are removed so nothing is counted twice', async () => {
    const schoolId = uniqueSchoolId('agg');
    const { store } = newInstance();
    for (let i = 0; i < 5; i++) await store.updateMonth(schoolId, '2026-11', cyberbullying);
    await store.replaceAll(schoolId, [cyberbullying(cyberbullying(emptyMonth('2026-11')))]);
    const [month] = await store.listMonths(schoolId, '2026-11', '2026-11');
    expect(month?.total).toBe(2);
  });
});

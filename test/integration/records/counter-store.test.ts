import { CounterStore } from '../../../records/counter-store';
import { TABLE_NAMES, Tables } from '../../../records/tables';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

/** A new Tables per "server instance": nothing is shared between them but the storage account. */
function newInstance(): CounterStore {
  return new CounterStore(new Tables({ connectionString: testTablesConnectionString() }));
}

function oneTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

describe('CounterStore against Azurite', () => {
  const schoolId = uniqueSchoolId('counter');

  it('when a counter is used for the first time, hands out 1, 2, 3 in turn', async () => {
    const store = newInstance();
    const values = [];
    for (let i = 0; i < 3; i++) values.push(await store.nextValue(schoolId, 'sequential'));
    expect(values).toEqual([1, 2, 3]);
  });

  it('when the counter already exists, a new instance carries on from the stored value', async () => {
    await newInstance().nextValue(schoolId, 'carry-on');
    await newInstance().nextValue(schoolId, 'carry-on');
    expect(await newInstance().nextValue(schoolId, 'carry-on')).toBe(3);
  });

  it('when 100 calls arrive at once on one store, hands out exactly 1..100 with no duplicates', async () => {
    const store = newInstance();
    const values = await Promise.all(Array.from({ length: 100 }, () => store.nextValue(schoolId, 'one-store')));
    expect(new Set(values).size).toBe(100);
    expect([...values].sort((a, b) => a - b)).toEqual(oneTo(100));
    expect(await store.nextValue(schoolId, 'one-store')).toBe(101);
  });

  it('when 100 calls arrive at once on one store, callers are answered in the order they asked', async () => {
    const store = newInstance();
    const values = await Promise.all(Array.from({ length: 100 }, () => store.nextValue(schoolId, 'in-order')));
    expect(values).toEqual(oneTo(100));
  });

  it('when two server instances hammer the same counter at once (2 x 50), hands out 100 distinct values 1..100', async () => {
    const [first, second] = [newInstance(), newInstance()];
    const calls = Array.from({ length: 50 }, () => [first.nextValue(schoolId, 'two-instances'), second.nextValue(schoolId, 'two-instances')]).flat();
    const values = await Promise.all(calls);
    expect(new Set(values).size).toBe(100);
    expect([...values].sort((a, b) => a - b)).toEqual(oneTo(100));
  });

  it('when three instances each ask in waves, never hand out the same value twice', async () => {
    const instances = [newInstance(), newInstance(), newInstance()];
    const values: number[] = [];
    await Promise.all(
      instances.map(async (store) => {
        for (let wave = 0; wave < 5; wave++) values.push(...(await Promise.all(Array.from({ length: 4 }, () => store.nextValue(schoolId, 'waves')))));
      }),
    );
    expect([...values].sort((a, b) => a - b)).toEqual(oneTo(60));
  });

  it('when schools or counter names differ, their counters are independent', async () => {
    const otherSchool = uniqueSchoolId('counter');
    const store = newInstance();
    const [a1, b1, c1] = await Promise.all([store.nextValue(schoolId, 'independent-a'), store.nextValue(schoolId, 'independent-b'), store.nextValue(otherSchool, 'independent-a')]);
    const [a2, c2] = await Promise.all([store.nextValue(schoolId, 'independent-a'), store.nextValue(otherSchool, 'independent-a')]);
    expect([a1, b1, c1, a2, c2]).toEqual([1, 1, 1, 2, 2]);
  });

  it('when storage cannot be reached, every waiting caller gets StorageUnavailableError', async () => {
    const store = new CounterStore(new Tables({ connectionString: testTablesConnectionString().replace(/:\d+\//, ':1/') }));
    const results = await Promise.allSettled([store.nextValue(schoolId, 'down'), store.nextValue(schoolId, 'down')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.map((r) => (r as PromiseRejectedResult).reason.name)).toEqual(['StorageUnavailableError', 'StorageUnavailableError']);
  });

  it('stores the value under the school id and the counter name', async () => {
    const tables = new Tables({ connectionString: testTablesConnectionString() });
    await new CounterStore(tables).nextValue(schoolId, 'stored');
    const entity = await (await tables.getTable(TABLE_NAMES.counters)).getEntity<{ value: number }>(schoolId, 'stored');
    expect(entity.value).toBe(1);
  });
});

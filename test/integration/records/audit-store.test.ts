import { AuditStore, type AuditEntry } from '../../../records/audit-store';
import type { TableClient } from '@azure/data-tables';
import { TABLE_NAMES, Tables } from '../../../records/tables';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

function newTables(): Tables {
  return new Tables({ connectionString: testTablesConnectionString() });
}

const frozen = new Date('2026-03-02T09:00:00.000Z');

function entry(index: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { actorId: `actor-${index}`, action: 'incident.read', target: `ES-2026-${String(index).padStart(4, '0')}`, outcome: 'succeeded', ...overrides };
}

describe('AuditStore against Azurite', () => {
  it('when the clock is frozen, entries still come back in the order they were appended', async () => {
    const schoolId = uniqueSchoolId('audit');
    const store = new AuditStore(newTables(), () => frozen);
    // More than ten, so an order that sorted by text instead of by append would show.
    for (let i = 1; i <= 25; i++) await store.appendAudit(schoolId, entry(i));
    const listed = await store.listAudit(schoolId);
    expect(listed.map((a) => a.actorId)).toEqual(Array.from({ length: 25 }, (_, i) => `actor-${i + 1}`));
    expect(listed.every((a) => a.at === frozen.toISOString())).toBe(true);
  });

  it('when the clock moves on, entries come back oldest first', async () => {
    const schoolId = uniqueSchoolId('audit');
    let now = new Date('2026-03-02T09:00:00.000Z');
    const store = new AuditStore(newTables(), () => now);
    for (const [i, time] of ['2026-03-02T09:00:00.000Z', '2026-03-02T09:00:00.001Z', '2026-03-02T10:00:00.000Z', '2026-03-03T08:00:00.000Z'].entries()) {
      now = new Date(time);
      await store.appendAudit(schoolId, entry(i));
    }
    expect((await store.listAudit(schoolId)).map((a) => a.at)).toEqual([
      '2026-03-02T09:00:00.000Z',
      '2026-03-02T09:00:00.001Z',
      '2026-03-02T10:00:00.000Z',
      '2026-03-03T08:00:00.000Z',
    ]);
  });

  it('when the same entry is appended twice in the same instant, keeps both (nothing is overwritten)', async () => {
    const schoolId = uniqueSchoolId('audit');
    const store = new AuditStore(newTables(), () => frozen);
    await Promise.all([store.appendAudit(schoolId, entry(1)), store.appendAudit(schoolId, entry(1)), new AuditStore(newTables(), () => frozen).appendAudit(schoolId, entry(1))]);
    expect(await store.listAudit(schoolId)).toHaveLength(3);
  });

  it('when filtered by target, returns only that target’s entries, in order', async () => {
    const schoolId = uniqueSchoolId('audit');
    const store = new AuditStore(newTables(), () => frozen);
    const actions = ['incident.create', 'incident.read', 'incident.update', 'incident.read'];
    for (const [i, action] of actions.entries()) {
      await store.appendAudit(schoolId, entry(i, { action, target: 'ES-2026-0001' }));
      await store.appendAudit(schoolId, entry(i, { action, target: 'ES-2026-0002' }));
    }
    const listed = await store.listAudit(schoolId, { target: 'ES-2026-0001' });
    expect(listed.map((a) => [a.target, a.action])).toEqual(actions.map((action) => ['ES-2026-0001', action]));
    expect(await store.listAudit(schoolId, { target: 'ES-2026-9999' })).toEqual([]);
  });

  it('when filtered by a start time, leaves out earlier entries', async () => {
    const schoolId = uniqueSchoolId('audit');
    let now = new Date('2026-03-01T12:00:00.000Z');
    const store = new AuditStore(newTables(), () => now);
    await store.appendAudit(schoolId, entry(1));
    now = new Date('2026-03-02T12:00:00.000Z');
    await store.appendAudit(schoolId, entry(2));
    expect((await store.listAudit(schoolId, { since: new Date('2026-03-02T00:00:00.000Z') })).map((a) => a.actorId)).toEqual(['actor-2']);
  });

  it('when entries are read back, keeps every field, with details as they were given', async () => {
    const schoolId = uniqueSchoolId('audit');
    const store = new AuditStore(newTables(), () => frozen);
    await store.appendAudit(schoolId, { actorId: 'a', action: 'incident.create', target: 'ES-2026-0003', outcome: 'failed', correlationId: 'corr-1', details: { duplicateOf: 'ES-2026-0002', count: 2, urgent: true } });
    await store.appendAudit(schoolId, { actorId: 'b', action: 'incident.create', target: '', outcome: 'denied' });
    expect(await store.listAudit(schoolId)).toEqual([
      { at: frozen.toISOString(), actorId: 'a', action: 'incident.create', target: 'ES-2026-0003', outcome: 'failed', correlationId: 'corr-1', details: { duplicateOf: 'ES-2026-0002', count: 2, urgent: true } },
      { at: frozen.toISOString(), actorId: 'b', action: 'incident.create', target: '', outcome: 'denied', correlationId: undefined, details: {} },
    ]);
  });

  it('appendAudits writes N > 100 entries in ceil(N / 100) transactions, and they come back in the order given', async () => {
    const schoolId = uniqueSchoolId('audit');
    const tables = newTables();
    const table: TableClient = await tables.getTable(TABLE_NAMES.audit);
    const transactions = jest.spyOn(table, 'submitTransaction');
    const singles = jest.spyOn(table, 'createEntity');
    const store = new AuditStore(tables, () => frozen);
    const entries = Array.from({ length: 250 }, (_, i) => entry(i + 1));

    await store.appendAudits(schoolId, entries);

    expect(transactions.mock.calls.map(([actions]) => actions.length)).toEqual([100, 100, 50]);
    expect(singles).not.toHaveBeenCalled();
    const listed = await store.listAudit(schoolId);
    expect(listed.map((a) => a.actorId)).toEqual(entries.map((e) => e.actorId));
    expect(listed[0]).toEqual({ at: frozen.toISOString(), actorId: 'actor-1', action: 'incident.read', target: 'ES-2026-0001', outcome: 'succeeded', correlationId: undefined, details: {} });
  });

  it('appendAudits keeps order with single appends made before and after it', async () => {
    const schoolId = uniqueSchoolId('audit');
    const store = new AuditStore(newTables(), () => frozen);
    await store.appendAudit(schoolId, entry(1));
    await store.appendAudits(schoolId, [entry(2), entry(3)]);
    await store.appendAudit(schoolId, entry(4));
    expect((await store.listAudit(schoolId)).map((a) => a.actorId)).toEqual(['actor-1', 'actor-2', 'actor-3', 'actor-4']);
  });

  it('appendAudits with no entries does nothing', async () => {
    const schoolId = uniqueSchoolId('audit');
    const tables = newTables();
    const getTable = jest.spyOn(tables, 'getTable');
    const store = new AuditStore(tables, () => frozen);

    await store.appendAudits(schoolId, []);

    expect(getTable).not.toHaveBeenCalled();
    expect(await store.listAudit(schoolId)).toEqual([]);
  });

  it('when two schools share the table, each sees only its own entries', async () => {
    const [first, second] = [uniqueSchoolId('audit'), uniqueSchoolId('audit')];
    const store = new AuditStore(newTables(), () => frozen);
    await store.appendAudit(first, entry(1));
    await store.appendAudit(second, entry(2));
    expect((await store.listAudit(first)).map((a) => a.actorId)).toEqual(['actor-1']);
    expect((await store.listAudit(second)).map((a) => a.actorId)).toEqual(['actor-2']);
  });
});

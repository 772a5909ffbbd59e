import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { backupTables, readManifest, restoreTables, verifyRestore } from '../../../scripts/backup-tables';
import { testTablesConnectionString } from '../../support/tables';

const connectionString = testTablesConnectionString();
const source = { connectionString };
const unique = () => randomUUID().replace(/-/g, '').slice(0, 10);
const client = (name: string) => TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true });

describe('backing up the records tables and the restore drill', () => {
  const run = unique();
  const incidents = `bkincidents${run}`;
  const audit = `bkaudit${run}`;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'esafety-backup-'));
    await client(incidents).createTable();
    await client(audit).createTable();
    // One partition past a transaction's 100 entities, a second partition, and every property type the app writes.
    for (let i = 0; i < 130; i += 1) {
      await client(incidents).createEntity({ partitionKey: 'school-a', rowKey: `incident|ES-2026-${String(i).padStart(4, '0')}`, description: `Concern ${i}: “quoted”, ünïcödé`, eventCount: i, flagged: i % 2 === 0 });
    }
    await client(incidents).createEntity({
      partitionKey: 'school-b',
      rowKey: 'incident|ES-2026-0001',
      big: { value: '9007199254740993', type: 'Int64' },
      when: new Date('2026-03-04T09:15:00.000Z'),
      ratio: 0.25,
      bytes: new Uint8Array([0, 1, 2, 255]),
    });
    await client(audit).createEntity({ partitionKey: 'school-a', rowKey: 'audit|1', action: 'incident.read' });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes each table with its entity count and checksum, restores it into empty tables, and the drill finds every value the same', async () => {
    const manifest = await backupTables(source, dir, { only: [incidents, audit], now: new Date('2026-12-03T02:00:00Z') });
    expect(manifest).toEqual({
      format: 1,
      takenAt: '2026-12-03T02:00:00.000Z',
      tables: [
        { name: audit, entities: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        { name: incidents, entities: 131, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ],
    });
    expect(readManifest(dir)).toEqual(manifest);

    const prefix = `r${unique()}`;
    const restored = await restoreTables(dir, source, { tablePrefix: prefix });
    expect(restored).toEqual([
      { name: `${prefix}${audit}`, entities: 1 },
      { name: `${prefix}${incidents}`, entities: 131 },
    ]);
    expect(await verifyRestore(dir, source, { tablePrefix: prefix })).toEqual([]);

    // The types survive exactly: a 64-bit integer past JavaScript's safe range, a date, a double, binary.
    const typed = await client(`${prefix}${incidents}`).getEntity<Record<string, unknown>>('school-b', 'incident|ES-2026-0001', { disableTypeConversion: true });
    expect(typed.big).toEqual({ value: '9007199254740993', type: 'Int64' });
    expect(typed.when).toEqual({ value: expect.stringMatching(/^2026-03-04T09:15:00\.0+Z$/), type: 'DateTime' });
    expect((await client(`${prefix}${incidents}`).getEntity('school-b', 'incident|ES-2026-0001')).bytes).toEqual(new Uint8Array([0, 1, 2, 255]));

    // The drill notices a restored table that differs from the backup.
    await client(`${prefix}${audit}`).updateEntity({ partitionKey: 'school-a', rowKey: 'audit|1', action: 'changed' }, 'Replace');
    expect(await verifyRestore(dir, source, { tablePrefix: prefix })).toEqual([`${prefix}${audit}: the entities differ from the backup's.`]);
  });

  it('never writes into tables that already hold records, and refuses a damaged backup before writing anything', async () => {
    await backupTables(source, dir, { only: [incidents, audit] });
    // The live tables themselves: refused.
    await expect(restoreTables(dir, source)).rejects.toThrow(/already holds entities/);
    expect((await client(audit).getEntity('school-a', 'audit|1')).action).toBe('incident.read');

    const file = join(dir, `${incidents}.jsonl`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('Concern 7:', 'Concern 8:'));
    const prefix = `d${unique()}`;
    await expect(restoreTables(dir, source, { tablePrefix: prefix })).rejects.toThrow(/does not match its checksum/);
    const written: unknown[] = [];
    for await (const entity of client(`${prefix}${incidents}`).listEntities()) written.push(entity);
    expect(written).toEqual([]);
  });
});

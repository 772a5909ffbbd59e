/**
 * Backup and restore of the records tables (Azure Table storage has no built-in backup: Azure Backup covers
 * blobs and file shares, not tables). See "Backing up the records" in the README.
 *
 *   npx tsx scripts/backup-tables.ts backup  --out <folder>                 every table of the account
 *   npx tsx scripts/backup-tables.ts restore --from <folder> --into <conn>  into empty tables of another account
 *   npx tsx scripts/backup-tables.ts verify  --from <folder> --into <conn>  counts and checksums, changing nothing
 *
 * The source is TABLES_CONNECTION_STRING, or TABLES_ENDPOINT signed in with DefaultAzureCredential (az login; the
 * signed-in person needs Storage Table Data Reader on the account). `--into` takes a connection string, or an
 * https table endpoint reached the same way; `--table-prefix` restores each table under a prefixed name (a drill in
 * an account that has the live names). A restore never writes into a table that already holds entities unless
 * `--resume` is given (it then upserts, so a stopped restore can be run again).
 *
 * Each table is one `<table>.jsonl` file: one entity per line, with its property types kept exactly (Int64,
 * DateTime, Binary…), and `backup.json` lists the tables, their entity counts and each file's SHA-256.
 * The files hold every safeguarding record in full: keep them encrypted, where only the DSL's delegates can read
 * them, and delete them when the school's backup period ends.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DefaultAzureCredential } from '@azure/identity';
import { TableClient, TableServiceClient, type TableEntity, type TransactionAction } from '@azure/data-tables';

/** Entities per entity-group transaction, all in one partition (the service's limit):
 * https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions */
const MAX_TRANSACTION_ACTIONS = 100;
const MANIFEST = 'backup.json';

export interface StorageTarget {
  connectionString?: string;
  endpoint?: string;
}

export interface BackupManifest {
  format: 1;
  takenAt: string;
  tables: { name: string; entities: number; sha256: string }[];
}

function serviceClient(target: StorageTarget): TableServiceClient {
  if (target.connectionString) return TableServiceClient.fromConnectionString(target.connectionString, { allowInsecureConnection: isLoopback(target.connectionString) });
  if (target.endpoint) return new TableServiceClient(target.endpoint, new DefaultAzureCredential());
  throw new Error('No storage given: set TABLES_CONNECTION_STRING or TABLES_ENDPOINT (or --into).');
}

function tableClient(target: StorageTarget, name: string): TableClient {
  if (target.connectionString) return TableClient.fromConnectionString(target.connectionString, name, { allowInsecureConnection: isLoopback(target.connectionString) });
  return new TableClient(target.endpoint!, name, new DefaultAzureCredential());
}

const isLoopback = (connectionString: string) => /Endpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(connectionString);

/** Server-kept properties that a restore cannot (and must not) write. */
const SERVER_PROPERTIES = new Set(['etag', 'timestamp', 'odata.etag', 'Timestamp']);

/** Writes every entity of each table (all of them, or `only`) to `<dir>/<table>.jsonl`, and the manifest. */
export async function backupTables(source: StorageTarget, dir: string, options: { only?: readonly string[]; now?: Date } = {}): Promise<BackupManifest> {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  if (options.only) names.push(...options.only);
  else for await (const table of serviceClient(source).listTables()) if (table.name) names.push(table.name);
  const manifest: BackupManifest = { format: 1, takenAt: (options.now ?? new Date()).toISOString(), tables: [] };
  for (const name of names.sort()) {
    const hash = createHash('sha256');
    const out = createWriteStream(join(dir, `${name}.jsonl`));
    let entities = 0;
    // disableTypeConversion keeps each typed value as { value, type }, so a restore writes it back as it was.
    for await (const entity of tableClient(source, name).listEntities<Record<string, unknown>>({ disableTypeConversion: true })) {
      const kept = Object.fromEntries(Object.entries(entity).filter(([key]) => !SERVER_PROPERTIES.has(key)));
      const line = `${JSON.stringify(kept)}\n`;
      hash.update(line);
      if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      entities++;
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    manifest.tables.push({ name, entities, sha256: hash.digest('hex') });
  }
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export function readManifest(dir: string): BackupManifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new Error(`${dir} holds no ${MANIFEST}: it is not a backup made by this script.`);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as BackupManifest;
  if (manifest.format !== 1 || !Array.isArray(manifest.tables)) throw new Error(`${path} is not a backup manifest this script can read.`);
  return manifest;
}

async function* entitiesOf(dir: string, name: string, expectedSha256: string): AsyncGenerator<TableEntity<Record<string, unknown>>> {
  // Check the whole file before writing any of it.
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(join(dir, `${name}.jsonl`))) hash.update(chunk as Buffer);
  if (hash.digest('hex') !== expectedSha256) throw new Error(`${name}.jsonl does not match its checksum in ${MANIFEST}: the backup is damaged or was changed.`);
  for await (const line of createInterface({ input: createReadStream(join(dir, `${name}.jsonl`)), crlfDelay: Infinity })) {
    if (line.trim()) yield JSON.parse(line) as TableEntity<Record<string, unknown>>;
  }
}

export interface RestoreOptions {
  tablePrefix?: string;
  /** Write into tables that already hold entities (upserting): to finish a restore that stopped. */
  resume?: boolean;
}

/** Restores every table of a backup into `target`, in transactions of up to 100 entities of one partition. */
export async function restoreTables(dir: string, target: StorageTarget, options: RestoreOptions = {}): Promise<{ name: string; entities: number }[]> {
  const manifest = readManifest(dir);
  const restored: { name: string; entities: number }[] = [];
  for (const table of manifest.tables) {
    const name = `${options.tablePrefix ?? ''}${table.name}`;
    const client = tableClient(target, name);
    await client.createTable();
    if (!options.resume) {
      for await (const _existing of client.listEntities({ queryOptions: { select: ['PartitionKey'] } })) {
        throw new Error(`The table ${name} already holds entities: a restore never writes over records. Restore into an empty account, or pass --resume to finish a restore that stopped.`);
      }
    }
    let count = 0;
    let partition: string | undefined;
    let batch: TransactionAction[] = [];
    const flush = async () => {
      if (batch.length > 0) await client.submitTransaction(batch);
      batch = [];
    };
    for await (const entity of entitiesOf(dir, table.name, table.sha256)) {
      if (entity.partitionKey !== partition || batch.length === MAX_TRANSACTION_ACTIONS) {
        await flush();
        partition = entity.partitionKey;
      }
      batch.push(['upsert', entity, 'Replace']);
      count++;
    }
    await flush();
    if (count !== table.entities) throw new Error(`${table.name}.jsonl holds ${count} entities, but ${MANIFEST} says ${table.entities}.`);
    restored.push({ name, entities: count });
  }
  return restored;
}

/** Compares a restored account with the backup: each table's entity count and the checksum of its entities, read back. */
export async function verifyRestore(dir: string, target: StorageTarget, options: { tablePrefix?: string } = {}): Promise<string[]> {
  const problems: string[] = [];
  for (const table of readManifest(dir).tables) {
    const name = `${options.tablePrefix ?? ''}${table.name}`;
    const hash = createHash('sha256');
    let count = 0;
    for await (const entity of tableClient(target, name).listEntities<Record<string, unknown>>({ disableTypeConversion: true })) {
      hash.update(`${JSON.stringify(Object.fromEntries(Object.entries(entity).filter(([key]) => !SERVER_PROPERTIES.has(key))))}\n`);
      count++;
    }
    if (count !== table.entities) problems.push(`${name}: ${count} entities, the backup has ${table.entities}.`);
    else if (hash.digest('hex') !== table.sha256) problems.push(`${name}: the entities differ from the backup's.`);
  }
  return problems;
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function targetOf(value: string | undefined): StorageTarget {
  if (!value) throw new Error('Say where to restore with --into <connection string or https table endpoint>.');
  return value.startsWith('https://') ? { endpoint: value } : { connectionString: value };
}

async function main(): Promise<void> {
  const command = process.argv[2];
  const source: StorageTarget = process.env.TABLES_CONNECTION_STRING ? { connectionString: process.env.TABLES_CONNECTION_STRING } : { endpoint: process.env.TABLES_ENDPOINT };
  if (command === 'backup') {
    const out = argument('out');
    if (!out) throw new Error('Say where to write the backup with --out <folder>.');
    const manifest = await backupTables(source, out);
    for (const t of manifest.tables) process.stdout.write(`${t.name}: ${t.entities} entities\n`);
    process.stdout.write(`Backup written to ${out} (${manifest.tables.length} tables).\n`);
  } else if (command === 'restore' || command === 'verify') {
    const from = argument('from');
    if (!from) throw new Error('Say which backup with --from <folder>.');
    const target = targetOf(argument('into'));
    const tablePrefix = argument('table-prefix');
    if (command === 'restore') {
      const restored = await restoreTables(from, target, { ...(tablePrefix ? { tablePrefix } : {}), resume: process.argv.includes('--resume') });
      for (const t of restored) process.stdout.write(`${t.name}: ${t.entities} entities restored\n`);
    }
    const problems = await verifyRestore(from, target, tablePrefix ? { tablePrefix } : {});
    if (problems.length > 0) throw new Error(`The restored tables differ from the backup:\n  ${problems.join('\n  ')}`);
    process.stdout.write('Every table matches the backup: same entities, same values.\n');
  } else {
    throw new Error('Use: backup --out <folder> | restore --from <folder> --into <target> [--table-prefix p] [--resume] | verify --from <folder> --into <target>');
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`backup-tables: ${(error as Error).message}\n`);
    process.exit(1);
  });
}

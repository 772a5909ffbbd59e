import { createHash, randomInt } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { emptyMonth, type MonthCounters } from '../school/incident-summary';
import { getEntityOrUndefined, guardStorage, isConflict, TABLE_NAMES, type Tables } from './tables';

interface AggregateEntity {
  partitionKey: string;
  rowKey: string;
  counters: string;
}

/** A change to a month's counters. It must only add (counts, histogram buckets), so shards can be summed. */
export type MonthChange = (counters: MonthCounters) => MonthCounters;

interface Waiter {
  change: MonthChange;
  /** The marker row that makes this change count once (`once|<hash>`), when it has a key. */
  markerKey?: string;
  resolve(): void;
  reject(error: unknown): void;
}

/** An entity-group transaction holds at most 100 operations, all in one partition. */
const MAX_TRANSACTION_ACTIONS = 100;

/**
 * Shards per month. Concurrent reports from several instances land on different rows, so they rarely race on
 * one etag; readers sum at most this many rows per month. Azure Tables serves about 2,000 entities per second
 * per partition (https://learn.microsoft.com/azure/storage/tables/scalability-targets), far above one school's load.
 */
export const AGGREGATE_SHARDS = 8;

/** How long the first change of a batch waits for others before the write. */
export const AGGREGATE_LINGER_MS = 15;

/**
 * Anonymous per-month incident counters (see school/incident-summary.ts). They hold counts only: no
 * reference, id, name or text.
 *
 * Keys: PartitionKey = school id; RowKey = `month|2026-11|3` (a shard), or `month|2026-11` (written by a rebuild),
 * or `once|<hash>` (the marker of a change applied once, see `updateMonth`). A month's figures are the sum of its
 * rows. Changes that arrive while this instance is already writing a month are merged into its next write (as the
 * counter store batches references), and each write re-reads one shard and replaces it guarded by its etag, in one
 * entity-group transaction with the markers of the keyed changes it carries, retrying on a lost race: 100
 * concurrent reports cost a few writes, no retry storm, and a change with a key counts once however often it is
 * sent (a lost response, a retry, the catch-up of a change whose writer died).
 */
export class IncidentAggregateStore {
  private readonly queues = new Map<string, { waiters: Waiter[]; running: boolean }>();

  constructor(
    private readonly tables: Tables,
    private readonly options: { shards?: number; pickShard?: () => number; lingerMs?: number } = {},
  ) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.incidentAggregates);
  }

  /** The stored months from `fromMonth` to `toMonth` inclusive (`YYYY-MM`), shards summed; months with no row are absent. */
  async listMonths(schoolId: string, fromMonth: string, toMonth: string): Promise<MonthCounters[]> {
    return guardStorage('list incident aggregates', async () => {
      const months = new Map<string, MonthCounters>();
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${`month|${fromMonth}`} and RowKey lt ${`month|${toMonth}}`}`;
      for await (const entity of (await this.table()).listEntities<AggregateEntity>({ queryOptions: { filter } })) {
        const month = entity.rowKey.split('|')[1] as string;
        const counters = JSON.parse(entity.counters) as MonthCounters;
        months.set(month, addCounters(months.get(month) ?? emptyMonth(month), { ...counters, month }));
      }
      // A moved count (a reclassification) leaves a type it left at 0: drop it, as if it had never been counted.
      return [...months.values()].map(withoutZeroBuckets).sort((a, b) => a.month.localeCompare(b.month));
    });
  }

  /**
   * Applies `change` (additive only) to one month. Resolves once the change is stored; callers arriving while a
   * write of the same month is in flight share the next write.
   *
   * With `onceKey` (say, the incident's pending-count row), the change is stored at most once however often it is
   * sent: a marker row for the key is created in the same transaction as the shard it changes, so a retry after a
   * lost response or a crash finds the marker and adds nothing. Its delta may then subtract (a count that moves).
   */
  updateMonth(schoolId: string, month: string, change: MonthChange, options: { onceKey?: string } = {}): Promise<void> {
    const key = `${schoolId}\u0000${month}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { waiters: [], running: false };
      this.queues.set(key, queue);
    }
    const markerKey = options.onceKey === undefined ? undefined : markerKeyFor(schoolId, options.onceKey);
    const done = new Promise<void>((resolve, reject) => queue!.waiters.push({ change, resolve, reject, ...(markerKey ? { markerKey } : {}) }));
    if (!queue.running) void this.drain(key, schoolId, month, queue);
    return done;
  }

  private async drain(key: string, schoolId: string, month: string, queue: { waiters: Waiter[]; running: boolean }): Promise<void> {
    queue.running = true;
    try {
      // A short wait gathers the reports arriving together into one write; the counts are not on the user's path.
      const lingerMs = this.options.lingerMs ?? AGGREGATE_LINGER_MS;
      if (lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, lingerMs));
      while (queue.waiters.length > 0) {
        // One transaction holds the shard and at most 99 markers.
        const batch = sameKeyShared(queue.waiters.splice(0, MAX_TRANSACTION_ACTIONS - 1));
        try {
          await this.addToShard(schoolId, month, batch);
        } catch (error) {
          batch.forEach((w) => w.reject(error));
        }
      }
    } finally {
      queue.running = false;
      if (queue.waiters.length === 0) this.queues.delete(key);
    }
  }

  /**
   * Adds a batch of changes to one shard, creating their markers in the same entity-group transaction (same
   * partition, at most 100 operations: https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions).
   * A conflict is a lost race on the shard (412) or a marker that exists (409): the changes already stored are
   * resolved and the rest go again, to a fresh shard.
   */
  private async addToShard(schoolId: string, month: string, batch: Waiter[], attempts = 8): Promise<void> {
    const shards = this.options.shards ?? AGGREGATE_SHARDS;
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      // A fresh shard on each attempt, so a lost race moves to a row the winner is less likely to be on.
      const shard = (this.options.pickShard ?? (() => randomInt(shards)))();
      const rowKey = `month|${month}|${shard}`;
      const delta = pending.reduce((m, w) => w.change(m), emptyMonth(month));
      try {
        await guardStorage('update incident aggregates', async () => {
          const table = await this.table();
          const existing = await getEntityOrUndefined<AggregateEntity>(table, schoolId, rowKey);
          const counters = addCounters(existing ? (JSON.parse(existing.counters) as MonthCounters) : emptyMonth(month), delta);
          const entity: AggregateEntity = { partitionKey: schoolId, rowKey, counters: JSON.stringify(counters) };
          const markers = pending.flatMap((w): TransactionAction[] => (w.markerKey ? [['create', { partitionKey: schoolId, rowKey: w.markerKey, month }]] : []));
          if (markers.length === 0) {
            if (existing) await table.updateEntity(entity, 'Replace', { etag: existing.etag });
            else await table.createEntity(entity);
          } else {
            const shardAction: TransactionAction = existing ? ['update', { ...entity }, 'Replace', { etag: existing.etag }] : ['create', { ...entity }];
            await table.submitTransaction([...markers, shardAction]);
          }
        });
        pending.forEach((w) => w.resolve());
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= attempts) {
          pending.forEach((w) => w.reject(error));
          return;
        }
        pending = await this.withoutStored(schoolId, pending);
        if (pending.length === 0) return;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  /** Resolves the keyed changes whose markers exist (stored by an earlier attempt or another writer); returns the rest. */
  private async withoutStored(schoolId: string, waiters: Waiter[]): Promise<Waiter[]> {
    const keyed = waiters.filter((w) => w.markerKey);
    if (keyed.length === 0) return waiters;
    const table = await this.table();
    const stored = new Set<Waiter>();
    await guardStorage('read aggregate markers', async () => {
      await Promise.all(keyed.map(async (w) => {
        if (await getEntityOrUndefined(table, schoolId, w.markerKey!)) stored.add(w);
      }));
    });
    stored.forEach((w) => w.resolve());
    return waiters.filter((w) => !stored.has(w));
  }

  /** Replaces every month of a school (back-fill); every other row, shards included, is removed. */
  async replaceAll(schoolId: string, months: readonly MonthCounters[]): Promise<void> {
    await guardStorage('replace incident aggregates', async () => {
      const table = await this.table();
      const keep = new Set(months.map((m) => `month|${m.month}`));
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${'month|'} and RowKey lt ${'month}'}`;
      for await (const entity of table.listEntities<AggregateEntity>({ queryOptions: { filter, select: ['RowKey'] } })) {
        if (!keep.has(entity.rowKey)) await table.deleteEntity(schoolId, entity.rowKey);
      }
      for (const m of months) await table.upsertEntity<AggregateEntity>({ partitionKey: schoolId, rowKey: `month|${m.month}`, counters: JSON.stringify(m) }, 'Replace');
    });
  }
}

/**
 * An entity appears at most once in a transaction, so a change sent twice to one batch (the live write and the
 * catch-up on one instance) goes once: the repeat shares the first one's outcome.
 */
function sameKeyShared(batch: Waiter[]): Waiter[] {
  const first = new Map<string, Waiter>();
  const unique: Waiter[] = [];
  for (const w of batch) {
    const original = w.markerKey ? first.get(w.markerKey) : undefined;
    if (!original) {
      if (w.markerKey) first.set(w.markerKey, w);
      unique.push(w);
      continue;
    }
    const { resolve, reject } = original;
    original.resolve = () => {
      resolve();
      w.resolve();
    };
    original.reject = (error) => {
      reject(error);
      w.reject(error);
    };
  }
  return unique;
}

/** The marker's row key: a hash of the key, so the table holds no reference. */
function markerKeyFor(schoolId: string, onceKey: string): string {
  return `once|${createHash('sha256').update(`${schoolId}\u0000${onceKey}`).digest('hex').slice(0, 40)}`;
}

/** The counts a month holds after `after` replaces `before` (same month): `after − before`, field by field. */
export function differenceOf(after: MonthCounters, before: MonthCounters): MonthCounters {
  return addCounters(after, negate(before) as MonthCounters);
}

function negate(value: unknown): unknown {
  if (typeof value === 'number') return -value;
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, key === 'month' ? v : negate(v)]));
  return value;
}

/** Drops zero entries from the keyed buckets (types, four Cs, year groups, close days); fixed fields stay. */
function withoutZeroBuckets(m: MonthCounters): MonthCounters {
  const prune = <T extends Record<string, number | undefined>>(bucket: T): T => Object.fromEntries(Object.entries(bucket).filter(([, n]) => n !== 0)) as T;
  const scope = <S extends { byType: MonthCounters['byType']; byFourC: MonthCounters['byFourC']; byYearGroup: Record<string, number>; closeDays: Record<string, number> }>(x: S): S => ({
    ...x,
    byType: prune(x.byType),
    byFourC: prune(x.byFourC),
    byYearGroup: prune(x.byYearGroup),
    closeDays: prune(x.closeDays),
  });
  return { ...scope(m), ...(m.childProtection ? { childProtection: scope(m.childProtection) } : {}) };
}

/** Sums two months' counters field by field (numbers, and maps of numbers). */
export function addCounters(a: MonthCounters, b: MonthCounters): MonthCounters {
  return { ...(sumTree(a, b) as MonthCounters), month: a.month };
}

function sumTree(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' || typeof b === 'number') return (typeof a === 'number' ? a : 0) + (typeof b === 'number' ? b : 0);
  if (isObject(a) || isObject(b)) {
    const x = isObject(a) ? a : {};
    const y = isObject(b) ? b : {};
    const out: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) out[key] = sumTree(x[key], y[key]);
    return out;
  }
  return a ?? b;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

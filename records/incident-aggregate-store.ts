import { randomInt } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
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
  resolve(): void;
  reject(error: unknown): void;
}

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
 * Keys: PartitionKey = school id; RowKey = `month|2026-11|3` (a shard), or `month|2026-11` (written by a rebuild).
 * A month's figures are the sum of its rows. Changes that arrive while this instance is already writing a month
 * are merged into its next write (as the counter store batches references), and each write re-reads one shard
 * and replaces it guarded by its etag, retrying on a lost race: 100 concurrent reports cost a few writes, no retry
 * storm, and no count is ever lost.
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
      return [...months.values()].sort((a, b) => a.month.localeCompare(b.month));
    });
  }

  /**
   * Applies `change` (additive only) to one month. Resolves once the change is stored; callers arriving while a
   * write of the same month is in flight share the next write.
   */
  updateMonth(schoolId: string, month: string, change: MonthChange): Promise<void> {
    const key = `${schoolId}\u0000${month}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { waiters: [], running: false };
      this.queues.set(key, queue);
    }
    const done = new Promise<void>((resolve, reject) => queue!.waiters.push({ change, resolve, reject }));
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
        const batch = queue.waiters.splice(0, queue.waiters.length);
        const delta = batch.reduce((m, w) => w.change(m), emptyMonth(month));
        try {
          await this.addToShard(schoolId, month, delta);
          batch.forEach((w) => w.resolve());
        } catch (error) {
          batch.forEach((w) => w.reject(error));
        }
      }
    } finally {
      queue.running = false;
      if (queue.waiters.length === 0) this.queues.delete(key);
    }
  }

  private async addToShard(schoolId: string, month: string, delta: MonthCounters, attempts = 8): Promise<void> {
    const shards = this.options.shards ?? AGGREGATE_SHARDS;
    for (let attempt = 1; ; attempt++) {
      // A fresh shard on each attempt, so a lost race moves to a row the winner is less likely to be on.
      const shard = (this.options.pickShard ?? (() => randomInt(shards)))();
      const rowKey = `month|${month}|${shard}`;
      try {
        await guardStorage('update incident aggregates', async () => {
          const table = await this.table();
          const existing = await getEntityOrUndefined<AggregateEntity>(table, schoolId, rowKey);
          const counters = addCounters(existing ? (JSON.parse(existing.counters) as MonthCounters) : emptyMonth(month), delta);
          const entity: AggregateEntity = { partitionKey: schoolId, rowKey, counters: JSON.stringify(counters) };
          if (existing) await table.updateEntity(entity, 'Replace', { etag: existing.etag });
          else await table.createEntity(entity);
        });
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
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

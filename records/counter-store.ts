import type { TableClient } from '@azure/data-tables';
import { getEntityOrUndefined, guardStorage, isConflict, TABLE_NAMES, type Tables } from './tables';

interface CounterEntity {
  partitionKey: string;
  rowKey: string;
  value: number;
}

interface Waiter {
  resolve(value: number): void;
  reject(error: unknown): void;
}

/**
 * Sequences that every server instance shares (incident references). Keys: PartitionKey = school id,
 * RowKey = counter name. Each increment is an etag-guarded update, so two instances never hand out
 * the same number. Within one instance, callers who arrive while an update is in flight are served
 * together by the next update, so 100 concurrent reports cost a few round trips, not 100 retries.
 */
export class CounterStore {
  private readonly queues = new Map<string, { waiters: Waiter[]; running: boolean }>();

  constructor(
    private readonly tables: Tables,
    private readonly options: { maxAttempts?: number } = {},
  ) {}

  /** The next value of a counter; the first value is 1. */
  nextValue(schoolId: string, name: string): Promise<number> {
    const key = `${schoolId}\u0000${name}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { waiters: [], running: false };
      this.queues.set(key, queue);
    }
    const promise = new Promise<number>((resolve, reject) => queue!.waiters.push({ resolve, reject }));
    if (!queue.running) void this.drain(key, schoolId, name, queue);
    return promise;
  }

  private async drain(key: string, schoolId: string, name: string, queue: { waiters: Waiter[]; running: boolean }): Promise<void> {
    queue.running = true;
    try {
      while (queue.waiters.length > 0) {
        const batch = queue.waiters.splice(0, queue.waiters.length);
        try {
          const last = await this.increment(schoolId, name, batch.length);
          batch.forEach((waiter, index) => waiter.resolve(last - batch.length + 1 + index));
        } catch (error) {
          batch.forEach((waiter) => waiter.reject(error));
        }
      }
    } finally {
      queue.running = false;
      if (queue.waiters.length === 0) this.queues.delete(key);
    }
  }

  /** Adds `count` and returns the new value, retrying when another instance got there first. */
  private async increment(schoolId: string, name: string, count: number): Promise<number> {
    const table = await guardStorage('open counters', () => this.tables.getTable(TABLE_NAMES.counters));
    const maxAttempts = this.options.maxAttempts ?? 50;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        return await guardStorage('increment counter', () => this.tryIncrement(table, schoolId, name, count));
      } catch (error) {
        if (!isConflict(error)) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
    throw new Error(`Counter ${name} stayed contended after ${maxAttempts} attempts.`);
  }

  private async tryIncrement(table: TableClient, schoolId: string, name: string, count: number): Promise<number> {
    const current = await getEntityOrUndefined<CounterEntity>(table, schoolId, name);
    if (!current) {
      await table.createEntity<CounterEntity>({ partitionKey: schoolId, rowKey: name, value: count });
      return count;
    }
    const value = Number(current.value) + count;
    await table.updateEntity<CounterEntity>({ partitionKey: schoolId, rowKey: name, value }, 'Replace', { etag: current.etag });
    return value;
  }
}

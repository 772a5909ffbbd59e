import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { MonthCounters } from '../school/incident-summary';
import { guardStorage, isNotFound, TABLE_NAMES, type Tables } from './tables';

/**
 * A change to the governors' monthly counts, written in the same transaction as the incident change that causes
 * it, so that it cannot be lost: the live write counts it at once (keyed, so once), and the catch-up
 * (`usecases/summarise-incidents.ts` catchUpIncidentCounts) counts any whose writer failed or died, then removes
 * the rows. The row holds counts only; its key names the incident and the chronology line.
 */
export interface PendingCount {
  key: string;
  month: string;
  delta: MonthCounters;
}

/** The key of the count a chronology line causes: `count|ES-2026-0042|000003`. */
export function pendingCountKey(reference: string, sequence: number): string {
  return `count|${reference}|${String(sequence).padStart(6, '0')}`;
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

/** An entity-group transaction holds at most 100 operations: https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions */
const MAX_TRANSACTION_ACTIONS = 100;

/** The row `IncidentStore` adds to an incident's transaction for a count change (no reference property, counts only). */
export function pendingCountEntity(schoolId: string, count: PendingCount, at: string): Entity {
  return { partitionKey: schoolId, rowKey: count.key, month: count.month, counters: JSON.stringify(count.delta), at };
}

/**
 * The count changes waiting in the incidents table (PartitionKey = school id, RowKey `count|<reference>|<line>`),
 * for the catch-up that counts the ones whose live write was lost and removes them all.
 */
export class PendingCountStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.incidents);
  }

  /** Count changes written before `before` (ISO time) and still waiting to be removed by the catch-up. */
  async listPendingCounts(schoolId: string, before: string): Promise<(PendingCount & { at: string })[]> {
    return guardStorage('list pending counts', async () => {
      const found: (PendingCount & { at: string })[] = [];
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${'count|'} and RowKey lt ${'count}'} and at lt ${before}`;
      for await (const entity of (await this.table()).listEntities<Entity>({ queryOptions: { filter } })) {
        found.push({
      key: entity.rowKey,
      month: String(entity.month),
      delta: JSON.parse(String(entity.counters)) as MonthCounters,
          at: String(entity.at),
        });
      }
      return found;
    });
  }

  /** Removes counted changes, 100 to a transaction; a row already gone (another instance's catch-up) is fine. */
  async deletePendingCounts(schoolId: string, keys: readonly string[]): Promise<void> {
    await guardStorage('delete pending counts', async () => {
      const table = await this.table();
      for (let i = 0; i < keys.length; i += MAX_TRANSACTION_ACTIONS) {
        const chunk = keys.slice(i, i + MAX_TRANSACTION_ACTIONS);
        try {
          await table.submitTransaction(chunk.map((rowKey): TransactionAction => ['delete', { partitionKey: schoolId, rowKey }]));
        } catch (error) {
          // One missing row fails the whole transaction: delete the rest one by one.
          if (!isNotFound(error)) throw error;
          for (const rowKey of chunk) await table.deleteEntity(schoolId, rowKey).catch((e: unknown) => {
            if (!isNotFound(e)) throw e;
          });
        }
      }
    });
  }
}

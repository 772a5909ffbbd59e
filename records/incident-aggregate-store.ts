import { odata, type TableClient } from '@azure/data-tables';
import { emptyMonth, type MonthCounters } from '../school/incident-summary';
import { getEntityOrUndefined, guardStorage, isConflict, TABLE_NAMES, type Tables } from './tables';

interface AggregateEntity {
  partitionKey: string;
  rowKey: string;
  counters: string;
}

/**
 * Anonymous per-month incident counters (see school/incident-summary.ts). They hold counts only: no
 * reference, id, name or text.
 *
 * Keys: PartitionKey = school id; RowKey = `month|2026-11`. Each change re-reads the row and writes it back
 * guarded by its etag, retrying when another instance changed it first, so concurrent updates never lose a count.
 */
export class IncidentAggregateStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.incidentAggregates);
  }

  /** The stored months from `fromMonth` to `toMonth` inclusive (`YYYY-MM`); months with no row are absent. */
  async listMonths(schoolId: string, fromMonth: string, toMonth: string): Promise<MonthCounters[]> {
    return guardStorage('list incident aggregates', async () => {
      const results: MonthCounters[] = [];
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${`month|${fromMonth}`} and RowKey le ${`month|${toMonth}`}`;
      for await (const entity of (await this.table()).listEntities<AggregateEntity>({ queryOptions: { filter } })) {
        results.push(JSON.parse(entity.counters) as MonthCounters);
      }
      return results;
    });
  }

  /** Applies `change` to one month's counters, etag-guarded, retrying on a lost race. */
  async updateMonth(schoolId: string, month: string, change: (counters: MonthCounters) => MonthCounters, attempts = 8): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await guardStorage('update incident aggregates', async () => {
          const table = await this.table();
          const existing = await getEntityOrUndefined<AggregateEntity>(table, schoolId, `month|${month}`);
          const counters = change(existing ? (JSON.parse(existing.counters) as MonthCounters) : emptyMonth(month));
          const entity: AggregateEntity = { partitionKey: schoolId, rowKey: `month|${month}`, counters: JSON.stringify(counters) };
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

  /** Replaces every month of a school (back-fill); months not given are removed. */
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

import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { AlertTriage, FilteringAlert } from '../school/filtering-alerts';
import type { FilteringChangeRequest } from '../school/filtering-changes';
import { getEntityOrUndefined, guardStorage, isConflict, isNotFound, type Tables } from './tables';

/** Table of filtering change and exception requests (one table per record type, as records/tables.ts keeps them). */
export const FILTERING_CHANGES_TABLE = 'filteringchanges';

interface ChangeEntity {
  partitionKey: string;
  rowKey: string;
  request: string;
}

/**
 * Filtering change and exception requests.
 *
 * Keys: PartitionKey = school id; RowKey = `change|<id>`. A request is created once (its id comes from its
 * content, so a retry finds the first); a decision replaces it guarded by its etag, so two deciders never both win.
 */
export class FilteringStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(FILTERING_CHANGES_TABLE);
  }

  async createChangeRequest(schoolId: string, request: FilteringChangeRequest): Promise<{ created: boolean; request: FilteringChangeRequest }> {
    return guardStorage('record filtering change request', async () => {
      const table = await this.table();
      try {
        await table.createEntity<ChangeEntity>({ partitionKey: schoolId, rowKey: `change|${request.id}`, request: JSON.stringify(request) });
        return { created: true, request };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const existing = await this.getChangeRequest(schoolId, request.id);
        return { created: false, request: existing!.request };
      }
    });
  }

  /** The request and its etag, or undefined. */
  async getChangeRequest(schoolId: string, id: string): Promise<{ request: FilteringChangeRequest; etag: string } | undefined> {
    return guardStorage('read filtering change request', async () => {
      const entity = await getEntityOrUndefined<ChangeEntity>(await this.table(), schoolId, `change|${id}`);
      return entity ? { request: JSON.parse(entity.request) as FilteringChangeRequest, etag: entity.etag } : undefined;
    });
  }

  /** Replaces a request if it is unchanged since `etag` was read; false when someone else changed it first. */
  async replaceChangeRequest(schoolId: string, request: FilteringChangeRequest, etag: string): Promise<boolean> {
    return guardStorage('decide filtering change request', async () => {
      try {
        await (await this.table()).updateEntity<ChangeEntity>({ partitionKey: schoolId, rowKey: `change|${request.id}`, request: JSON.stringify(request) }, 'Replace', { etag });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    });
  }

  async listChangeRequests(schoolId: string): Promise<FilteringChangeRequest[]> {
    return guardStorage('list filtering change requests', async () => {
      const out: FilteringChangeRequest[] = [];
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${'change|'} and RowKey lt ${'change}'}`;
      for await (const entity of (await this.table()).listEntities<ChangeEntity>({ queryOptions: { filter } })) out.push(JSON.parse(entity.request) as FilteringChangeRequest);
      return out.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
    });
  }

  /**
   * Stores uploaded alerts, 100 to an entity-group transaction (Azure Tables allows at most 100 operations, all
   * in one partition: https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions).
   * A batch holding an alert already stored fails whole, so that batch is retried row by row; the result is
   * how many were new.
   */
  async addAlerts(schoolId: string, alerts: readonly FilteringAlert[]): Promise<number> {
    return guardStorage('store filtering alerts', async () => {
      const table = await this.table();
      let created = 0;
      for (let i = 0; i < alerts.length; i += 100) {
        const batch = alerts.slice(i, i + 100);
        const actions: TransactionAction[] = batch.map((a) => ['create', { partitionKey: schoolId, rowKey: `alert|${a.day}|${a.id}`, alert: JSON.stringify(a) }]);
        try {
          await table.submitTransaction(actions);
          created += batch.length;
        } catch (error) {
          if (!isConflict(error)) throw error;
          for (const [, entity] of actions) {
            try {
              await table.createEntity(entity as { partitionKey: string; rowKey: string });
              created++;
            } catch (rowError) {
              if (!isConflict(rowError)) throw rowError;
            }
          }
        }
      }
      return created;
    });
  }

  /** Alerts from `fromDay` to `toDay` inclusive (YYYY-MM-DD), oldest first. */
  async listAlerts(schoolId: string, fromDay: string, toDay: string): Promise<FilteringAlert[]> {
    return guardStorage('list filtering alerts', async () => {
      const out: FilteringAlert[] = [];
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${`alert|${fromDay}|`} and RowKey lt ${`alert|${toDay}|\uffff`}`;
      for await (const e of (await this.table()).listEntities<{ alert: string }>({ queryOptions: { filter } })) out.push(JSON.parse(e.alert) as FilteringAlert);
      return out.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
    });
  }

  /** Records how an alert was triaged, once: false when someone triaged it first. */
  async addTriage(schoolId: string, triage: AlertTriage): Promise<boolean> {
    return guardStorage('triage filtering alert', async () => {
      try {
        await (await this.table()).createEntity({ partitionKey: schoolId, rowKey: `triage|${triage.alertId}`, triage: JSON.stringify(triage) });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    });
  }

  /** How one alert was triaged, read by key; undefined while it is still to triage. */
  async getTriage(schoolId: string, alertId: string): Promise<AlertTriage | undefined> {
    return guardStorage('read filtering triage', async () => {
      const entity = await getEntityOrUndefined<{ triage: string }>(await this.table(), schoolId, `triage|${alertId}`);
      return entity ? (JSON.parse(entity.triage) as AlertTriage) : undefined;
    });
  }

  async listTriage(schoolId: string): Promise<AlertTriage[]> {
    return guardStorage('list filtering triage', async () => {
      const out: AlertTriage[] = [];
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${'triage|'} and RowKey lt ${'triage}'}`;
      for await (const e of (await this.table()).listEntities<{ triage: string }>({ queryOptions: { filter } })) out.push(JSON.parse(e.triage) as AlertTriage);
      return out;
    });
  }

  /** Claims the day's digest for this instance, once across instances (create-only row). */
  async claimDigest(schoolId: string, day: string, at: string): Promise<boolean> {
    return guardStorage('claim filtering digest', async () => {
      try {
        await (await this.table()).createEntity({ partitionKey: schoolId, rowKey: `digest|${day}`, at });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    });
  }

  /** Gives the day back when sending failed, so the next run tries again. */
  async releaseDigest(schoolId: string, day: string): Promise<void> {
    await guardStorage('release filtering digest', async () => {
      await (await this.table()).deleteEntity(schoolId, `digest|${day}`).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    });
  }
}

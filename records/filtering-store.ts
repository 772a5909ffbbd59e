import { odata, type TableClient } from '@azure/data-tables';
import type { FilteringChangeRequest } from '../school/filtering-changes';
import { getEntityOrUndefined, guardStorage, isConflict, type Tables } from './tables';

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
}

import type { ConversationReference } from 'botbuilder';
import { odata } from '@azure/data-tables';
import { getEntityOrUndefined, guardStorage, TABLE_NAMES, type Tables } from './tables';

/** Keys per query: Azure Tables allows at most 15 comparisons in a filter (https://learn.microsoft.com/rest/api/storageservices/querying-tables-and-entities). */
const KEYS_PER_QUERY = 14;

interface ConversationEntity {
  partitionKey: string;
  rowKey: string;
  reference: string;
  updatedAt: string;
}

/**
 * Where to reach each person proactively. Keys: PartitionKey = school id, RowKey = the person's Entra
 * object id. Stored in Tables, not memory, so whichever instance sends an alert can reach them.
 */
export class ConversationStore {
  /** Recently read references: a bounded-lifetime cache for the alert path only (see `getConversations`). */
  private readonly recent = new Map<string, { reference: Partial<ConversationReference>; until: number }>();

  constructor(
    private readonly tables: Tables,
    private readonly options: { cacheMs?: number; cacheSize?: number; now?: () => number } = {},
  ) {}

  async upsertConversation(schoolId: string, aadObjectId: string, reference: Partial<ConversationReference>, now: Date): Promise<void> {
    await guardStorage('save conversation reference', async () => {
      const table = await this.tables.getTable(TABLE_NAMES.conversations);
      await table.upsertEntity<ConversationEntity>(
        { partitionKey: schoolId, rowKey: aadObjectId, reference: JSON.stringify(reference), updatedAt: now.toISOString() },
        'Replace',
      );
    });
    this.recent.delete(`${schoolId}\u0000${aadObjectId}`);
  }

  /** Drops a cached reference that failed to reach its person, so the next try reads the stored one. */
  forgetConversation(schoolId: string, aadObjectId: string): void {
    this.recent.delete(`${schoolId}\u0000${aadObjectId}`);
  }

  async getConversation(schoolId: string, aadObjectId: string): Promise<Partial<ConversationReference> | undefined> {
    return guardStorage('read conversation reference', async () => {
      const table = await this.tables.getTable(TABLE_NAMES.conversations);
      const entity = await getEntityOrUndefined<ConversationEntity>(table, schoolId, aadObjectId);
      return entity ? (JSON.parse(entity.reference) as Partial<ConversationReference>) : undefined;
    });
  }

  /**
   * Several people's references: from a per-instance cache that lives at most `cacheMs` (default 60 s), else one
   * round trip per 14 people (a query on their row keys); people never seen are absent. A reference that went
   * stale meanwhile only fails a send, which leaves the alert pending for the sweep (and `forgetConversation`).
   */
  async getConversations(schoolId: string, aadObjectIds: readonly string[]): Promise<Map<string, Partial<ConversationReference>>> {
    const now = (this.options.now ?? Date.now)();
    const found = new Map<string, Partial<ConversationReference>>();
    const ids: string[] = [];
    for (const id of new Set(aadObjectIds)) {
      const cached = this.recent.get(`${schoolId}\u0000${id}`);
      if (cached && cached.until > now) found.set(id, cached.reference);
      else ids.push(id);
    }
    if (ids.length === 0) return found;
    const remember = (id: string, reference: Partial<ConversationReference>): void => {
      found.set(id, reference);
      const key = `${schoolId}\u0000${id}`;
      this.recent.delete(key);
      this.recent.set(key, { reference, until: now + (this.options.cacheMs ?? 60_000) });
      // Oldest first out, so memory stays bounded whatever the number of staff.
      while (this.recent.size > (this.options.cacheSize ?? 5_000)) this.recent.delete(this.recent.keys().next().value as string);
    };
    if (ids.length === 1) {
      const one = await this.getConversation(schoolId, ids[0]!);
      if (one) remember(ids[0]!, one);
      return found;
    }
    await guardStorage('read conversation references', async () => {
      const table = await this.tables.getTable(TABLE_NAMES.conversations);
      for (let i = 0; i < ids.length; i += KEYS_PER_QUERY) {
        const keys = ids.slice(i, i + KEYS_PER_QUERY).map((id) => odata`RowKey eq ${id}`).join(' or ');
        const filter = `${odata`PartitionKey eq ${schoolId}`} and (${keys})`;
        for await (const entity of table.listEntities<ConversationEntity>({ queryOptions: { filter } })) {
          remember(entity.rowKey, JSON.parse(entity.reference) as Partial<ConversationReference>);
        }
      }
    });
    return found;
  }
}

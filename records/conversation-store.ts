import type { ConversationReference } from 'botbuilder';
import { getEntityOrUndefined, guardStorage, TABLE_NAMES, type Tables } from './tables';

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
  constructor(private readonly tables: Tables) {}

  async upsertConversation(schoolId: string, aadObjectId: string, reference: Partial<ConversationReference>, now: Date): Promise<void> {
    await guardStorage('save conversation reference', async () => {
      const table = await this.tables.getTable(TABLE_NAMES.conversations);
      await table.upsertEntity<ConversationEntity>(
        { partitionKey: schoolId, rowKey: aadObjectId, reference: JSON.stringify(reference), updatedAt: now.toISOString() },
        'Replace',
      );
    });
  }

  async getConversation(schoolId: string, aadObjectId: string): Promise<Partial<ConversationReference> | undefined> {
    return guardStorage('read conversation reference', async () => {
      const table = await this.tables.getTable(TABLE_NAMES.conversations);
      const entity = await getEntityOrUndefined<ConversationEntity>(table, schoolId, aadObjectId);
      return entity ? (JSON.parse(entity.reference) as Partial<ConversationReference>) : undefined;
    });
  }
}

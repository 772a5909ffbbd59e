import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { getEntityOrUndefined, guardStorage, isNotFound, TABLE_NAMES, type Tables } from './tables';

/**
 * Ids per chunk row. A string property holds at most 64 KiB (32K UTF-16 characters) and an entity 1 MiB
 * (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model); 500 object
 * ids are about 19,500 characters as JSON, so any group size fits: 5,000 members is 10 rows.
 */
const IDS_PER_CHUNK = 500;
/** An entity-group transaction holds at most 100 operations, all in one partition: https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions */
const MAX_TRANSACTION_ACTIONS = 100;
/** Parallel writes when the person → schools index changes (a new 5,000-member group, once). */
const INDEX_CONCURRENCY = 16;

type Row = { partitionKey: string; rowKey: string } & Record<string, string | number>;

/** One person's role in one school, from the membership index. */
export interface RoleMembership {
  schoolId: string;
  role: string;
}

/**
 * Cached members of each role's security group, shared through Tables so every instance agrees, plus the
 * membership index that answers "where does this person hold a role" in one query.
 *
 * - Members: PartitionKey = school id; RowKey `meta|<role>` (fetchedAt, the current generation) and
 *   `members|<role>|<generation>|0000…` (up to 500 ids each). A refresh writes a new generation, then points the
 *   meta row at it, then deletes the old one: a reader never sees half a list.
 * - Index (table `rolememberships`): PartitionKey = person's object id, RowKey = `<school id>|<role>`. The role
 *   directory keeps it current as it refreshes a role, so finding a person's schools costs one read however many
 *   schools the deployment serves.
 */
export class RoleCacheStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.roleCache);
  }

  private index(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.roleMemberships);
  }

  async getRoleMembers(schoolId: string, role: string): Promise<{ memberIds: string[]; fetchedAt: Date } | undefined> {
    return guardStorage('read role cache', async () => {
      const table = await this.table();
      const meta = await getEntityOrUndefined<Row>(table, schoolId, `meta|${role}`);
      if (!meta) return undefined;
      const prefix = `members|${role}|${meta.generation}|`;
      const memberIds: string[] = [];
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${prefix} and RowKey lt ${`${prefix}~`}`;
      for await (const row of table.listEntities<Row>({ queryOptions: { filter } })) memberIds.push(...(JSON.parse(String(row.memberIds)) as string[]));
      return { memberIds, fetchedAt: new Date(String(meta.fetchedAt)) };
    });
  }

  /** When each cached role of a school was fetched, in one query (for the directory's freshness check). */
  async listFetchedAt(schoolId: string): Promise<Map<string, Date>> {
    return guardStorage('read role cache', async () => {
      const fetched = new Map<string, Date>();
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${'meta|'} and RowKey lt ${'meta}'}`;
      for await (const row of (await this.table()).listEntities<Row>({ queryOptions: { filter } })) fetched.set(row.rowKey.slice('meta|'.length), new Date(String(row.fetchedAt)));
      return fetched;
    });
  }

  /** Replaces a role's members (any number) and brings the membership index up to date with the change. */
  async setRoleMembers(schoolId: string, role: string, memberIds: string[], fetchedAt: Date): Promise<void> {
    const previous = await this.getRoleMembers(schoolId, role);
    const oldGeneration = previous ? await this.generationOf(schoolId, role) : undefined;
    const generation = String(fetchedAt.getTime()).padStart(15, '0');
    await guardStorage('write role cache', async () => {
      const table = await this.table();
      const chunks: string[][] = [];
      for (let i = 0; i < memberIds.length; i += IDS_PER_CHUNK) chunks.push(memberIds.slice(i, i + IDS_PER_CHUNK));
      if (chunks.length === 0) chunks.push([]);
      const rows = chunks.map((ids, n): TransactionAction => ['upsert', { partitionKey: schoolId, rowKey: `members|${role}|${generation}|${String(n).padStart(4, '0')}`, memberIds: JSON.stringify(ids) }, 'Replace']);
      for (let i = 0; i < rows.length; i += MAX_TRANSACTION_ACTIONS) await table.submitTransaction(rows.slice(i, i + MAX_TRANSACTION_ACTIONS));
      await table.upsertEntity<Row>({ partitionKey: schoolId, rowKey: `meta|${role}`, generation, fetchedAt: fetchedAt.toISOString(), count: memberIds.length }, 'Replace');
      if (oldGeneration && oldGeneration !== generation) {
        const prefix = `members|${role}|${oldGeneration}|`;
        const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${prefix} and RowKey lt ${`${prefix}~`}`;
        const stale: TransactionAction[] = [];
        for await (const row of table.listEntities<Row>({ queryOptions: { filter, select: ['RowKey'] } })) stale.push(['delete', { partitionKey: schoolId, rowKey: row.rowKey }]);
        for (let i = 0; i < stale.length; i += MAX_TRANSACTION_ACTIONS) await table.submitTransaction(stale.slice(i, i + MAX_TRANSACTION_ACTIONS));
      }
    });
    const before = new Set(previous?.memberIds ?? []);
    const after = new Set(memberIds);
    await this.updateIndex(
      schoolId,
      role,
      memberIds.filter((id) => !before.has(id)),
      [...before].filter((id) => !after.has(id)),
    );
  }

  /** Every school and role the index lists for a person: one query, whatever the number of schools. */
  async getMemberships(personId: string): Promise<RoleMembership[]> {
    return guardStorage('read role memberships', async () => {
      const found: RoleMembership[] = [];
      for await (const row of (await this.index()).listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${personId}` } })) {
        const [schoolId = '', role = ''] = row.rowKey.split('|');
        found.push({ schoolId, role });
      }
      return found;
    });
  }

  private async generationOf(schoolId: string, role: string): Promise<string | undefined> {
    const meta = await guardStorage('read role cache', async () => getEntityOrUndefined<Row>(await this.table(), schoolId, `meta|${role}`));
    return meta ? String(meta.generation) : undefined;
  }

  private async updateIndex(schoolId: string, role: string, added: string[], removed: string[]): Promise<void> {
    const work = [...added.map((id) => ({ id, add: true })), ...removed.map((id) => ({ id, add: false }))];
    if (work.length === 0) return;
    await guardStorage('write role memberships', async () => {
      const index = await this.index();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < work.length) {
          const { id, add } = work[next++]!;
          if (add) await index.upsertEntity<Row>({ partitionKey: id, rowKey: `${schoolId}|${role}` }, 'Replace');
          else await index.deleteEntity(id, `${schoolId}|${role}`).catch((error: unknown) => {
            if (!isNotFound(error)) throw error;
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(INDEX_CONCURRENCY, work.length) }, worker));
    });
  }
}

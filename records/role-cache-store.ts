import { getEntityOrUndefined, guardStorage, TABLE_NAMES, type Tables } from './tables';

interface RoleCacheEntity {
  partitionKey: string;
  rowKey: string;
  memberIds: string;
  fetchedAt: string;
}

/**
 * Cached members of each role's security group. Keys: PartitionKey = school id, RowKey = role.
 * Shared through Tables so every instance agrees on who holds a role.
 */
export class RoleCacheStore {
  constructor(private readonly tables: Tables) {}

  async getRoleMembers(schoolId: string, role: string): Promise<{ memberIds: string[]; fetchedAt: Date } | undefined> {
    return guardStorage('read role cache', async () => {
      const entity = await getEntityOrUndefined<RoleCacheEntity>(await this.tables.getTable(TABLE_NAMES.roleCache), schoolId, role);
      return entity ? { memberIds: JSON.parse(entity.memberIds) as string[], fetchedAt: new Date(entity.fetchedAt) } : undefined;
    });
  }

  async setRoleMembers(schoolId: string, role: string, memberIds: string[], fetchedAt: Date): Promise<void> {
    await guardStorage('write role cache', async () => {
      const table = await this.tables.getTable(TABLE_NAMES.roleCache);
      await table.upsertEntity<RoleCacheEntity>(
        { partitionKey: schoolId, rowKey: role, memberIds: JSON.stringify(memberIds), fetchedAt: fetchedAt.toISOString() },
        'Replace',
      );
    });
  }
}

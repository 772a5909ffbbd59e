import type { TableClient } from '@azure/data-tables';
import type { SchoolAuditYear } from '../school/school-audit';
import { getEntityOrUndefined, guardStorage, TABLE_NAMES, type Tables } from './tables';

interface AuditYearEntity {
  partitionKey: string;
  rowKey: string;
  record: string;
}

/**
 * The annual e-safety audit checklist and the filtering and monitoring review, one row per academic year.
 * Keys: PartitionKey = school id; RowKey = `year|2026` (the year starting September 2026). Writes are
 * guarded by the etag read (a new year is created only if no one else created it first): a lost race is a 409/412.
 */
export class SchoolAuditStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.schoolAudits);
  }

  async getYear(schoolId: string, academicYear: number): Promise<(SchoolAuditYear & { etag: string }) | undefined> {
    return guardStorage('read school audit', async () => {
      const entity = await getEntityOrUndefined<AuditYearEntity>(await this.table(), schoolId, `year|${academicYear}`);
      return entity ? { ...(JSON.parse(entity.record) as SchoolAuditYear), etag: String(entity.etag) } : undefined;
    });
  }

  /** Saves a year; `etag` is the one read, or undefined to create a year that does not exist yet. */
  async saveYear(schoolId: string, year: SchoolAuditYear, etag: string | undefined): Promise<void> {
    await guardStorage('save school audit', async () => {
      const table = await this.table();
      const entity: AuditYearEntity = { partitionKey: schoolId, rowKey: `year|${year.academicYear}`, record: JSON.stringify(year) };
      if (etag) await table.updateEntity(entity, 'Replace', { etag });
      else await table.createEntity(entity);
    });
  }
}

import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { TrainingRecord } from '../school/training';
import { getEntityOrUndefined, guardStorage, isConflict, type Tables } from './tables';

export const TRAINING_TABLE = 'trainingrecords';

interface TrainingEntity extends TrainingRecord {
  partitionKey: string;
  rowKey: string;
}

/**
 * Online-safety training records.
 *
 * Keys: PartitionKey = school id; RowKey = `training|<object id>|<completed on>|<hash of course and provider>`,
 * so recording the same course twice (a retried request or a re-uploaded CSV) stores it once.
 */
export class TrainingStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TRAINING_TABLE);
  }

  async recordTraining(schoolId: string, record: TrainingRecord): Promise<{ created: boolean; record: TrainingRecord }> {
    const course = createHash('sha256').update(`${record.course.toLowerCase()}|${record.provider.toLowerCase()}`, 'utf8').digest('hex').slice(0, 16);
    const rowKey = `training|${record.aadObjectId}|${record.completedOn}|${course}`;
    return guardStorage('record training', async () => {
      const table = await this.table();
      try {
        await table.createEntity<TrainingEntity>({ partitionKey: schoolId, rowKey, ...record });
        return { created: true, record };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const existing = await getEntityOrUndefined<TrainingEntity>(table, schoolId, rowKey);
        return { created: false, record: existing ? toRecord(existing) : record };
      }
    });
  }

  async listTraining(schoolId: string): Promise<TrainingRecord[]> {
    return guardStorage('list training', async () => {
      const out: TrainingRecord[] = [];
      const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${'training|'} and RowKey lt ${'training}'}`;
      for await (const e of (await this.table()).listEntities<TrainingEntity>({ queryOptions: { filter } })) out.push(toRecord(e));
      return out.sort((a, b) => b.completedOn.localeCompare(a.completedOn));
    });
  }
}

function toRecord(e: TrainingRecord): TrainingRecord {
  return { aadObjectId: e.aadObjectId, course: e.course, provider: e.provider, completedOn: e.completedOn, recordedBy: e.recordedBy, recordedAt: e.recordedAt };
}

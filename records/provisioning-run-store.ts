import { odata, type TableClient } from '@azure/data-tables';
import { guardStorage, TABLE_NAMES, type Tables } from './tables';

export type ProvisioningRunKind = 'apply' | 'leavers' | 'reset-password';
export type ProvisioningRunStatus = 'running' | 'completed' | 'interrupted';

/** One provisioning run: what it was, how it ended and its counts. Ids and numbers only: no names, no passwords. */
export interface ProvisioningRun {
  runId: string;
  kind: ProvisioningRunKind;
  status: ProvisioningRunStatus;
  actorId: string;
  startedAt: string;
  finishedAt?: string;
  /** Pupils per outcome, e.g. `{ create: 3, unchanged: 57 }`. */
  counts: Record<string, number>;
  /** Why a run stopped early: an error name or Graph error code, never a message. */
  interruption?: string;
}

interface RunEntity {
  partitionKey: string;
  rowKey: string;
  runId: string;
  kind: string;
  status: string;
  actorId: string;
  startedAt: string;
  finishedAt?: string;
  counts: string;
  interruption?: string;
}

/** Larger than any millisecond timestamp we will see, so `MAX - time` sorts newest first. */
const MAX_TIME = 9_999_999_999_999;

/**
 * Provisioning runs. Keys: PartitionKey = school id, RowKey = (MAX − start time in ms, 13 digits) + `|` + run id,
 * so a partition lists newest first. A run is written when it starts and replaced when it ends; a run still
 * `running` after its process died is how the next run knows it is finishing someone else's job.
 */
export class ProvisioningRunStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.provisioningRuns);
  }

  /** Writes the run as it stands now (insert or replace). */
  async saveRun(schoolId: string, run: ProvisioningRun): Promise<void> {
    await guardStorage('save provisioning run', async () => {
      const entity: RunEntity = {
        partitionKey: schoolId,
        rowKey: rowKeyOf(run),
        runId: run.runId,
        kind: run.kind,
        status: run.status,
        actorId: run.actorId,
        startedAt: run.startedAt,
        counts: JSON.stringify(run.counts),
        ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
        ...(run.interruption ? { interruption: run.interruption } : {}),
      };
      await (await this.table()).upsertEntity(entity, 'Replace');
    });
  }

  /** The most recent runs, newest first, optionally of one kind. */
  async listRuns(schoolId: string, options: { kind?: ProvisioningRunKind; limit?: number } = {}): Promise<ProvisioningRun[]> {
    const limit = options.limit ?? 20;
    const filter = options.kind ? odata`PartitionKey eq ${schoolId} and kind eq ${options.kind}` : odata`PartitionKey eq ${schoolId}`;
    return guardStorage('list provisioning runs', async () => {
      const runs: ProvisioningRun[] = [];
      for await (const entity of (await this.table()).listEntities<RunEntity>({ queryOptions: { filter } })) {
        runs.push({
          runId: entity.runId,
          kind: entity.kind as ProvisioningRunKind,
          status: entity.status as ProvisioningRunStatus,
          actorId: entity.actorId,
          startedAt: entity.startedAt,
          counts: JSON.parse(entity.counts || '{}') as Record<string, number>,
          ...(entity.finishedAt ? { finishedAt: entity.finishedAt } : {}),
          ...(entity.interruption ? { interruption: entity.interruption } : {}),
        });
        if (runs.length >= limit) break;
      }
      return runs;
    });
  }
}

function rowKeyOf(run: ProvisioningRun): string {
  return `${String(MAX_TIME - Date.parse(run.startedAt)).padStart(13, '0')}|${run.runId}`;
}

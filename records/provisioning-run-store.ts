import { odata, type TableClient } from '@azure/data-tables';
import { getEntityOrUndefined, guardStorage, isConflict, isNotFound, TABLE_NAMES, type Tables } from './tables';

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

/** Who holds a school's provisioning lease, shown to anyone who is refused it. */
export interface ProvisioningLeaseHolder {
  runId: string;
  actorId: string;
  since: string;
  /** When the holder's lease runs out unless its heartbeat renews it. */
  expiresAt?: string;
}

export type ProvisioningLease = { acquired: true } | { acquired: false; heldBy: ProvisioningLeaseHolder };

interface LeaseEntity {
  partitionKey: string;
  rowKey: string;
  runId: string;
  actorId: string;
  since: string;
  expiresAt: string;
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

  /**
   * Claims the school's provisioning lease, so that two admins (or two server instances, or the CLI and the
   * tab) never provision the same roll at once. One row per school (PartitionKey `<school>|lease`, so run
   * listings never see it): created when free, taken over with an etag when its holder's lease has expired
   * (a process that died: the lease is short and a live run renews it, see usecases/provisioning-lease.ts),
   * refused otherwise.
   */
  async acquireLease(schoolId: string, holder: { runId: string; actorId: string }, now: Date, ttlMs: number): Promise<ProvisioningLease> {
    return guardStorage('claim provisioning lease', async () => {
      const table = await this.table();
      const entity: LeaseEntity = { partitionKey: leasePartition(schoolId), rowKey: 'apply', ...holder, since: now.toISOString(), expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
      try {
        await table.createEntity(entity);
        return { acquired: true };
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      const existing = await getEntityOrUndefined<LeaseEntity>(table, entity.partitionKey, entity.rowKey);
      if (existing && Date.parse(existing.expiresAt) > now.getTime() && existing.runId !== holder.runId) {
        return { acquired: false, heldBy: holderOf(existing) };
      }
      try {
        if (existing) await table.updateEntity(entity, 'Replace', { etag: existing.etag });
        else await table.createEntity(entity);
        return { acquired: true };
      } catch (error) {
        // Someone else took the expired lease between our read and write.
        if (!isConflict(error)) throw error;
        const winner = await getEntityOrUndefined<LeaseEntity>(table, entity.partitionKey, entity.rowKey);
        return { acquired: false, heldBy: { runId: winner?.runId ?? 'unknown', actorId: winner?.actorId ?? 'unknown', since: winner?.since ?? now.toISOString() } };
      }
    });
  }

  /**
   * Extends the lease `runId` holds to `now + ttlMs` (the run's heartbeat), guarded by the etag just read.
   * False when the lease is no longer this run's (taken over after it expired, or by an admin).
   */
  async renewLease(schoolId: string, runId: string, now: Date, ttlMs: number): Promise<boolean> {
    return guardStorage('renew provisioning lease', async () => {
      const table = await this.table();
      const existing = await getEntityOrUndefined<LeaseEntity>(table, leasePartition(schoolId), 'apply');
      if (!existing || existing.runId !== runId) return false;
      try {
        await table.updateEntity<LeaseEntity>({ ...stripMetadata(existing), expiresAt: new Date(now.getTime() + ttlMs).toISOString() }, 'Replace', { etag: existing.etag });
        return true;
      } catch (error) {
        if (isConflict(error) || isNotFound(error)) return false;
        throw error;
      }
    });
  }

  /**
   * An admin takes the lease from a run they name (`staleRunId`), live or not, for a new run. Refused unless
   * that run holds it now, so nobody takes over a run they have not looked at; etag-guarded against a race.
   * The old run's heartbeat then finds the lease gone and stops at its next step.
   */
  async takeOverLease(schoolId: string, staleRunId: string, holder: { runId: string; actorId: string }, now: Date, ttlMs: number): Promise<ProvisioningLease> {
    return guardStorage('take over provisioning lease', async () => {
      const table = await this.table();
      const existing = await getEntityOrUndefined<LeaseEntity>(table, leasePartition(schoolId), 'apply');
      const entity: LeaseEntity = { partitionKey: leasePartition(schoolId), rowKey: 'apply', ...holder, since: now.toISOString(), expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
      if (!existing) {
        try {
          await table.createEntity(entity);
          return { acquired: true };
        } catch (error) {
          if (!isConflict(error)) throw error;
          return this.acquireLease(schoolId, holder, now, ttlMs);
        }
      }
      if (existing.runId !== staleRunId) return { acquired: false, heldBy: holderOf(existing) };
      try {
        await table.updateEntity(entity, 'Replace', { etag: existing.etag });
        return { acquired: true };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const winner = await getEntityOrUndefined<LeaseEntity>(table, entity.partitionKey, entity.rowKey);
        return { acquired: false, heldBy: winner ? holderOf(winner) : { runId: 'unknown', actorId: 'unknown', since: now.toISOString() } };
      }
    });
  }

  /** Gives the lease back; does nothing when another run holds it now. */
  async releaseLease(schoolId: string, runId: string): Promise<void> {
    await guardStorage('release provisioning lease', async () => {
      const table = await this.table();
      const existing = await getEntityOrUndefined<LeaseEntity>(table, leasePartition(schoolId), 'apply');
      if (!existing || existing.runId !== runId) return;
      await table.deleteEntity(existing.partitionKey, existing.rowKey, { etag: existing.etag }).catch((error: unknown) => {
        if (!isNotFound(error) && !isConflict(error)) throw error;
      });
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

function holderOf(entity: LeaseEntity): ProvisioningLeaseHolder {
  return { runId: entity.runId, actorId: entity.actorId, since: entity.since, expiresAt: entity.expiresAt };
}

function stripMetadata(entity: LeaseEntity & { etag?: string; timestamp?: string }): LeaseEntity {
  const { partitionKey, rowKey, runId, actorId, since, expiresAt } = entity;
  return { partitionKey, rowKey, runId, actorId, since, expiresAt };
}

function leasePartition(schoolId: string): string {
  return `${schoolId}|lease`;
}

function rowKeyOf(run: ProvisioningRun): string {
  return `${String(MAX_TIME - Date.parse(run.startedAt)).padStart(13, '0')}|${run.runId}`;
}

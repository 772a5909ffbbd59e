import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { getEntityOrUndefined, guardStorage, isConflict, TABLE_NAMES, type Tables } from './tables';
import type { ComplianceSummary, Drift } from '../school/pupil-policy-drift';

/** One pupil's result in a run; the pupil is named by Entra object id and MIS key, never by name. */
export interface PupilComplianceRecord {
  userId: string;
  externalId: string;
  compliant: boolean;
  drift: Drift[];
}

/** One class team's result in a run. */
export interface TeamComplianceRecord {
  teamId: string;
  compliant: boolean;
  drift: Drift[];
}

/** A finished run. */
export interface ComplianceRun {
  runId: string;
  kind: 'daily' | 'audit' | 'fix';
  startedAt: string;
  finishedAt: string;
  summary: ComplianceSummary;
  teams: TeamComplianceRecord[];
}

/** The outcome of claiming a day's scheduled run. */
export type RunClaim = { claimed: true; etag: string } | { claimed: false; done?: boolean };

/**
 * A claim not renewed for this long belongs to an instance that stopped mid-run (a crash, a lost instance) and is
 * taken over; the holder renews it every third of this (`renewClaim`). At most a minute, as issue 14 asks.
 */
export const COMPLIANCE_CLAIM_MS = 60_000;
const TRANSACTION_SIZE = 100;

type Entity = { partitionKey: string; rowKey: string } & Record<string, string | boolean | undefined>;

/**
 * Enforcement runs and their per-pupil drift. Keys:
 * - a run: PartitionKey = school id, RowKey = `run|<runId>`; a daily run's id is `daily-YYYY-MM-DD` (UK date), and
 *   creating that row is how one instance claims the day (createEntity fails with 409 for the others);
 * - the latest finished run: PartitionKey = school id, RowKey = `latest` (summary copied, so the tab reads one row);
 * - a pupil's drift in a run: PartitionKey = `<school id>|<runId>`, RowKey = Entra object id.
 */
export class ComplianceStore {
  constructor(
    private readonly tables: Tables,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.compliance);
  }

  /**
   * Claims a daily run for one instance; a claim not renewed for `leaseMs` is taken over. `done` says the run
   * is already finished, so a caller can stop asking for the day; otherwise it should ask again on its next tick.
   */
  async claimRun(schoolId: string, runId: string, instanceId: string, leaseMs = COMPLIANCE_CLAIM_MS): Promise<RunClaim> {
    return guardStorage('claim compliance run', async () => {
      const table = await this.table();
      const now = this.clock().toISOString();
      try {
        const created = await table.createEntity<Entity>({ partitionKey: schoolId, rowKey: `run|${runId}`, status: 'running', instanceId, claimedAt: now });
        return { claimed: true, etag: created.etag ?? '*' };
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      const existing = await getEntityOrUndefined<Entity>(table, schoolId, `run|${runId}`);
      const claimedAt = Date.parse(String(existing?.claimedAt ?? ''));
      if (!existing || existing.status !== 'running') return { claimed: false, done: true };
      if (!(this.clock().getTime() - claimedAt > leaseMs)) return { claimed: false };
      try {
        const updated = await table.updateEntity<Entity>({ partitionKey: schoolId, rowKey: `run|${runId}`, status: 'running', instanceId, claimedAt: now }, 'Replace', { etag: existing.etag });
        return { claimed: true, etag: updated.etag ?? '*' };
      } catch (error) {
        if (isConflict(error)) return { claimed: false };
        throw error;
      }
    });
  }

  /** The claim holder's heartbeat: false when the run is no longer `instanceId`'s (taken over, or finished). */
  async renewClaim(schoolId: string, runId: string, instanceId: string): Promise<boolean> {
    return guardStorage('renew compliance claim', async () => {
      const table = await this.table();
      const existing = await getEntityOrUndefined<Entity>(table, schoolId, `run|${runId}`);
      if (!existing || existing.status !== 'running' || existing.instanceId !== instanceId) return false;
      try {
        await table.updateEntity<Entity>({ partitionKey: schoolId, rowKey: `run|${runId}`, claimedAt: this.clock().toISOString() }, 'Merge', { etag: existing.etag });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    });
  }

  /** Stores a finished run with every pupil's result, and makes it the latest. */
  async saveRun(schoolId: string, run: ComplianceRun, pupils: readonly PupilComplianceRecord[]): Promise<void> {
    await guardStorage('save compliance run', async () => {
      const table = await this.table();
      const partitionKey = `${schoolId}|${run.runId}`;
      const actions: TransactionAction[] = pupils.map((p) => [
        'upsert',
        { partitionKey, rowKey: p.userId, externalId: p.externalId, compliant: p.compliant, drift: JSON.stringify(p.drift) },
        'Replace',
      ]);
      for (let i = 0; i < actions.length; i += TRANSACTION_SIZE) await table.submitTransaction(actions.slice(i, i + TRANSACTION_SIZE));
      const row = {
        kind: run.kind,
        runId: run.runId,
        status: 'completed',
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
        summary: JSON.stringify(run.summary),
        teams: JSON.stringify(run.teams),
      };
      await table.upsertEntity<Entity>({ partitionKey: schoolId, rowKey: `run|${run.runId}`, ...row }, 'Replace');
      await table.upsertEntity<Entity>({ partitionKey: schoolId, rowKey: 'latest', ...row }, 'Replace');
    });
  }

  /** The latest finished run, or undefined when none has finished. */
  async getLatestRun(schoolId: string): Promise<ComplianceRun | undefined> {
    return guardStorage('get latest compliance run', async () => {
      const entity = await getEntityOrUndefined<Entity>(await this.table(), schoolId, 'latest');
      return entity ? toRun(entity) : undefined;
    });
  }

  /** A run, or undefined (also while it is still running). */
  async getRun(schoolId: string, runId: string): Promise<ComplianceRun | undefined> {
    return guardStorage('get compliance run', async () => {
      const entity = await getEntityOrUndefined<Entity>(await this.table(), schoolId, `run|${runId}`);
      return entity && entity.status === 'completed' ? toRun(entity) : undefined;
    });
  }

  /** Every pupil's result in a run. */
  async listPupilResults(schoolId: string, runId: string): Promise<PupilComplianceRecord[]> {
    return guardStorage('list compliance results', async () => {
      const table = await this.table();
      const out: PupilComplianceRecord[] = [];
      for await (const e of table.listEntities<Entity>({ queryOptions: { filter: odata`PartitionKey eq ${`${schoolId}|${runId}`}` } })) {
        out.push({ userId: e.rowKey, externalId: String(e.externalId ?? ''), compliant: e.compliant === true, drift: JSON.parse(String(e.drift ?? '[]')) as Drift[] });
      }
      return out;
    });
  }
}

function toRun(entity: Entity): ComplianceRun {
  return {
    runId: String(entity.runId),
    kind: String(entity.kind) as ComplianceRun['kind'],
    startedAt: String(entity.startedAt),
    finishedAt: String(entity.finishedAt),
    summary: JSON.parse(String(entity.summary)) as ComplianceSummary,
    teams: JSON.parse(String(entity.teams ?? '[]')) as TeamComplianceRecord[],
  };
}

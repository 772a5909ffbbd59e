import type { AuditStore } from '../records/audit-store';
import type { ProvisioningLeaseHolder, ProvisioningRunStore } from '../records/provisioning-run-store';
import { startHeartbeat } from './lease-heartbeat';

/** At most a minute (issue 14): a crashed run's school is free again within this; a live run renews it every 20 s. */
export const PROVISIONING_LEASE_MS = 60_000;

export interface ProvisioningLeaseDependencies {
  schoolId: string;
  runs: Pick<ProvisioningRunStore, 'acquireLease' | 'renewLease' | 'releaseLease' | 'takeOverLease'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  leaseMs: number;
  clock: () => Date;
}

export type LeasedOutcome<T> = { kind: 'done'; value: T } | { kind: 'busy'; message: string; heldBy: ProvisioningLeaseHolder };

/** Thrown into the run (as its abort reason) when its lease was lost; the run stops at its next step. */
export class LeaseLostError extends Error {
  override readonly name = 'AbortError';
}

/**
 * Runs `work` holding the school's provisioning lease: taken (or, with `takeOverRunId`, taken over from that
 * named run, audited), renewed by a heartbeat while `work` runs, and given back at the end. If the lease is
 * lost meanwhile, `work`'s signal aborts so two runs never work on one roll for longer than one step.
 */
export async function withProvisioningLease<T>(
  deps: ProvisioningLeaseDependencies,
  holder: { runId: string; actorId: string; takeOverRunId?: string; correlationId?: string },
  work: (signal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
): Promise<LeasedOutcome<T>> {
  const { schoolId, runs, leaseMs } = deps;
  const now = deps.clock();
  const who = { runId: holder.runId, actorId: holder.actorId };
  const lease = holder.takeOverRunId ? await runs.takeOverLease(schoolId, holder.takeOverRunId, who, now, leaseMs) : await runs.acquireLease(schoolId, who, now, leaseMs);
  if (holder.takeOverRunId) {
    await deps.audit.appendAudit(schoolId, {
      actorId: holder.actorId,
      action: 'provisioning.lease.take-over',
      target: `run:${holder.takeOverRunId}`,
      outcome: lease.acquired ? 'succeeded' : 'denied',
      correlationId: holder.correlationId ?? holder.runId,
      details: { newRunId: holder.runId, ...(lease.acquired ? {} : { heldBy: lease.heldBy.runId }) },
    });
  }
  if (!lease.acquired) return { kind: 'busy', message: busyMessage(lease.heldBy, Boolean(holder.takeOverRunId)), heldBy: lease.heldBy };

  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  if (outer?.aborted) controller.abort(outer.reason);
  const heartbeat = startHeartbeat({
    ttlMs: leaseMs,
    renew: () => runs.renewLease(schoolId, holder.runId, deps.clock(), leaseMs),
    onLost: (reason) => controller.abort(new LeaseLostError(`The provisioning run stopped: ${reason}.`)),
  });
  try {
    return { kind: 'done', value: await work(controller.signal) };
  } finally {
    heartbeat.stop();
    outer?.removeEventListener('abort', onOuterAbort);
    if (!heartbeat.lost) await runs.releaseLease(schoolId, holder.runId).catch(() => undefined);
  }
}

function busyMessage(heldBy: ProvisioningLeaseHolder, triedTakeOver: boolean): string {
  const since = new Date(heldBy.since).toLocaleString('en-GB', { timeZone: 'Europe/London', dateStyle: 'long', timeStyle: 'short' });
  if (triedTakeOver) return `The lease is not held by the run you named: run ${heldBy.runId} holds it (since ${since}). Check that run, then name it to take over.`;
  return (
    `Another provisioning run (${heldBy.runId}) has been running since ${since}. Wait for it to finish, then apply again: it will only do what is left. ` +
    `If that run's process has died, its lease frees itself within a minute; to take over at once, apply again naming run ${heldBy.runId}.`
  );
}

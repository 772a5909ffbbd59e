import type { GraphGateway } from '../graph/graph-gateway';
import type { AupAccessHold } from '../records/aup-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import { fitsYearGroup, renewalYear } from '../school/aup-documents';
import { hasAnyRole, type Principal } from '../school/roles';
import { pupilYearGroupLookup, type AupAcknowledgementListener, type AupDependencies } from './acknowledge-aup';

/**
 * The optional AUP access gate (AUP_ACCESS_GATE). Pupils' AUPs are signed by a parent with the child, and
 * access is allowed only once the agreement is back. When the gate is on and Graph is live, an admin can
 * keep the accounts of active register pupils without a current pupil AUP disabled; each is enabled again
 * as soon as their AUP is recorded (Teams card or paper). With the gate off, it touches nobody.
 */
export interface AupAccessGateDependencies extends AupDependencies {
  accessGateOn: boolean;
  register: Pick<PupilRegisterStore, 'listPupils' | 'getPupil'>;
  /** Undefined in plan mode (no tenant): nothing can be held. */
  graph?: Pick<GraphGateway, 'setAccountEnabled' | 'getUsersByUserPrincipalName'>;
}

/** Only the IT admin changes whether accounts are enabled. */
export function canRunAccessGate(principal: Principal): boolean {
  return hasAnyRole(principal, 'admin');
}

export interface AupGateCounts {
  /** Active register pupils with an account. */
  activePupils: number;
  /** Of those, how many have no acknowledgement of a current pupil AUP. */
  withoutAup: number;
  /** Accounts the gate keeps disabled now. */
  held: number;
  /** Held pupils whose AUP has arrived but whose account could not be enabled yet (retried hourly). */
  releasePending: number;
}

export type AupGateStatusOutcome =
  | { kind: 'forbidden' }
  | ({ kind: 'status'; gateOn: boolean; live: boolean; documentIds: string[] } & AupGateCounts);

export type HoldPupilsOutcome =
  | { kind: 'forbidden' }
  | { kind: 'gate-off' }
  | { kind: 'plan-mode' }
  | { kind: 'no-pupil-document' }
  | {
      kind: 'held';
      activePupils: number;
      withAup: number;
      /** Accounts disabled by this run. */
      newlyHeld: number;
      /** Already held by an earlier run: nothing sent to Graph. */
      alreadyHeld: number;
      /** Accounts someone else had already disabled: left alone, so the gate never enables them. */
      alreadyDisabled: number;
      /** Graph refused or could not be asked; a later hold tries again. */
      failed: number;
      /** Their AUP arrived while this run was holding them, so they were enabled again at once. */
      releasedAtOnce: number;
    };

/** Ids of everyone who acknowledged the current version of any pupil document. */
async function pupilAupCoverage(deps: AupDependencies): Promise<{ documentIds: string[]; covered: Set<string> }> {
  const documents = (await deps.documents.listAupDocuments()).filter((d) => d.audience.includes('pupil'));
  const covered = new Set<string>();
  // Only the pupil document for the pupil's year group (KS1 or KS2) releases them.
  const yearGroupOf = await pupilYearGroupLookup(deps);
  for (const document of documents) {
    for (const ack of await deps.store.listAcknowledgements(deps.schoolId, document.id, document.version, renewalYear(document, deps.clock()))) {
      if (fitsYearGroup(document, yearGroupOf(ack.personId))) covered.add(ack.personId);
    }
  }
  return { documentIds: documents.map((d) => d.id), covered };
}

function activeWithAccount(pupils: readonly PupilRecord[]): (PupilRecord & { userId: string })[] {
  return pupils.filter((p): p is PupilRecord & { userId: string } => p.status === 'active' && typeof p.userId === 'string' && p.userId !== '');
}

/** `/aup gate`: where the gate stands, in counts (admin only). */
export async function getAupGateStatus(deps: AupAccessGateDependencies, principal: Principal, correlationId = 'aup-gate'): Promise<AupGateStatusOutcome> {
  const allowed = canRunAccessGate(principal);
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'aup.gate.read', target: 'aup-gate', outcome: allowed ? 'succeeded' : 'denied', correlationId });
  if (!allowed) return { kind: 'forbidden' };
  const { documentIds, covered } = await pupilAupCoverage(deps);
  const pupils = activeWithAccount(await deps.register.listPupils(deps.schoolId));
  const holds = await deps.store.listAccessHolds(deps.schoolId);
  return {
    kind: 'status',
    gateOn: deps.accessGateOn,
    live: deps.graph !== undefined,
    documentIds,
    activePupils: pupils.length,
    withoutAup: pupils.filter((p) => !covered.has(p.userId)).length,
    held: holds.filter((h) => h.state === 'held').length,
    releasePending: holds.filter((h) => h.state === 'held' && covered.has(h.userId)).length,
  };
}

/**
 * `holdPupilsWithoutAup`: disables the accounts of active register pupils with no current pupil AUP and
 * records a hold for each. Idempotent: a pupil already held is skipped without calling Graph. An account
 * that is already disabled (a leaver step, an admin's own decision) is left alone and not held, so the
 * gate never enables an account it did not disable.
 */
export async function holdPupilsWithoutAup(deps: AupAccessGateDependencies, principal: Principal, correlationId = 'aup-gate-hold'): Promise<HoldPupilsOutcome> {
  const audit = (outcome: 'succeeded' | 'denied', details?: Record<string, string | number | boolean>) =>
    deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'aup.gate.hold', target: 'aup-gate', outcome, correlationId, ...(details ? { details } : {}) });
  if (!canRunAccessGate(principal)) {
    await audit('denied');
    return { kind: 'forbidden' };
  }
  if (!deps.accessGateOn) {
    await audit('denied', { reason: 'gate-off' });
    return { kind: 'gate-off' };
  }
  const graph = deps.graph;
  if (!graph) {
    await audit('denied', { reason: 'plan-mode' });
    return { kind: 'plan-mode' };
  }
  const { documentIds, covered } = await pupilAupCoverage(deps);
  // Without a pupil AUP document nobody could ever be released: refuse rather than disable everyone.
  if (documentIds.length === 0) {
    await audit('denied', { reason: 'no-pupil-document' });
    return { kind: 'no-pupil-document' };
  }
  const pupils = activeWithAccount(await deps.register.listPupils(deps.schoolId));
  const holds = new Map((await deps.store.listAccessHolds(deps.schoolId)).map((h) => [h.userId, h]));
  const owing = pupils.filter((p) => !covered.has(p.userId));
  const alreadyHeld = owing.filter((p) => holds.get(p.userId)?.state === 'held');
  const toCheck = owing.filter((p) => holds.get(p.userId)?.state !== 'held');

  let alreadyDisabled = 0;
  let failed = 0;
  const toDisable: (PupilRecord & { userId: string })[] = [];
  if (toCheck.length > 0) {
    const found = await graph.getUsersByUserPrincipalName(toCheck.map((p) => p.userPrincipalName));
    toCheck.forEach((pupil, i) => {
      const result = found[i];
      if (!result?.ok || !result.value || result.value.id !== pupil.userId) failed++;
      // A 'disabling' row means this gate asked before and did not hear back: the account may be disabled by us.
      else if (result.value.accountEnabled === false && holds.get(pupil.userId)?.state !== 'disabling') alreadyDisabled++;
      else toDisable.push(pupil);
    });
  }

  const now = deps.clock().toISOString();
  const newlyHeld: string[] = [];
  if (toDisable.length > 0) {
    // The hold is written before Graph is asked, so an account is never disabled without a record to enable it again.
    for (const pupil of toDisable) {
      await deps.store.saveAccessHold(deps.schoolId, { userId: pupil.userId, externalId: pupil.externalId, state: 'disabling', heldAt: now, heldBy: principal.aadObjectId, releaseAttempts: 0 });
    }
    const results = await graph.setAccountEnabled(toDisable.map((p) => ({ userId: p.userId, accountEnabled: false })));
    for (const [i, pupil] of toDisable.entries()) {
      const ok = results[i]?.ok === true;
      if (ok) {
        await deps.store.saveAccessHold(deps.schoolId, { userId: pupil.userId, externalId: pupil.externalId, state: 'held', heldAt: now, heldBy: principal.aadObjectId, releaseAttempts: 0 });
        newlyHeld.push(pupil.userId);
      } else failed++;
      await deps.audit.appendAudit(deps.schoolId, {
        actorId: principal.aadObjectId,
        action: 'aup.gate.disable',
        target: `user:${pupil.userId}`,
        outcome: ok ? 'succeeded' : 'failed',
        correlationId,
      });
    }
  }

  // An AUP recorded while this run was holding found no hold to clear: release those pupils now.
  const { covered: coveredNow } = await pupilAupCoverage(deps);
  const lateArrivals = newlyHeld.filter((id) => coveredNow.has(id));
  const releasedAtOnce = lateArrivals.length > 0 ? (await releaseHeldPupils(deps, lateArrivals, correlationId, principal.aadObjectId)).released : 0;

  const outcome: HoldPupilsOutcome = {
    kind: 'held',
    activePupils: pupils.length,
    withAup: pupils.length - owing.length,
    newlyHeld: newlyHeld.length,
    alreadyHeld: alreadyHeld.length,
    alreadyDisabled,
    failed,
    releasedAtOnce,
  };
  const { kind: _kind, ...counts } = outcome;
  await audit('succeeded', counts);
  deps.logger.info('aup.gate.held', { ...counts, correlationId });
  return outcome;
}

/**
 * Enables the accounts the gate holds for these pupils and clears their holds. Pupils the gate does not
 * hold are ignored. A pupil who is no longer active on the register (a leaver) has the hold cleared but
 * the account left disabled. When Graph fails the hold is kept, with the attempt counted, for a retry.
 * Does nothing with the gate off.
 */
export async function releaseHeldPupils(
  deps: AupAccessGateDependencies,
  userIds: readonly string[],
  correlationId: string,
  actorId = 'aup-gate',
): Promise<{ released: number; cleared: number; failed: number }> {
  const result = { released: 0, cleared: 0, failed: 0 };
  if (!deps.accessGateOn || !deps.graph || userIds.length === 0) return result;
  const holds: AupAccessHold[] = [];
  for (const userId of new Set(userIds)) {
    const hold = await deps.store.getAccessHold(deps.schoolId, userId);
    if (hold) holds.push(hold);
  }
  if (holds.length === 0) return result;

  const toEnable: AupAccessHold[] = [];
  for (const hold of holds) {
    const pupil = await deps.register.getPupil(deps.schoolId, hold.externalId);
    if (pupil?.status === 'active' && pupil.userId === hold.userId) toEnable.push(hold);
    else {
      await deps.store.deleteAccessHold(deps.schoolId, hold.userId);
      await deps.audit.appendAudit(deps.schoolId, { actorId, action: 'aup.gate.clear', target: `user:${hold.userId}`, outcome: 'succeeded', correlationId, details: { reason: 'not-active' } });
      result.cleared++;
    }
  }
  if (toEnable.length === 0) return result;

  const enabled = await deps.graph.setAccountEnabled(toEnable.map((h) => ({ userId: h.userId, accountEnabled: true })));
  for (const [i, hold] of toEnable.entries()) {
    const outcome = enabled[i];
    if (outcome?.ok === true) {
      await deps.store.deleteAccessHold(deps.schoolId, hold.userId);
      result.released++;
    } else {
      await deps.store.saveAccessHold(deps.schoolId, { ...hold, releaseAttempts: hold.releaseAttempts + 1 });
      result.failed++;
    }
    await deps.audit.appendAudit(deps.schoolId, {
      actorId,
      action: 'aup.gate.enable',
      target: `user:${hold.userId}`,
      outcome: outcome?.ok === true ? 'succeeded' : 'failed',
      correlationId,
      ...(outcome && !outcome.ok ? { details: { status: outcome.error.status, code: outcome.error.code } } : {}),
    });
  }
  if (result.failed > 0) deps.logger.warn('aup.gate.release.failed', { ...result, correlationId });
  return result;
}

/**
 * The retry, run by the hourly AUP job: enables every held pupil whose current pupil AUP is on record
 * (a release whose Graph call failed, or an AUP that arrived while a hold was running).
 */
export async function retryAupReleases(deps: AupAccessGateDependencies): Promise<{ released: number; cleared: number; failed: number }> {
  if (!deps.accessGateOn || !deps.graph) return { released: 0, cleared: 0, failed: 0 };
  const holds = await deps.store.listAccessHolds(deps.schoolId);
  if (holds.length === 0) return { released: 0, cleared: 0, failed: 0 };
  const { covered } = await pupilAupCoverage(deps);
  return releaseHeldPupils(deps, holds.filter((h) => covered.has(h.userId)).map((h) => h.userId), `aup-gate-retry-${deps.clock().toISOString()}`);
}

/** The listener acknowledge-aup.ts calls when pupil AUPs are recorded. */
export function accessGateListener(deps: () => AupAccessGateDependencies): AupAcknowledgementListener {
  return {
    async pupilAupRecorded(personIds, correlationId) {
      const gate = deps();
      // Only a current pupil AUP releases: acknowledgeAup and the paper import record current versions only.
      await releaseHeldPupils(gate, personIds, correlationId);
    },
  };
}

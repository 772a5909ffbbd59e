import { randomUUID } from 'node:crypto';
import { GraphConnectionError, GraphCredentialError, GraphServiceError } from '../graph/graph-errors';
import { StorageUnavailableError } from '../records/tables';
import {
  addToGroups,
  assignLicences,
  assignTeamsPolicies,
  AuditQueue,
  createAccounts,
  createMissingGroups,
  finishRegister,
  recordIntentToCreate,
  RegisterWriter,
  setNewPasswords,
  updateAccountDetails,
  type RunContext,
} from './provisioning-apply';
import { preparePlan } from './provisioning-plan';
import { countActions, resultRows, summarise, toPlan } from './provisioning-rows';
import { issueSlips } from './provisioning-slips';
import { ProvisioningModeError, type ApplyProvisioningRequest, type ProvisioningDependencies, type ProvisioningResult } from './provisioning-types';

/**
 * Provisions the roll: checks everything first and stops before any change if the licence or a Teams policy
 * is missing; then creates groups, accounts, licences, memberships and policies, recording each pupil's
 * progress in the register after every step so that a run stopped part-way is finished by the next one.
 * New passwords exist only in memory until `deliverSlips` prints them.
 */
export async function applyProvisioning(deps: ProvisioningDependencies, request: ApplyProvisioningRequest): Promise<ProvisioningResult> {
  const gateway = deps.gateway;
  if (!gateway) throw new ProvisioningModeError('Provisioning needs a tenant: GRAPH_MODE=plan changes nothing. Set GRAPH_MODE=live and the Graph sign-in settings to apply.');
  const runId = (deps.newRunId ?? randomUUID)();
  const startedAt = deps.clock().toISOString();
  const audit = new AuditQueue(deps, runId);
  const previousRun = (await deps.runs?.listRuns(deps.schoolId, { kind: 'apply', limit: 1 }))?.[0];
  const resumedRunId = previousRun?.status === 'running' || previousRun?.status === 'interrupted' ? previousRun.runId : undefined;

  const prepared = await preparePlan(deps, request);
  if (prepared.blockers.length > 0) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: deps.actorId, action: 'provisioning.apply', target: `run:${runId}`, outcome: 'failed', correlationId: runId, details: { blocked: true, blockers: prepared.blockers.length } });
    deps.logger.warn('provisioning.blocked', { runId, blockers: prepared.blockers.length });
    return { ...toPlan(prepared), runId, blocked: true, slipsIssued: 0 };
  }

  const run = { runId, kind: 'apply' as const, actorId: deps.actorId, startedAt };
  await deps.runs?.saveRun(deps.schoolId, { ...run, status: 'running', counts: countActions(toPlan(prepared).rows) });
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: deps.actorId,
    action: 'provisioning.apply',
    target: `run:${runId}`,
    outcome: 'attempted',
    correlationId: runId,
    details: { ...countActions(toPlan(prepared).rows), ...(resumedRunId ? { resumes: resumedRunId } : {}) },
  });
  deps.logger.info('provisioning.started', { runId, pupils: prepared.works.length, resumes: resumedRunId });

  const ctx: RunContext = { deps, gateway, prepared, runId, audit, writer: new RegisterWriter(deps), request, now: startedAt, slipsIssued: 0 };
  let interrupted: string | undefined;
  try {
    await createMissingGroups(ctx);
    await recordIntentToCreate(ctx);
    await createAccounts(ctx);
    await setNewPasswords(ctx);
    await updateAccountDetails(ctx);
    await assignLicences(ctx);
    await addToGroups(ctx);
    await assignTeamsPolicies(ctx);
    await finishRegister(ctx);
    await issueSlips(ctx);
  } catch (error) {
    interrupted = describeInterruption(error);
    deps.logger.error('provisioning.interrupted', { runId, error: errorName(error), code: error instanceof GraphServiceError ? error.code : undefined });
    // Slips for accounts already given a password, so those pupils need no second new password.
    await issueSlips(ctx).catch(() => undefined);
    await ctx.writer.flush().catch(() => undefined);
    await audit.flush().catch(() => undefined);
    await deps.runs?.saveRun(deps.schoolId, { ...run, status: 'interrupted', finishedAt: deps.clock().toISOString(), counts: countActions(resultRows(prepared)), interruption: errorName(error) }).catch(() => undefined);
    if (!isExpectedInterruption(error)) throw error;
    for (const work of prepared.works) if (!work.failure && !work.finished && work.action !== 'unchanged') work.failure = `The run stopped before this pupil was finished (${interrupted}). Run apply again to finish.`;
  }

  if (!interrupted) {
    await audit.flush();
    const counts = countActions(resultRows(prepared));
    await deps.runs?.saveRun(deps.schoolId, { ...run, status: 'completed', finishedAt: deps.clock().toISOString(), counts });
    await deps.audit.appendAudit(deps.schoolId, { actorId: deps.actorId, action: 'provisioning.apply', target: `run:${runId}`, outcome: counts.failed ? 'failed' : 'succeeded', correlationId: runId, details: counts });
  }
  request.onProgress?.({ phase: 'done', label: 'Done', pupils: prepared.works.length });
  deps.logger.info('provisioning.finished', { runId, interrupted: interrupted !== undefined, slips: ctx.slipsIssued });
  return {
    rows: resultRows(prepared),
    summary: summarise(prepared, resultRows(prepared)),
    blockers: [],
    runId,
    blocked: false,
    ...(interrupted ? { interrupted } : {}),
    ...(resumedRunId ? { resumedRunId } : {}),
    slipsIssued: ctx.slipsIssued,
  };
}

function errorName(error: unknown): string {
  if (error instanceof GraphServiceError) return `GraphServiceError:${error.code}`;
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name ? name : 'UnknownError';
}

/** AbortSignal's reason is a DOMException, which is not always `instanceof Error` (other realms, jest). */
function isAbort(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'AbortError';
}

function isExpectedInterruption(error: unknown): boolean {
  return (
    error instanceof GraphConnectionError ||
    error instanceof GraphCredentialError ||
    error instanceof StorageUnavailableError ||
    error instanceof GraphServiceError ||
    isAbort(error)
  );
}

/** A sentence for the admin; error messages may carry usernames, so only the kind of failure is named. */
function describeInterruption(error: unknown): string {
  if (isAbort(error)) return 'the run was stopped';
  if (error instanceof GraphConnectionError) return 'Microsoft Graph could not be reached';
  if (error instanceof GraphCredentialError) return 'signing in to Microsoft Graph failed';
  if (error instanceof StorageUnavailableError) return 'Azure Tables could not be reached';
  if (error instanceof GraphServiceError) return `Microsoft Graph refused a request (${error.status} ${error.code})`;
  return 'an unexpected error stopped the run';
}

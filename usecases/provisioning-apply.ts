import { GraphServiceError } from '../graph/graph-errors';
import type { GraphGroup, GraphResult, GraphUser, LicenceSku, UserChanges } from '../graph/graph-types';
import type { AuditEntry } from '../records/audit-store';
import type { PupilRecord, RegisterGroup } from '../records/pupil-register-store';
import { generatePupilPassword } from '../school/pupil-passwords';
import { displayNameOf, sameNames } from './provisioning-plan';
import { describeGraphError } from './provisioning-rows';
import type { ApplyProvisioningRequest, Preflight, Prepared, ProvisioningDependencies, ProvisioningGateway, ProvisioningPhase, PupilWork } from './provisioning-types';

/**
 * Audit transactions in flight at once. Each holds up to 100 entries, as entities and as the multipart body the
 * Tables client builds, until Azure Tables answers; 4 keeps the writes ahead of the Graph steps (which send 4
 * batches at a time) without a large run holding 1,600 entries' worth of request bodies at once.
 */
const AUDIT_CONCURRENCY = 4;
/** Entries per `appendAudits` call; the store writes 100 per transaction. */
const AUDIT_BATCH_SIZE = 100;

/** One apply run as it goes through the stages. */
export interface RunContext {
  deps: ProvisioningDependencies;
  writer: RegisterWriter;
  gateway: ProvisioningGateway;
  prepared: Prepared;
  runId: string;
  audit: AuditQueue;
  request: ApplyProvisioningRequest;
  now: string;
  slipsIssued: number;
}

export async function createMissingGroups(ctx: RunContext): Promise<void> {
  const { preflight } = ctx.prepared;
  await checkpoint(ctx, 'groups', 'Creating missing security groups', preflight.groupsToCreate.length);
  if (preflight.groupsToCreate.length === 0) return;
  const names = [...preflight.groupsToCreate];
  const settings = ctx.deps.settings;
  const results = await ctx.gateway.createSecurityGroups(
    names.map((name) => ({
      displayName: name,
      description: name === settings.allPupilsGroup ? 'Every pupil; managed by E-Safety for Teams.' : 'Pupils of one cohort (year of entry to Reception); managed by E-Safety for Teams.',
    })),
  );
  names.forEach((name, i) => {
    const result = results[i] as GraphResult<GraphGroup>;
    if (result.ok) {
      preflight.groups.set(name, result.value);
      preflight.groupsToCreate = preflight.groupsToCreate.filter((n) => n !== name);
      ctx.audit.add({ action: 'group.create', target: `group:${result.value.id}`, outcome: 'succeeded', details: { purpose: name === settings.allPupilsGroup ? 'all-pupils' : 'cohort' } });
    } else {
      ctx.audit.add({ action: 'group.create', target: 'group:', outcome: 'failed', details: { purpose: name === settings.allPupilsGroup ? 'all-pupils' : 'cohort', ...errorDetails(result.error) } });
      for (const work of ctx.prepared.works) {
        if (work.needs.groups && ctx.prepared.desired.groupNames(work.record.cohort).includes(name)) work.groupFailure ??= `Could not create the security group "${name}": ${describeGraphError(result.error)}`;
      }
    }
  });
}

/** Written before any account exists, so a run killed during creation leaves a row that says "this one is ours". */
export async function recordIntentToCreate(ctx: RunContext): Promise<void> {
  const creating = pending(ctx, (w) => w.needs.account);
  await checkpoint(ctx, 'write-ahead', 'Recording new pupils in the register', creating.length);
  for (const work of creating) {
    work.record.status = 'pending';
    work.record.lastRunId = ctx.runId;
    work.record.updatedAt = ctx.now;
    work.dirty = true;
  }
  // Awaited: no account may be created before its row says it is ours.
  saveDirty(ctx, creating);
  await ctx.writer.flush();
}

export async function createAccounts(ctx: RunContext): Promise<void> {
  const creating = pending(ctx, (w) => w.needs.account);
  await checkpoint(ctx, 'accounts', 'Creating accounts', creating.length);
  if (creating.length === 0) return;
  const generate = ctx.deps.generatePassword ?? (() => generatePupilPassword());
  const passwords = creating.map(() => generate());
  const results = await ctx.gateway.createUsers(
    creating.map((work, i) => ({
      userPrincipalName: work.record.userPrincipalName,
      displayName: displayNameOf(work.pupil),
      givenName: work.pupil.forename,
      surname: work.pupil.surname,
      employeeId: work.pupil.externalId,
      password: passwords[i] as string,
      forceChangePasswordNextSignIn: ctx.deps.settings.forcePasswordChange,
      usageLocation: 'GB',
    })),
  );
  creating.forEach((work, i) => {
    const result = results[i] as GraphResult<{ user: GraphUser; alreadyExisted: boolean }>;
    if (!result.ok) return fail(ctx, work, 'pupil.create', 'create the account', result.error);
    work.record.userId = result.value.user.id;
    work.record.accountOrigin = 'created';
    touch(ctx, work);
    // An account that already existed (a lost response, a resumed run) did not take this password.
    if (result.value.alreadyExisted) work.needs.password = true;
    else work.password = passwords[i];
    ctx.audit.add({ action: 'pupil.create', target: pupilTarget(work), outcome: 'succeeded', details: { userId: result.value.user.id, cohort: work.record.cohort, alreadyExisted: result.value.alreadyExisted } });
  });
  saveDirty(ctx, creating);
}

export async function setNewPasswords(ctx: RunContext): Promise<void> {
  const resetting = pending(ctx, (w) => w.needs.password && !w.password && Boolean(w.record.userId));
  await checkpoint(ctx, 'passwords', 'Setting new passwords', resetting.length);
  if (resetting.length === 0) return;
  const generate = ctx.deps.generatePassword ?? (() => generatePupilPassword());
  const passwords = resetting.map(() => generate());
  const results = await ctx.gateway.resetPasswords(
    resetting.map((work, i) => ({ userId: work.record.userId as string, password: passwords[i] as string, forceChangePasswordNextSignIn: ctx.deps.settings.forcePasswordChange })),
  );
  resetting.forEach((work, i) => {
    const result = results[i] as GraphResult<void>;
    if (!result.ok) return fail(ctx, work, 'pupil.password-reset', 'set a new password', result.error);
    work.password = passwords[i];
    work.record.credentialsIssuedAt = undefined;
    touch(ctx, work);
    ctx.audit.add({ action: 'pupil.password-reset', target: pupilTarget(work), outcome: 'succeeded', details: { userId: work.record.userId as string, reason: 'slip-not-issued' } });
  });
}

export async function updateAccountDetails(ctx: RunContext): Promise<void> {
  const updating = pending(ctx, (w) => (w.needs.details !== undefined || w.needs.enable) && Boolean(w.record.userId));
  await checkpoint(ctx, 'details', 'Updating names and re-enabling returning pupils', updating.length);
  const changing = updating.filter((w) => w.needs.details);
  if (changing.length > 0) {
    const results = await ctx.gateway.updateUsers(changing.map((w) => ({ userId: w.record.userId as string, changes: w.needs.details as UserChanges })));
    changing.forEach((work, i) => {
      const result = results[i] as GraphResult<void>;
      if (!result.ok) return fail(ctx, work, 'pupil.update', 'update the account', result.error);
      touch(ctx, work);
      ctx.audit.add({ action: 'pupil.update', target: pupilTarget(work), outcome: 'succeeded', details: { userId: work.record.userId as string, fields: Object.keys(work.needs.details ?? {}).sort().join(',') } });
    });
  }
  const enabling = updating.filter((w) => w.needs.enable && !w.failure);
  if (enabling.length > 0) {
    const results = await ctx.gateway.setAccountEnabled(enabling.map((w) => ({ userId: w.record.userId as string, accountEnabled: true })));
    enabling.forEach((work, i) => {
      const result = results[i] as GraphResult<void>;
      if (!result.ok) return fail(ctx, work, 'pupil.enable', 'enable the account', result.error);
      delete work.record.disabledAt;
      delete work.record.leaverReason;
      touch(ctx, work);
      ctx.audit.add({ action: 'pupil.enable', target: pupilTarget(work), outcome: 'succeeded', details: { userId: work.record.userId as string } });
    });
  }
  saveDirty(ctx, updating);
}

export async function assignLicences(ctx: RunContext): Promise<void> {
  const licensing = pending(ctx, (w) => w.needs.licence && Boolean(w.record.userId));
  await checkpoint(ctx, 'licences', 'Assigning licences (email off)', licensing.length);
  if (licensing.length === 0) return;
  const sku = ctx.prepared.preflight.sku as LicenceSku;
  const results = await ctx.gateway.assignLicences(
    licensing.map((work) => ({
      userId: work.record.userId as string,
      skuId: sku.skuId,
      disabledPlanIds: sku.disabledPlanIds,
      ...(work.record.licenceSkuId && work.record.licenceSkuId !== sku.skuId ? { removeSkuIds: [work.record.licenceSkuId] } : {}),
    })),
  );
  licensing.forEach((work, i) => {
    const result = results[i] as GraphResult<void>;
    if (!result.ok) return fail(ctx, work, 'pupil.licence', 'assign the licence', result.error);
    work.record.licence = ctx.prepared.desired.licence;
    work.record.licenceSkuId = sku.skuId;
    touch(ctx, work);
    ctx.audit.add({ action: 'pupil.licence', target: pupilTarget(work), outcome: 'succeeded', details: { userId: work.record.userId as string, skuId: sku.skuId, disabledPlans: sku.disabledPlanIds.length } });
  });
  saveDirty(ctx, licensing);
}

export async function addToGroups(ctx: RunContext): Promise<void> {
  const grouping = pending(ctx, (w) => w.needs.groups && Boolean(w.record.userId));
  await checkpoint(ctx, 'memberships', 'Adding pupils to their groups', grouping.length);
  const ready: { work: PupilWork; target: RegisterGroup[]; adds: number[]; removes: number[] }[] = [];
  const adds: { groupId: string; memberId: string }[] = [];
  const removes: { groupId: string; memberId: string }[] = [];
  for (const work of grouping) {
    if (work.groupFailure) {
      work.failure = work.groupFailure;
      continue;
    }
    const target = ctx.prepared.desired.groupNames(work.record.cohort).map((name) => ctx.prepared.preflight.groups.get(name)).filter((g): g is GraphGroup => g !== undefined).map((g) => ({ id: g.id, name: g.displayName }));
    const memberId = work.record.userId as string;
    const entry = { work, target, adds: [] as number[], removes: [] as number[] };
    for (const group of target) if (!work.record.groups.some((g) => g.id === group.id)) entry.adds.push(adds.push({ groupId: group.id, memberId }) - 1);
    for (const group of work.record.groups) if (!target.some((g) => g.id === group.id)) entry.removes.push(removes.push({ groupId: group.id, memberId }) - 1);
    ready.push(entry);
  }
  if (ready.length === 0) return;
  const added = adds.length > 0 ? await ctx.gateway.addGroupMembers(adds) : [];
  const removed = removes.length > 0 ? await ctx.gateway.removeGroupMembers(removes) : [];
  for (const { work, target, adds: addIndexes, removes: removeIndexes } of ready) {
    const failure = [...addIndexes.map((i) => added[i]), ...removeIndexes.map((i) => removed[i])].find((r) => r && !r.ok) as { ok: false; error: GraphServiceError } | undefined;
    if (failure) {
      fail(ctx, work, 'pupil.groups', 'change the group memberships', failure.error);
      continue;
    }
    work.record.groups = target;
    touch(ctx, work);
    ctx.audit.add({ action: 'pupil.groups', target: pupilTarget(work), outcome: 'succeeded', details: { userId: work.record.userId as string, groups: target.map((g) => g.id).join(','), removed: removeIndexes.length } });
  }
  saveDirty(ctx, grouping);
}

export async function assignTeamsPolicies(ctx: RunContext): Promise<void> {
  const assigning = pending(ctx, (w) => w.needs.policies && Boolean(w.record.userId));
  await checkpoint(ctx, 'policies', 'Assigning the pupil Teams policies', assigning.length);
  if (assigning.length === 0) return;
  const { messagingPolicyId, meetingPolicyId } = ctx.prepared.preflight as Required<Pick<Preflight, 'messagingPolicyId' | 'meetingPolicyId'>>;
  const results = await ctx.gateway.assignTeamsPolicies(
    assigning.flatMap((work) => [
      { userId: work.record.userId as string, policyType: 'TeamsMessagingPolicy' as const, policyId: messagingPolicyId },
      { userId: work.record.userId as string, policyType: 'TeamsMeetingPolicy' as const, policyId: meetingPolicyId },
    ]),
  );
  assigning.forEach((work, i) => {
    const failure = [results[2 * i], results[2 * i + 1]].find((r) => r && !r.ok) as { ok: false; error: GraphServiceError } | undefined;
    if (failure) return fail(ctx, work, 'pupil.policies', 'assign the Teams policies', failure.error);
    work.record.policies = ctx.prepared.desired.policies;
    touch(ctx, work);
    ctx.audit.add({ action: 'pupil.policies', target: pupilTarget(work), outcome: 'succeeded', details: { userId: work.record.userId as string, messagingPolicyId, meetingPolicyId } });
  });
  saveDirty(ctx, assigning);
}

/** Marks finished pupils active and saves register-only changes (class, year group). */
export async function finishRegister(ctx: RunContext): Promise<void> {
  const works = ctx.prepared.works.filter((w) => !w.failure);
  await checkpoint(ctx, 'finish', 'Updating the register', works.length);
  const { desired } = ctx.prepared;
  for (const work of works) {
    const record = work.record;
    const complete = Boolean(record.userId) && record.licence === desired.licence && record.policies === desired.policies && sameNames(record.groups.map((g) => g.name), desired.groupNames(record.cohort));
    if (!complete) continue;
    work.finished = true;
    if (record.status !== 'active') {
      record.status = 'active';
      record.activeSince ??= ctx.now;
      touch(ctx, work);
    }
    if (work.dirty) touch(ctx, work);
  }
  saveDirty(ctx, ctx.prepared.works);
  await ctx.writer.flush();
}


// ---------------------------------------------------------------- helpers

/** A pupil the run still works on: not failed, and matching `predicate`. */
export function pending(ctx: RunContext, predicate: (work: PupilWork) => boolean): PupilWork[] {
  return ctx.prepared.works.filter((w) => !w.failure && predicate(w));
}

export async function checkpoint(ctx: RunContext, phase: ProvisioningPhase, label: string, pupils: number, abortable = true): Promise<void> {
  if (abortable) ctx.request.signal?.throwIfAborted();
  ctx.request.onProgress?.({ phase, label, pupils });
  if (pupils > 0) ctx.deps.logger.info('provisioning.phase', { runId: ctx.runId, phase, pupils });
}

export function touch(ctx: RunContext, work: PupilWork): void {
  work.record.updatedAt = ctx.deps.clock().toISOString();
  work.record.lastRunId = ctx.runId;
  work.dirty = true;
}

/** Queues the changed rows for the register; the writes overlap the next Graph step. */
export function saveDirty(ctx: RunContext, works: readonly PupilWork[]): void {
  const dirty = works.filter((w) => w.dirty);
  if (dirty.length === 0) return;
  ctx.writer.save(dirty.map((w) => w.record));
  for (const work of dirty) work.dirty = false;
}

function fail(ctx: RunContext, work: PupilWork, action: string, what: string, error: GraphServiceError): void {
  work.failure = `Microsoft Graph would not ${what}: ${describeGraphError(error)}`;
  ctx.audit.add({ action, target: pupilTarget(work), outcome: 'failed', details: { ...(work.record.userId ? { userId: work.record.userId } : {}), ...errorDetails(error) } });
  ctx.deps.logger.warn('provisioning.pupil-failed', { runId: ctx.runId, row: work.pupil.row, externalId: work.pupil.externalId, step: action, status: error.status, code: error.code, requestId: error.requestId });
}

function pupilTarget(work: PupilWork): string {
  return `pupil:${work.pupil.externalId}`;
}

function errorDetails(error: GraphServiceError): Record<string, string | number> {
  return { status: error.status, code: error.code, ...(error.requestId ? { requestId: error.requestId } : {}) };
}


/**
 * Register writes in the background, overlapping the next Graph step. One save runs at a time; rows queued
 * meanwhile are merged (the latest copy of each row wins) and written by the next save, so an older state
 * never lands after a newer one and a slow store costs fewer writes. Rows are copied when queued, so later
 * steps cannot change what a save writes. A run killed before a save lands loses only that step's progress,
 * which the next run repeats: every step is idempotent.
 */
export class RegisterWriter {
  private queued = new Map<string, PupilRecord>();
  private running: Promise<void> | undefined;
  private firstError: unknown;

  constructor(private readonly deps: Pick<ProvisioningDependencies, 'register' | 'schoolId'>) {}

  save(records: readonly PupilRecord[]): void {
    for (const record of records) this.queued.set(record.externalId, structuredClone(record));
    this.running ??= this.drain();
  }

  /** Waits until every queued row is written; rethrows the first failure. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.firstError !== undefined) throw this.firstError;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.size > 0 && this.firstError === undefined) {
        const rows = [...this.queued.values()];
        this.queued = new Map();
        await this.deps.register.savePupils(this.deps.schoolId, rows).catch((error: unknown) => {
          this.firstError = error;
        });
      }
    } finally {
      this.running = undefined;
    }
  }
}

/**
 * Audit entries written in the background while the run goes on (a few writes in parallel, each taking
 * whatever is queued, up to 100 entries, as one `appendAudits`), so 4,000 entries cost tens of storage round
 * trips rather than 4,000. Writes start in order, so entries keep the order they were added in.
 * `flush` waits for all and rethrows the first failure.
 */
export class AuditQueue {
  private readonly waiting: AuditEntry[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private firstError: unknown;
  private pumpScheduled = false;

  constructor(
    private readonly deps: Pick<ProvisioningDependencies, 'audit' | 'schoolId' | 'actorId'>,
    private readonly runId: string,
  ) {}

  add(entry: Omit<AuditEntry, 'actorId' | 'correlationId'>): void {
    this.waiting.push({ ...entry, actorId: this.deps.actorId, correlationId: this.runId });
    // Pump once the current burst of adds is done (a whole step's entries are added in one go), so they batch.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  async flush(): Promise<void> {
    while (this.inFlight.size > 0 || this.waiting.length > 0) {
      this.pump();
      await Promise.race(this.inFlight);
    }
    if (this.firstError !== undefined) {
      const error = this.firstError;
      this.firstError = undefined;
      throw error;
    }
  }

  private pump(): void {
    while (this.inFlight.size < AUDIT_CONCURRENCY && this.waiting.length > 0) {
      const entries = this.waiting.splice(0, AUDIT_BATCH_SIZE);
      const write: Promise<void> = this.deps.audit
        .appendAudits(this.deps.schoolId, entries)
        .catch((error: unknown) => {
          this.firstError ??= error;
        })
        .finally(() => {
          this.inFlight.delete(write);
          this.pump();
        });
      this.inFlight.add(write);
    }
  }
}
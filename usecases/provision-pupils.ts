import { randomUUID } from 'node:crypto';
import type { Logger } from '../app/logger';
import { GraphConnectionError, GraphCredentialError, GraphServiceError, LicenceNotFoundError } from '../graph/graph-errors';
import type { GraphGateway } from '../graph/graph-gateway';
import type { GraphGroup, GraphResult, GraphUser, LicenceSku, UserChanges } from '../graph/graph-types';
import type { AuditEntry, AuditStore } from '../records/audit-store';
import type { ProvisioningRunStore } from '../records/provisioning-run-store';
import type { PupilRecord, PupilRegisterStore, RegisterGroup } from '../records/pupil-register-store';
import { StorageUnavailableError } from '../records/tables';
import { generatePupilPassword } from '../school/pupil-passwords';
import type { RollPupil, RollReadResult } from '../school/pupil-roll';
import { assignUsernames, proposeUsername, type PlannedUsername } from '../school/pupil-usernames';
import type { CredentialSlip } from './credential-slips';

/** The Graph operations provisioning uses; typed narrowly so tests can fake them in a few lines. */
export type ProvisioningGateway = Pick<
  GraphGateway,
  | 'findUsersByEmployeeId'
  | 'getUsersByUserPrincipalName'
  | 'createUsers'
  | 'updateUsers'
  | 'setAccountEnabled'
  | 'resetPasswords'
  | 'getLicenceSku'
  | 'assignLicences'
  | 'findSecurityGroups'
  | 'createSecurityGroups'
  | 'addGroupMembers'
  | 'removeGroupMembers'
  | 'getTeamsPolicyIds'
  | 'assignTeamsPolicies'
>;

export type PupilRegister = Pick<PupilRegisterStore, 'listPupils' | 'savePupils'>;

/** The school's provisioning rules, from `config.pupils` and `config.school.domain`. */
export interface PupilProvisioningSettings {
  domain: string;
  usernamePattern: string;
  skuPartNumber: string;
  disabledPlans: string[];
  allPupilsGroup: string;
  /** Contains `{cohort}`. */
  cohortGroupPattern: string;
  messagingPolicy: string;
  meetingPolicy: string;
  forcePasswordChange: boolean;
}

export interface ProvisioningDependencies {
  schoolId: string;
  register: PupilRegister;
  audit: Pick<AuditStore, 'appendAudit' | 'appendAudits'>;
  runs?: Pick<ProvisioningRunStore, 'saveRun' | 'listRuns'>;
  /** Absent when GRAPH_MODE=plan: the plan is then worked out from the register alone. */
  gateway?: ProvisioningGateway;
  settings: PupilProvisioningSettings;
  /** Who is running provisioning, for the audit log (an object id or `cli:…`). */
  actorId: string;
  clock: () => Date;
  logger: Logger;
  /** Defaults to the school's Animal+number rule with node:crypto. */
  generatePassword?: () => string;
  newRunId?: () => string;
}

export type ProvisioningAction = 'create' | 'update' | 'unchanged' | 'reject' | 'failed';

/** One line of a plan or a run: a roll row and what happens (or happened) to it. */
export interface ProvisioningRow {
  row: number;
  externalId: string;
  /** The pupil's username (userPrincipalName); empty when none could be given. */
  upn: string;
  action: ProvisioningAction;
  reason: string;
}

export interface ProvisioningSummary {
  rows: number;
  create: number;
  update: number;
  unchanged: number;
  reject: number;
  failed: number;
  /** SDS users.csv rows that are not pupils (staff, parents). */
  skipped: number;
  academicYearStart: number;
  /** False when there is no tenant (GRAPH_MODE=plan): usernames and accounts were checked against the register only. */
  tenantChecked: boolean;
  groupsToCreate: string[];
  /** Register pupils not on this roll: candidates for `leavers`. */
  notOnRoll: number;
}

export interface ProvisioningPlan {
  rows: ProvisioningRow[];
  summary: ProvisioningSummary;
  /** Why apply must not start; each says what to do. Apply changes nothing while there are any. */
  blockers: string[];
}

export interface ProvisioningRequest {
  roll: RollReadResult;
  /** The calendar year the academic year began (1 September). */
  academicYearStart: number;
  onProgress?: (progress: ProvisioningProgress) => void;
}

export type ProvisioningPhase =
  | 'register'
  | 'lookup'
  | 'usernames'
  | 'preflight'
  | 'groups'
  | 'write-ahead'
  | 'accounts'
  | 'passwords'
  | 'details'
  | 'licences'
  | 'memberships'
  | 'policies'
  | 'finish'
  | 'slips'
  | 'done';

export interface ProvisioningProgress {
  phase: ProvisioningPhase;
  /** A short sentence for a progress bar. */
  label: string;
  /** Pupils this phase works on. */
  pupils: number;
}

export interface ApplyProvisioningRequest extends ProvisioningRequest {
  /** Prints or saves the slips; they are marked as issued only once this resolves. */
  deliverSlips: (slips: CredentialSlip[]) => Promise<void>;
  /** Aborting stops the run at the next step; the register keeps each pupil's progress for the next run. */
  signal?: AbortSignal;
}

export interface ProvisioningResult extends ProvisioningPlan {
  runId: string;
  /** True when blockers stopped the run before any change. */
  blocked: boolean;
  /** Set when the run stopped part-way (aborted, Graph or storage unreachable); running apply again finishes it. */
  interrupted?: string;
  /** An earlier run that never finished, which this one completes. */
  resumedRunId?: string;
  slipsIssued: number;
}

/** apply was called without a tenant. */
export class ProvisioningModeError extends Error {
  override readonly name = 'ProvisioningModeError';
}

/** Entra's limit on employeeId: https://learn.microsoft.com/graph/api/resources/user */
const MAX_EMPLOYEE_ID_LENGTH = 16;
const AUDIT_CONCURRENCY = 16;
/** Entries per `appendAudits` call; the store writes 100 per transaction. */
const AUDIT_BATCH_SIZE = 100;
const USERNAME_CHECK_ROUNDS = 5;

/**
 * What `apply` would do for each roll row, changing nothing. With a tenant it also looks pupils up by
 * employeeId, checks new usernames are free and runs the pre-flight checks (licence, groups, Teams policies);
 * without one (GRAPH_MODE=plan) it works from the register alone.
 */
export async function planProvisioning(deps: ProvisioningDependencies, request: ProvisioningRequest): Promise<ProvisioningPlan> {
  const prepared = await preparePlan(deps, request);
  return toPlan(prepared);
}

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

// ---------------------------------------------------------------- planning

/** What the settings ask every pupil to have. */
interface DesiredState {
  licence: string;
  policies: string;
  groupNames: (cohort: string) => string[];
}

interface Needs {
  account: boolean;
  password: boolean;
  details: UserChanges | undefined;
  enable: boolean;
  licence: boolean;
  groups: boolean;
  policies: boolean;
}

/** One roll pupil on their way through a run. */
interface PupilWork {
  pupil: RollPupil;
  previous: PupilRecord | undefined;
  record: PupilRecord;
  action: 'create' | 'update' | 'unchanged';
  reasons: string[];
  needs: Needs;
  password?: string;
  failure?: string;
  /** A group this pupil needs could not be created. */
  groupFailure?: string;
  dirty: boolean;
  finished: boolean;
}

interface Preflight {
  sku?: LicenceSku;
  messagingPolicyId?: string;
  meetingPolicyId?: string;
  groups: Map<string, GraphGroup>;
  groupsToCreate: string[];
}

interface Prepared {
  works: PupilWork[];
  /** Rejected and failed rows that never became work. */
  others: ProvisioningRow[];
  blockers: string[];
  preflight: Preflight;
  desired: DesiredState;
  academicYearStart: number;
  tenantChecked: boolean;
  skipped: number;
  notOnRoll: number;
}

async function preparePlan(deps: ProvisioningDependencies, request: ProvisioningRequest): Promise<Prepared> {
  const { settings, gateway } = deps;
  const progress = (phase: ProvisioningPhase, label: string, pupils: number): void => request.onProgress?.({ phase, label, pupils });
  const now = deps.clock().toISOString();
  const desired = desiredState(settings);
  const others: ProvisioningRow[] = request.roll.rejected.map((r) => ({ row: r.row, externalId: r.externalId ?? '', upn: '', action: 'reject', reason: r.reason }));

  progress('register', 'Reading the pupil register', request.roll.pupils.length);
  const register = await deps.register.listPupils(deps.schoolId);
  const registerById = new Map(register.map((r) => [r.externalId, r]));
  let pupils = request.roll.pupils.filter((pupil) => {
    if (pupil.externalId.length <= MAX_EMPLOYEE_ID_LENGTH) return true;
    others.push(rejectRow(pupil, `Row ${pupil.row}: the id ${pupil.externalId} is longer than the ${MAX_EMPLOYEE_ID_LENGTH} characters Entra allows in employeeId; use the UPN or admission number instead.`));
    return false;
  });

  progress('lookup', 'Looking pupils up in the tenant', pupils.length);
  const tenantUsers = new Map<string, GraphUser>();
  if (gateway && pupils.length > 0) {
    const found = await gateway.findUsersByEmployeeId(pupils.map((p) => p.externalId));
    pupils = pupils.filter((pupil, i) => {
      const result = found[i] as GraphResult<GraphUser[]>;
      if (!result.ok) {
        others.push(failedRow(pupil, '', `Could not look the pupil up in the tenant: ${describeGraphError(result.error)}`));
        return false;
      }
      if (result.value.length > 1) {
        others.push(rejectRow(pupil, `Row ${pupil.row}: the tenant has ${result.value.length} accounts with employeeId ${pupil.externalId} (${result.value.map((u) => u.userPrincipalName).join(', ')}); delete or correct the extra ones, then import again.`));
        return false;
      }
      if (result.value[0]) tenantUsers.set(pupil.externalId, result.value[0]);
      return true;
    });
  }

  // An account with this pupil's employeeId that the register does not know is taken over only when its
  // username follows the school's pattern for this pupil, so a staff account sharing a number is never touched.
  const keep = new Map<string, string>();
  pupils = pupils.filter((pupil) => {
    const previous = registerById.get(pupil.externalId);
    const tenantUser = tenantUsers.get(pupil.externalId);
    if (tenantUser) {
      if (previous || followsPattern(tenantUser.userPrincipalName, pupil, settings, request.academicYearStart)) {
        keep.set(pupil.externalId, tenantUser.userPrincipalName.toLowerCase());
        return true;
      }
      others.push(
        rejectRow(
          pupil,
          `Row ${pupil.row}: the tenant already has an account with employeeId ${pupil.externalId} (${tenantUser.userPrincipalName}) that this app did not create and whose username does not follow the school's pattern. ` +
            `If it is this pupil's account, rename it to the pattern in the Microsoft 365 admin center and import again; if it is someone else's, correct its employeeId.`,
        ),
      );
      return false;
    }
    if (previous && previous.status !== 'deleted' && previous.userPrincipalName) keep.set(pupil.externalId, previous.userPrincipalName);
    return true;
  });

  progress('usernames', 'Choosing usernames', pupils.length);
  const hasAccount = (externalId: string): boolean => {
    if (gateway) return tenantUsers.has(externalId);
    const previous = registerById.get(externalId);
    return Boolean(previous?.userId && previous.status !== 'deleted');
  };
  const assignment = await chooseUsernames(deps, pupils, { register, keep, tenantUsers, hasAccount, academicYearStart: request.academicYearStart });
  others.push(...assignment.rows);

  const works: PupilWork[] = [];
  for (const pupil of pupils) {
    const planned = assignment.assigned.get(pupil.externalId);
    if (!planned) continue;
    works.push(decide(pupil, planned, registerById.get(pupil.externalId), tenantUsers.get(pupil.externalId), hasAccount(pupil.externalId), desired, now));
  }

  const preflight: Preflight = { groups: new Map(), groupsToCreate: [] };
  const blockers: string[] = [];
  if (gateway) {
    progress('preflight', 'Checking the licence, groups and Teams policies', works.length);
    blockers.push(...(await runPreflight(gateway, settings, works, desired, preflight)));
  } else {
    const needed = new Set(works.filter((w) => w.needs.groups).flatMap((w) => desired.groupNames(w.record.cohort)));
    preflight.groupsToCreate = [...needed].filter((name) => !register.some((r) => r.groups.some((g) => g.name === name))).sort();
  }

  const onRoll = new Set(request.roll.pupils.map((p) => p.externalId));
  for (const r of request.roll.rejected) if (r.externalId) onRoll.add(r.externalId);
  const notOnRoll = register.filter((r) => (r.status === 'active' || r.status === 'pending') && !onRoll.has(r.externalId)).length;
  return {
    works,
    others,
    blockers,
    preflight,
    desired,
    academicYearStart: request.academicYearStart,
    tenantChecked: gateway !== undefined,
    skipped: request.roll.skipped?.length ?? 0,
    notOnRoll,
  };
}

/**
 * Usernames for the roll: kept ones stay, new ones follow the pattern, avoiding every username in the register
 * and, with a tenant, every username another account already holds (checked, then assigned again if taken).
 */
async function chooseUsernames(
  deps: ProvisioningDependencies,
  pupils: RollPupil[],
  state: { register: PupilRecord[]; keep: Map<string, string>; tenantUsers: Map<string, GraphUser>; hasAccount: (id: string) => boolean; academicYearStart: number },
): Promise<{ assigned: Map<string, PlannedUsername>; rows: ProvisioningRow[] }> {
  const { settings, gateway } = deps;
  const taken = new Set<string>(state.register.map((r) => r.userPrincipalName).filter(Boolean));
  const checked = new Map<string, GraphResult<GraphUser | undefined>>();
  const byId = new Map(pupils.map((p) => [p.externalId, p]));
  const options = { pattern: settings.usernamePattern, domain: settings.domain, academicYearStart: state.academicYearStart, keep: state.keep };
  let result = assignUsernames(pupils, { ...options, existing: taken });
  for (let round = 0; gateway && round < USERNAME_CHECK_ROUNDS; round++) {
    const toCheck = result.assigned.filter((a) => !state.hasAccount(a.externalId) && !checked.has(a.userPrincipalName));
    if (toCheck.length === 0) break;
    const answers = await gateway.getUsersByUserPrincipalName(toCheck.map((a) => a.userPrincipalName));
    let reassign = false;
    toCheck.forEach((planned, i) => {
      const answer = answers[i] as GraphResult<GraphUser | undefined>;
      checked.set(planned.userPrincipalName, answer);
      if (!answer.ok || !answer.value) return;
      if (sameId(answer.value.employeeId, planned.externalId)) {
        // Created moments ago by an earlier run and not yet visible to the employeeId query.
        state.tenantUsers.set(planned.externalId, answer.value);
        return;
      }
      taken.add(planned.userPrincipalName);
      if (state.keep.get(planned.externalId) === planned.userPrincipalName) state.keep.delete(planned.externalId);
      reassign = true;
    });
    if (!reassign) break;
    result = assignUsernames(pupils, { ...options, existing: taken });
  }

  const rows: ProvisioningRow[] = result.rejected.map((r) => ({ row: r.row, externalId: r.externalId ?? '', upn: '', action: 'reject' as const, reason: r.reason }));
  const assigned = new Map<string, PlannedUsername>();
  for (const planned of result.assigned) {
    const pupil = byId.get(planned.externalId) as RollPupil;
    const check = checked.get(planned.userPrincipalName);
    if (gateway && !state.hasAccount(planned.externalId) && !state.tenantUsers.has(planned.externalId)) {
      if (check && !check.ok) {
        rows.push(failedRow(pupil, planned.userPrincipalName, `Could not check that the username is free: ${describeGraphError(check.error)}`));
        continue;
      }
      if (check?.ok && check.value) {
        rows.push(failedRow(pupil, planned.userPrincipalName, 'Another account holds this username and no free one was found; run plan again.'));
        continue;
      }
    }
    assigned.set(planned.externalId, planned);
  }
  return { assigned, rows };
}

/** Decides create, update or unchanged for one pupil, and which steps are still to do. */
function decide(pupil: RollPupil, planned: PlannedUsername, previous: PupilRecord | undefined, tenantUser: GraphUser | undefined, accountExists: boolean, desired: DesiredState, now: string): PupilWork {
  const reasons: string[] = [];
  const live = previous && previous.status !== 'deleted' ? previous : undefined;
  const carried: PupilRecord = live && (accountExists || !live.userId)
    ? { ...live }
    : { externalId: pupil.externalId, forename: '', surname: '', cohort: '', userPrincipalName: '', status: 'pending', groups: [], createdAt: now, updatedAt: now };
  const record: PupilRecord = {
    ...carried,
    externalId: pupil.externalId,
    uniquePupilNumber: pupil.upn,
    admissionNumber: pupil.admissionNumber,
    forename: pupil.forename,
    surname: pupil.surname,
    yearGroup: pupil.yearGroup,
    registrationGroup: pupil.registrationGroup,
    cohort: planned.cohort,
    // A roll without a date of birth column keeps the one an earlier roll gave.
    dateOfBirth: pupil.dateOfBirth ?? previous?.dateOfBirth,
    userPrincipalName: planned.userPrincipalName,
    userId: tenantUser?.id ?? (accountExists ? live?.userId : undefined),
  };
  const needs: Needs = { account: !accountExists, password: false, details: undefined, enable: false, licence: false, groups: false, policies: false };

  if (needs.account) {
    record.accountOrigin = 'created';
    delete record.credentialsIssuedAt;
    if (!previous) reasons.push('New pupil: a new account will be created.');
    else if (previous.status === 'deleted') reasons.push('Returning pupil whose earlier account was deleted: a new account will be created.');
    else if (previous.userId) reasons.push('The account in the register no longer exists in the tenant: it will be created again.');
    else reasons.push('An earlier run stopped before creating this account: it will be created now.');
  } else {
    if (!live) {
      record.accountOrigin = previous?.accountOrigin ?? 'adopted';
      reasons.push('An account with this employeeId already exists in the tenant: it is taken into the register and given the pupil settings.');
    } else if (live.userId && tenantUser && tenantUser.id !== live.userId) {
      reasons.push('The tenant holds a different account with this employeeId than the register: the register follows the tenant.');
    }
    if (live && !live.credentialsIssuedAt && live.accountOrigin !== 'adopted') {
      needs.password = true;
      reasons.push('A new password, because the slips of the run that created the account were never printed.');
    }
    const changes: UserChanges = {};
    const current = tenantUser ? { forename: tenantUser.givenName ?? '', surname: tenantUser.surname ?? '' } : { forename: live?.forename ?? '', surname: live?.surname ?? '' };
    if (current.forename !== pupil.forename || current.surname !== pupil.surname) {
      Object.assign(changes, { displayName: displayNameOf(pupil), givenName: pupil.forename, surname: pupil.surname });
      if (live) reasons.push('Name changed in the MIS (the username stays the same).');
    }
    if (tenantUser && !tenantUser.usageLocation) changes.usageLocation = 'GB';
    if (Object.keys(changes).length > 0) needs.details = changes;
    if (live?.status === 'leaver-disabled') {
      needs.enable = true;
      reasons.push('Back on the roll: the account will be enabled again.');
    }
    if (live) {
      if ((live.registrationGroup ?? '') !== (pupil.registrationGroup ?? '')) reasons.push('Class changed.');
      if ((live.yearGroup ?? '') !== (pupil.yearGroup ?? '')) reasons.push('Year group changed.');
      if ((live.uniquePupilNumber ?? '') !== (pupil.upn ?? '') || (live.admissionNumber ?? '') !== (pupil.admissionNumber ?? '')) reasons.push('MIS identifiers changed.');
    }
  }

  needs.licence = record.licence !== desired.licence;
  needs.groups = !sameNames(record.groups.map((g) => g.name), desired.groupNames(record.cohort));
  needs.policies = record.policies !== desired.policies;
  if (!needs.account) {
    const unfinished = [needs.licence && !record.licence && 'licence', needs.groups && record.groups.length === 0 && 'groups', needs.policies && !record.policies && 'Teams policies'].filter(Boolean) as string[];
    if (unfinished.length > 0) reasons.push(`Still to do from an earlier run: ${joinList(unfinished)}.`);
    if (needs.licence && record.licence) reasons.push('The licence settings changed: the licence will be assigned again.');
    if (needs.groups && record.groups.length > 0) {
      reasons.push(live && live.cohort !== record.cohort ? `Cohort changed: the pupil moves to ${desired.groupNames(record.cohort).join(' and ')}.` : 'The group settings changed: the pupil moves to the new groups.');
    }
    if (needs.policies && record.policies) reasons.push('The Teams policy settings changed: the policies will be assigned again.');
    if (live?.status === 'pending' && reasons.length === 0) reasons.push('Finishing an earlier run: every step is done, so the pupil is marked active.');
  }

  const changed = JSON.stringify(comparable(live)) !== JSON.stringify(comparable(record));
  const action = needs.account ? 'create' : reasons.length > 0 || changed ? 'update' : 'unchanged';
  if (action === 'update' && reasons.length === 0) reasons.push('The register is brought up to date.');
  return { pupil, previous, record, action, reasons, needs, dirty: action !== 'unchanged', finished: false };
}

/** Reads only: the licence, the groups and the Teams policies. Returns the blockers, each saying what to do. */
async function runPreflight(gateway: ProvisioningGateway, settings: PupilProvisioningSettings, works: PupilWork[], desired: DesiredState, preflight: Preflight): Promise<string[]> {
  const blockers: string[] = [];
  try {
    preflight.sku = await gateway.getLicenceSku(settings.skuPartNumber, settings.disabledPlans);
    const seatsNeeded = works.filter((w) => w.needs.licence && w.record.licenceSkuId !== preflight.sku?.skuId).length;
    const free = preflight.sku.enabledUnits - preflight.sku.consumedUnits;
    if (seatsNeeded > free) {
      blockers.push(`The tenant has ${Math.max(0, free)} free ${preflight.sku.skuPartNumber} licences but this run needs ${seatsNeeded}. Add licences in the Microsoft 365 admin center, or set PUPIL_SKU to another SKU.`);
    }
  } catch (error) {
    if (error instanceof LicenceNotFoundError) blockers.push(`${error.message} (PUPIL_SKU, PUPIL_DISABLED_PLANS)`);
    else if (error instanceof GraphServiceError) blockers.push(`Could not read the tenant's licences: ${describeGraphError(error)}`);
    else throw error;
  }

  const policies = await gateway.getTeamsPolicyIds([
    { type: 'TeamsMessagingPolicy', name: settings.messagingPolicy },
    { type: 'TeamsMeetingPolicy', name: settings.meetingPolicy },
  ]);
  const [messaging, meeting] = policies as [GraphResult<string | undefined>, GraphResult<string | undefined>];
  if (!messaging.ok) blockers.push(`Could not look up the Teams messaging policy "${settings.messagingPolicy}": ${describeGraphError(messaging.error)}`);
  else if (!messaging.value) blockers.push(missingPolicyMessage('messaging', settings.messagingPolicy));
  else preflight.messagingPolicyId = messaging.value;
  if (!meeting.ok) blockers.push(`Could not look up the Teams meeting policy "${settings.meetingPolicy}": ${describeGraphError(meeting.error)}`);
  else if (!meeting.value) blockers.push(missingPolicyMessage('meeting', settings.meetingPolicy));
  else preflight.meetingPolicyId = meeting.value;

  const names = [...new Set(works.filter((w) => w.needs.groups).flatMap((w) => desired.groupNames(w.record.cohort)))].sort();
  if (names.length > 0) {
    const found = await gateway.findSecurityGroups(names);
    names.forEach((name, i) => {
      const result = found[i] as GraphResult<GraphGroup[]>;
      if (!result.ok) blockers.push(`Could not look up the security group "${name}": ${describeGraphError(result.error)}`);
      else if (result.value.length > 1) blockers.push(`The tenant has ${result.value.length} security groups named "${name}"; rename or delete the extra ones so pupils go into the right one.`);
      else if (result.value[0]) preflight.groups.set(name, result.value[0]);
      else preflight.groupsToCreate.push(name);
    });
  }
  return blockers;
}

/** The sentence an admin needs when a pupil Teams policy does not exist: Graph can assign policies but not create them. */
export function missingPolicyMessage(kind: 'messaging' | 'meeting', name: string): string {
  if (kind === 'messaging') {
    return (
      `Teams has no messaging policy named "${name}". Nothing has been changed. In the Teams admin center (https://admin.teams.microsoft.com), ` +
      `go to Messaging > Messaging policies, choose Add, name it "${name}" and turn Chat off; then run apply again. ` +
      `(Or set PUPIL_MESSAGING_POLICY to the name of an existing policy with chat off.)`
    );
  }
  return (
    `Teams has no meeting policy named "${name}". Nothing has been changed. In the Teams admin center (https://admin.teams.microsoft.com), ` +
    `go to Meetings > Meeting policies, choose Add, name it "${name}" and turn off Meet now, Cloud recording and Transcription; then run apply again. ` +
    `(Or set PUPIL_MEETING_POLICY to the name of an existing policy with those settings.)`
  );
}

// ---------------------------------------------------------------- applying

interface RunContext {
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

async function createMissingGroups(ctx: RunContext): Promise<void> {
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
async function recordIntentToCreate(ctx: RunContext): Promise<void> {
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

async function createAccounts(ctx: RunContext): Promise<void> {
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

async function setNewPasswords(ctx: RunContext): Promise<void> {
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

async function updateAccountDetails(ctx: RunContext): Promise<void> {
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

async function assignLicences(ctx: RunContext): Promise<void> {
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

async function addToGroups(ctx: RunContext): Promise<void> {
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

async function assignTeamsPolicies(ctx: RunContext): Promise<void> {
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
async function finishRegister(ctx: RunContext): Promise<void> {
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

/** Hands the new passwords to `deliverSlips`, then records that they were issued. */
async function issueSlips(ctx: RunContext): Promise<void> {
  const withPassword = ctx.prepared.works.filter((w) => w.password !== undefined);
  await checkpoint(ctx, 'slips', 'Preparing credential slips', withPassword.length, false);
  if (withPassword.length === 0) return;
  await ctx.request.deliverSlips(
    withPassword.map((w) => ({
      forename: w.pupil.forename,
      surname: w.pupil.surname,
      userPrincipalName: w.record.userPrincipalName,
      password: w.password as string,
      ...(w.pupil.registrationGroup ? { registrationGroup: w.pupil.registrationGroup } : {}),
      ...(w.pupil.yearGroup ? { yearGroup: w.pupil.yearGroup } : {}),
    })),
  );
  const issuedAt = ctx.deps.clock().toISOString();
  for (const work of withPassword) {
    work.record.credentialsIssuedAt = issuedAt;
    delete work.password;
    touch(ctx, work);
  }
  ctx.slipsIssued += withPassword.length;
  saveDirty(ctx, withPassword);
  await ctx.writer.flush();
}

// ---------------------------------------------------------------- helpers

/** A pupil the run still works on: not failed, and matching `predicate`. */
function pending(ctx: RunContext, predicate: (work: PupilWork) => boolean): PupilWork[] {
  return ctx.prepared.works.filter((w) => !w.failure && predicate(w));
}

async function checkpoint(ctx: RunContext, phase: ProvisioningPhase, label: string, pupils: number, abortable = true): Promise<void> {
  if (abortable) ctx.request.signal?.throwIfAborted();
  ctx.request.onProgress?.({ phase, label, pupils });
  if (pupils > 0) ctx.deps.logger.info('provisioning.phase', { runId: ctx.runId, phase, pupils });
}

function touch(ctx: RunContext, work: PupilWork): void {
  work.record.updatedAt = ctx.deps.clock().toISOString();
  work.record.lastRunId = ctx.runId;
  work.dirty = true;
}

/** Queues the changed rows for the register; the writes overlap the next Graph step. */
function saveDirty(ctx: RunContext, works: readonly PupilWork[]): void {
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

/** A GraphServiceError as a sentence for the admin: status, code, request id and what to check. */
export function describeGraphError(error: GraphServiceError): string {
  const id = error.requestId ? `, request-id ${error.requestId}` : '';
  const hint =
    error.kind === 'forbidden' ? ' Check that the app (or the signed-in admin) has the Graph permissions listed in the "Provisioning pupils" section of the README.'
    : error.kind === 'conflict' ? ' Another account already holds this username; run apply again to pick a free one.'
    : error.kind === 'throttled' || error.kind === 'unavailable' ? ' Graph is busy; run apply again later.'
    : '';
  return `${error.status} ${error.code}${id}.${hint}`;
}

function desiredState(settings: PupilProvisioningSettings): DesiredState {
  const plans = [...settings.disabledPlans].map((p) => p.toUpperCase()).sort();
  return {
    licence: `${settings.skuPartNumber.toUpperCase()}:${plans.join(',')}`,
    policies: `${settings.messagingPolicy}|${settings.meetingPolicy}`,
    groupNames: (cohort) => [settings.allPupilsGroup, settings.cohortGroupPattern.replace(/\{cohort\}/g, cohort)],
  };
}

function followsPattern(userPrincipalName: string, pupil: RollPupil, settings: PupilProvisioningSettings, academicYearStart: number): boolean {
  const proposal = proposeUsername(pupil, { pattern: settings.usernamePattern, domain: settings.domain, academicYearStart });
  if (!proposal.ok) return false;
  const [local = '', domain = ''] = userPrincipalName.toLowerCase().split('@');
  return domain === settings.domain.toLowerCase() && local.startsWith(proposal.localPart) && /^\d*$/.test(local.slice(proposal.localPart.length));
}

function displayNameOf(pupil: Pick<RollPupil, 'forename' | 'surname'>): string {
  return `${pupil.forename} ${pupil.surname}`.trim();
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].map((s) => s.toLowerCase()).sort();
  const y = [...b].map((s) => s.toLowerCase()).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameId(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
}

/** The fields whose change makes a register-only update. */
function comparable(record: PupilRecord | undefined): unknown {
  if (!record) return undefined;
  const { uniquePupilNumber, admissionNumber, forename, surname, yearGroup, registrationGroup, cohort, dateOfBirth, userPrincipalName, userId, status } = record;
  return [uniquePupilNumber ?? '', admissionNumber ?? '', forename, surname, yearGroup ?? '', registrationGroup ?? '', cohort, dateOfBirth ?? '', userPrincipalName, userId ?? '', status];
}

function rejectRow(pupil: RollPupil, reason: string): ProvisioningRow {
  return { row: pupil.row, externalId: pupil.externalId, upn: '', action: 'reject', reason };
}

function failedRow(pupil: RollPupil, upn: string, reason: string): ProvisioningRow {
  return { row: pupil.row, externalId: pupil.externalId, upn, action: 'failed', reason };
}

function toPlan(prepared: Prepared): ProvisioningPlan {
  const rows = planRows(prepared);
  return { rows, summary: summarise(prepared, rows), blockers: prepared.blockers };
}

function planRows(prepared: Prepared): ProvisioningRow[] {
  const rows = prepared.works.map((w): ProvisioningRow => ({
    row: w.pupil.row,
    externalId: w.pupil.externalId,
    upn: w.record.userPrincipalName,
    action: w.action,
    reason: w.action === 'unchanged' ? 'Already provisioned; nothing to do.' : w.reasons.join(' '),
  }));
  return sortRows([...rows, ...prepared.others]);
}

function resultRows(prepared: Prepared): ProvisioningRow[] {
  const rows = prepared.works.map((w): ProvisioningRow => ({
    row: w.pupil.row,
    externalId: w.pupil.externalId,
    upn: w.record.userPrincipalName,
    action: w.failure ? 'failed' : w.action,
    reason: w.failure ?? (w.action === 'unchanged' ? 'Already provisioned; nothing to do.' : w.reasons.join(' ')),
  }));
  return sortRows([...rows, ...prepared.others]);
}

function sortRows(rows: ProvisioningRow[]): ProvisioningRow[] {
  return rows.sort((a, b) => a.row - b.row || a.externalId.localeCompare(b.externalId));
}

function countActions(rows: readonly ProvisioningRow[]): Record<ProvisioningAction, number> {
  const counts: Record<ProvisioningAction, number> = { create: 0, update: 0, unchanged: 0, reject: 0, failed: 0 };
  for (const row of rows) counts[row.action] += 1;
  return counts;
}

function summarise(prepared: Prepared, rows: readonly ProvisioningRow[]): ProvisioningSummary {
  return {
    rows: rows.length,
    ...countActions(rows),
    skipped: prepared.skipped,
    academicYearStart: prepared.academicYearStart,
    tenantChecked: prepared.tenantChecked,
    groupsToCreate: [...prepared.preflight.groupsToCreate],
    notOnRoll: prepared.notOnRoll,
  };
}

function joinList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
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

/**
 * Register writes in the background, overlapping the next Graph step. One save runs at a time; rows queued
 * meanwhile are merged (the latest copy of each row wins) and written by the next save, so an older state
 * never lands after a newer one and a slow store costs fewer writes. Rows are copied when queued, so later
 * steps cannot change what a save writes. A run killed before a save lands loses only that step's progress,
 * which the next run repeats: every step is idempotent.
 */
class RegisterWriter {
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
class AuditQueue {
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

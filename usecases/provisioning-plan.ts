import { GraphServiceError, LicenceNotFoundError } from '../graph/graph-errors';
import type { GraphGroup, GraphResult, GraphUser, UserChanges } from '../graph/graph-types';
import type { PupilRecord } from '../records/pupil-register-store';
import type { RollPupil } from '../school/pupil-roll';
import { assignUsernames, proposeUsername, type PlannedUsername } from '../school/pupil-usernames';
import { describeGraphError, failedRow, rejectRow, toPlan } from './provisioning-rows';
import type {
  DesiredState,
  Needs,
  Preflight,
  Prepared,
  ProvisioningDependencies,
  ProvisioningGateway,
  ProvisioningPhase,
  ProvisioningPlan,
  ProvisioningRequest,
  ProvisioningRow,
  PupilProvisioningSettings,
  PupilWork,
} from './provisioning-types';

/** Entra's limit on employeeId: https://learn.microsoft.com/graph/api/resources/user */
const MAX_EMPLOYEE_ID_LENGTH = 16;
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

export async function preparePlan(deps: ProvisioningDependencies, request: ProvisioningRequest): Promise<Prepared> {
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

export function displayNameOf(pupil: Pick<RollPupil, 'forename' | 'surname'>): string {
  return `${pupil.forename} ${pupil.surname}`.trim();
}

export function sameNames(a: readonly string[], b: readonly string[]): boolean {
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

function joinList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

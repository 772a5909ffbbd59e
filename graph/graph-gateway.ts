import type { AuthenticationProvider } from '@microsoft/microsoft-graph-client';
import {
  createGraphClient,
  GRAPH_VERSION,
  GraphBatchClient,
  type BatchRequest,
  type BatchResponse,
  type GraphBatchClientOptions,
  type GraphBatchStats,
} from './graph-batch';
import { LicenceNotFoundError } from './graph-errors';
import {
  chunk,
  definedOnly,
  isRecord,
  newUserBody,
  odataString,
  pickPolicyId,
  sameText,
  segment,
  toAssignedLicences,
  toGraphGroup,
  toGraphTeam,
  toGraphUser,
  toMailNickname,
  toOnlineMeeting,
  toTeamsUserConfiguration,
  userFromInput,
} from './graph-mapping';
import type {
  CreatedUser,
  GraphGroup,
  GraphResult,
  GraphTeam,
  GraphUser,
  GroupMembership,
  LicenceAssignment,
  LicenceSku,
  MembershipOutcome,
  NewOnlineMeeting,
  NewSecurityGroup,
  NewUser,
  OnlineMeeting,
  SubscribedSku,
  TeamSettings,
  TeamsPolicyAssignment,
  TeamsPolicyRef,
  TeamsUserConfiguration,
  UserChanges,
  UserState,
} from './graph-types';

const USER_SELECT = 'id,userPrincipalName,displayName,givenName,surname,mailNickname,employeeId,accountEnabled,usageLocation,department,jobTitle';
const GROUP_SELECT = 'id,displayName,mailNickname,mailEnabled,securityEnabled,groupTypes';
const TEAM_SELECT = 'id,displayName,memberSettings,messagingSettings,funSettings';
/** Without advanced query parameters, `in` takes at most 15 values: https://learn.microsoft.com/graph/filter-query-parameter */
const MAX_IN_VALUES = 15;
const TEAMS_POLICY_ASSIGNMENT_TYPE = '#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment';

/** Gateway settings over an existing transport. */
export interface GraphGatewayOptions {
  batch: GraphBatchClient;
  /** Policy assignments sent in one assign call; a failed group is retried one by one to find the culprit. Default 20. */
  policyAssignmentsPerRequest?: number;
  /** How long users this gateway created count as new (their 404s are retried). Default 10 minutes. */
  newUserWindowMs?: number;
  now?: () => number;
}

/** Everything needed to build a gateway from a credential. */
export interface CreateGraphGatewayOptions extends Omit<GraphBatchClientOptions, 'client'>, Omit<GraphGatewayOptions, 'batch'> {
  authProvider: AuthenticationProvider;
}

/** Builds the graph client, the batch transport and the gateway in one go. */
export function createGraphGateway(options: CreateGraphGatewayOptions): GraphGateway {
  const client = createGraphClient({ authProvider: options.authProvider, baseUrl: options.baseUrl });
  return new GraphGateway({ ...options, batch: new GraphBatchClient({ ...options, client }) });
}

/**
 * The only code that talks to Microsoft Graph. Every operation takes a list, goes through JSON
 * batching, and answers with one GraphResult per input, in input order.
 */
export class GraphGateway {
  private readonly batch: GraphBatchClient;
  private readonly policyAssignmentsPerRequest: number;
  private readonly newUserWindowMs: number;
  private readonly now: () => number;
  private readonly createdAt = new Map<string, number>();

  constructor(options: GraphGatewayOptions) {
    this.batch = options.batch;
    this.policyAssignmentsPerRequest = Math.max(1, options.policyAssignmentsPerRequest ?? 20);
    this.newUserWindowMs = options.newUserWindowMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Round trips, inner requests, retries and 429s so far. */
  get stats(): GraphBatchStats {
    return this.batch.stats;
  }

  // ---------------------------------------------------------------- users

  /**
   * Users whose employeeId is each given id (normally zero or one each).
   * `employeeId eq/in` works without ConsistencyLevel: eventual, and is deliberately sent without it so a
   * user created moments ago is found: https://learn.microsoft.com/graph/aad-advanced-queries
   */
  async findUsersByEmployeeId(employeeIds: readonly string[]): Promise<GraphResult<GraphUser[]>[]> {
    const unique = [...new Set(employeeIds.filter((id) => id !== ''))];
    const groups = chunk(unique, MAX_IN_VALUES);
    const pages = await this.batch.sendPaged(
      groups.map((ids) => ({
        method: 'GET',
        url: `/users?$filter=${encodeURIComponent(`employeeId in (${ids.map(odataString).join(',')})`)}&$select=${USER_SELECT}&$top=999`,
      })),
    );
    const byId = new Map<string, GraphResult<GraphUser[]>>();
    groups.forEach((ids, i) => {
      const page = pages[i] as GraphResult<unknown[]>;
      for (const id of ids) {
        byId.set(id, page.ok ? { ok: true, value: page.value.map(toGraphUser).filter((u) => sameText(u.employeeId, id)) } : page);
      }
    });
    return employeeIds.map((id) => byId.get(id) ?? { ok: true, value: [] });
  }

  /** The user holding each userPrincipalName, or undefined when the name is free. */
  async getUsersByUserPrincipalName(userPrincipalNames: readonly string[]): Promise<GraphResult<GraphUser | undefined>[]> {
    return this.run(
      userPrincipalNames.map((upn) => ({ method: 'GET', url: `/users/${segment(upn)}?$select=${USER_SELECT}` })),
      (response) => toGraphUser(response.body),
      { notFound: () => undefined },
    );
  }

  /**
   * Creates pupils with usageLocation GB. A userPrincipalName already held by a user with the same
   * employeeId (a lost response, a resumed run) counts as created, with `alreadyExisted: true`.
   */
  async createUsers(users: readonly NewUser[]): Promise<GraphResult<CreatedUser>[]> {
    const results = await this.run(
      users.map((user) => ({ method: 'POST', url: '/users', body: newUserBody(user) })),
      (response, i): CreatedUser => ({ user: { ...userFromInput(users[i] as NewUser), ...definedOnly(toGraphUser(response.body)) }, alreadyExisted: false }),
    );
    const conflicts = results.flatMap((result, i) => (!result.ok && result.error.hasDetailCode('ObjectConflict') ? [i] : []));
    if (conflicts.length > 0) {
      const found = await this.getUsersByUserPrincipalName(conflicts.map((i) => (users[i] as NewUser).userPrincipalName));
      conflicts.forEach((index, k) => {
        const existing = found[k] as GraphResult<GraphUser | undefined>;
        if (existing.ok && existing.value && sameText(existing.value.employeeId, (users[index] as NewUser).employeeId)) {
          results[index] = { ok: true, value: { user: existing.value, alreadyExisted: true } };
        }
      });
    }
    for (const result of results) if (result.ok) this.createdAt.set(result.value.user.id, this.now());
    return results;
  }

  /** Changes properties of existing users. */
  async updateUsers(updates: readonly { userId: string; changes: UserChanges }[]): Promise<GraphResult<void>[]> {
    return this.run(
      updates.map(({ userId, changes }) => ({ method: 'PATCH', url: `/users/${segment(userId)}`, body: changes, retryNotFound: this.isNew(userId) })),
      () => undefined,
    );
  }

  /** Enables or disables sign-in. */
  async setAccountEnabled(items: readonly { userId: string; accountEnabled: boolean }[]): Promise<GraphResult<void>[]> {
    return this.updateUsers(items.map(({ userId, accountEnabled }) => ({ userId, changes: { accountEnabled } })));
  }

  /** Sets a new password; the password travels only in the request body. */
  async resetPasswords(items: readonly { userId: string; password: string; forceChangePasswordNextSignIn?: boolean }[]): Promise<GraphResult<void>[]> {
    return this.run(
      items.map(({ userId, password, forceChangePasswordNextSignIn }) => ({
        method: 'PATCH',
        url: `/users/${segment(userId)}`,
        body: { passwordProfile: { password, forceChangePasswordNextSignIn: forceChangePasswordNextSignIn ?? false } },
        retryNotFound: this.isNew(userId),
      })),
      () => undefined,
    );
  }

  /** Invalidates refresh tokens and session cookies, e.g. for a leaver. */
  async revokeSignInSessions(userIds: readonly string[]): Promise<GraphResult<void>[]> {
    return this.run(
      userIds.map((userId) => ({ method: 'POST', url: `/users/${segment(userId)}/revokeSignInSessions`, retryNotFound: this.isNew(userId) })),
      () => undefined,
    );
  }

  /** Deletes users (to the recycle bin); a user already gone counts as deleted. */
  async deleteUsers(userIds: readonly string[]): Promise<GraphResult<void>[]> {
    return this.run(
      userIds.map((userId) => ({ method: 'DELETE', url: `/users/${segment(userId)}` })),
      () => undefined,
      { notFound: () => undefined },
    );
  }

  /** Licences, sign-in state and direct group memberships of each user; undefined when the user does not exist. */
  async getUserStates(userIds: readonly string[]): Promise<GraphResult<UserState | undefined>[]> {
    const users = await this.run(
      userIds.map((userId) => ({
        method: 'GET',
        url: `/users/${segment(userId)}?$select=id,userPrincipalName,accountEnabled,usageLocation,assignedLicenses`,
        retryNotFound: this.isNew(userId),
      })),
      (response) => response.body as Record<string, unknown>,
      { notFound: () => undefined },
    );
    const found = users.flatMap((result, i) => (result.ok && result.value ? [i] : []));
    const memberships = await this.listDirectGroupIds(found.map((i) => userIds[i] as string));
    return users.map((result, i) => {
      if (!result.ok || !result.value) return result as GraphResult<undefined>;
      const groups = memberships[found.indexOf(i)] as GraphResult<string[]>;
      if (!groups.ok) return groups;
      const raw = result.value;
      return {
        ok: true,
        value: {
          id: String(raw.id),
          userPrincipalName: String(raw.userPrincipalName ?? ''),
          accountEnabled: typeof raw.accountEnabled === 'boolean' ? raw.accountEnabled : null,
          usageLocation: typeof raw.usageLocation === 'string' ? raw.usageLocation : null,
          assignedLicences: toAssignedLicences(raw.assignedLicenses),
          groupIds: groups.value,
        },
      };
    });
  }

  // ---------------------------------------------------------------- licences

  /** Every SKU the tenant subscribes to. Throws GraphServiceError if Graph refuses. */
  async listSubscribedSkus(): Promise<SubscribedSku[]> {
    const [result] = await this.run([{ method: 'GET', url: '/subscribedSkus?$select=skuId,skuPartNumber,servicePlans,prepaidUnits,consumedUnits' }], (r) => r.body);
    if (!result?.ok) throw (result as { error: Error }).error;
    const value = (result.value as { value?: unknown[] } | undefined)?.value ?? [];
    return value.filter(isRecord).map((sku) => ({
      skuId: String(sku.skuId),
      skuPartNumber: String(sku.skuPartNumber),
      servicePlans: (Array.isArray(sku.servicePlans) ? sku.servicePlans : []).filter(isRecord).map((plan) => ({
        servicePlanId: String(plan.servicePlanId),
        servicePlanName: String(plan.servicePlanName),
      })),
      enabledUnits: Number(isRecord(sku.prepaidUnits) ? (sku.prepaidUnits.enabled ?? 0) : 0),
      consumedUnits: Number(sku.consumedUnits ?? 0),
    }));
  }

  /** Resolves a SKU part number and service plan names to ids; throws LicenceNotFoundError naming what the tenant has. */
  async getLicenceSku(skuPartNumber: string, disabledPlanNames: readonly string[] = []): Promise<LicenceSku> {
    const skus = await this.listSubscribedSkus();
    const sku = skus.find((s) => sameText(s.skuPartNumber, skuPartNumber));
    if (!sku) {
      const available = skus.map((s) => s.skuPartNumber).sort();
      throw new LicenceNotFoundError(
        `The tenant has no subscription with SKU part number "${skuPartNumber}". ` +
          (available.length ? `It has: ${available.join(', ')}. Set the pupil SKU to one of these.` : 'It has no subscriptions at all.'),
        skuPartNumber,
        [],
        available,
      );
    }
    const missing = disabledPlanNames.filter((name) => !sku.servicePlans.some((p) => sameText(p.servicePlanName, name)));
    if (missing.length > 0) {
      const available = sku.servicePlans.map((p) => p.servicePlanName).sort();
      throw new LicenceNotFoundError(
        `SKU ${sku.skuPartNumber} has no service plan named ${missing.map((m) => `"${m}"`).join(', ')}. Its plans are: ${available.join(', ')}.`,
        sku.skuPartNumber,
        missing,
        available,
      );
    }
    const disabledPlanIds = disabledPlanNames.map((name) => (sku.servicePlans.find((p) => sameText(p.servicePlanName, name)) as { servicePlanId: string }).servicePlanId);
    return { ...sku, disabledPlanIds: [...new Set(disabledPlanIds)] };
  }

  /** Assigns (or re-assigns with other disabled plans) a licence to each user. The user needs a usageLocation. */
  async assignLicences(assignments: readonly LicenceAssignment[]): Promise<GraphResult<void>[]> {
    return this.run(
      assignments.map((a) => ({
        method: 'POST',
        url: `/users/${segment(a.userId)}/assignLicense`,
        body: { addLicenses: [{ skuId: a.skuId, disabledPlans: a.disabledPlanIds ?? [] }], removeLicenses: a.removeSkuIds ?? [] },
        retryNotFound: this.isNew(a.userId),
      })),
      () => undefined,
    );
  }

  // ---------------------------------------------------------------- groups

  /** Security groups with each display name (exact, case-insensitive); more than one means the tenant has duplicates. */
  async findSecurityGroups(displayNames: readonly string[]): Promise<GraphResult<GraphGroup[]>[]> {
    const pages = await this.batch.sendPaged(
      displayNames.map((name) => ({
        method: 'GET',
        url: `/groups?$filter=${encodeURIComponent(`displayName eq ${odataString(name)}`)}&$select=${GROUP_SELECT}`,
      })),
    );
    return pages.map((page, i) =>
      page.ok ? { ok: true, value: page.value.map(toGraphGroup).filter((g) => g.securityEnabled === true && sameText(g.displayName, displayNames[i] as string)) } : page,
    );
  }

  /** Creates security groups (not mail-enabled). */
  async createSecurityGroups(groups: readonly NewSecurityGroup[]): Promise<GraphResult<GraphGroup>[]> {
    return this.run(
      groups.map((group) => ({
        method: 'POST',
        url: '/groups',
        body: {
          displayName: group.displayName,
          ...(group.description ? { description: group.description } : {}),
          mailEnabled: false,
          securityEnabled: true,
          mailNickname: group.mailNickname ?? toMailNickname(group.displayName),
        },
      })),
      (response) => toGraphGroup(response.body),
    );
  }

  /**
   * Adds direct members; a member already in the group counts as success. Graph answers that case with a
   * plain 400 Request_BadRequest, so a 400 is confirmed by reading the member's groups, not by its message.
   */
  async addGroupMembers(memberships: readonly GroupMembership[]): Promise<GraphResult<MembershipOutcome>[]> {
    const results = await this.run<MembershipOutcome>(
      memberships.map(({ groupId, memberId }) => ({
        method: 'POST',
        url: `/groups/${segment(groupId)}/members/$ref`,
        body: { '@odata.id': `${this.batch.baseUrl}/${GRAPH_VERSION}/directoryObjects/${memberId}` },
        retryNotFound: this.isNew(memberId),
      })),
      () => 'added',
    );
    const refused = results.flatMap((r, i) => (!r.ok && r.error.status === 400 ? [i] : []));
    if (refused.length > 0) {
      const memberIds = [...new Set(refused.map((i) => (memberships[i] as GroupMembership).memberId))];
      const groupIds = await this.listDirectGroupIds(memberIds);
      for (const i of refused) {
        const { groupId, memberId } = memberships[i] as GroupMembership;
        const current = groupIds[memberIds.indexOf(memberId)];
        if (current?.ok && current.value.includes(groupId)) results[i] = { ok: true, value: 'alreadyMember' };
      }
    }
    return results;
  }

  /** Removes direct members; a member already gone counts as removed. */
  async removeGroupMembers(memberships: readonly GroupMembership[]): Promise<GraphResult<void>[]> {
    return this.run(
      memberships.map(({ groupId, memberId }) => ({ method: 'DELETE', url: `/groups/${segment(groupId)}/members/${segment(memberId)}/$ref` })),
      () => undefined,
      { notFound: () => undefined },
    );
  }

  /** Ids of every direct member of each group. */
  async listGroupMemberIds(groupIds: readonly string[]): Promise<GraphResult<string[]>[]> {
    const pages = await this.batch.sendPaged(groupIds.map((groupId) => ({ method: 'GET', url: `/groups/${segment(groupId)}/members?$select=id&$top=999` })));
    return pages.map((page) => (page.ok ? { ok: true, value: page.value.filter(isRecord).map((m) => String(m.id)) } : page));
  }

  // ---------------------------------------------------------------- Teams policies

  /** The policy id for each type and name, or undefined when Teams has no such policy. */
  async getTeamsPolicyIds(policies: readonly TeamsPolicyRef[]): Promise<GraphResult<string | undefined>[]> {
    return this.run(
      policies.map(({ type, name }) => ({
        method: 'GET',
        url: `/admin/teams/policy/getPolicyId(type=${segment(odataString(type))},name=${segment(odataString(name))})`,
      })),
      (response, i) => pickPolicyId(response.body, (policies[i] as TeamsPolicyRef).name),
      { notFound: () => undefined },
    );
  }

  /** One policy id; throws GraphServiceError if Graph refuses, undefined when the policy does not exist. */
  async getTeamsPolicyId(policy: TeamsPolicyRef): Promise<string | undefined> {
    const [result] = await this.getTeamsPolicyIds([policy]);
    if (!result?.ok) throw (result as { error: Error }).error;
    return result.value;
  }

  /** Assigns policies directly to users, which overrides group and global assignments. */
  async assignTeamsPolicies(assignments: readonly TeamsPolicyAssignment[]): Promise<GraphResult<void>[]> {
    const results: GraphResult<void>[] = new Array(assignments.length);
    const indexes = assignments.map((_, i) => i);
    const send = async (groups: number[][]): Promise<number[][]> => {
      const outcomes = await this.run(
        groups.map((group) => ({
          method: 'POST',
          url: '/admin/teams/policy/userAssignments/assign',
          body: {
            value: group.map((i) => {
              const a = assignments[i] as TeamsPolicyAssignment;
              return { '@odata.type': TEAMS_POLICY_ASSIGNMENT_TYPE, userId: a.userId, policyType: a.policyType, policyId: a.policyId };
            }),
          },
          retryNotFound: group.some((i) => this.isNew((assignments[i] as TeamsPolicyAssignment).userId)),
        })),
        () => undefined,
      );
      const failedGroups: number[][] = [];
      groups.forEach((group, g) => {
        const outcome = outcomes[g] as GraphResult<void>;
        if (!outcome.ok && group.length > 1) failedGroups.push(group);
        else for (const i of group) results[i] = outcome;
      });
      return failedGroups;
    };
    const failed = await send(chunk(indexes, this.policyAssignmentsPerRequest));
    if (failed.length > 0) await send(failed.flat().map((i) => [i]));
    return results;
  }

  /** Each user's effective Teams policies; undefined when Teams does not know the user yet. */
  async getTeamsUserConfigurations(userIds: readonly string[]): Promise<GraphResult<TeamsUserConfiguration | undefined>[]> {
    return this.run(
      userIds.map((userId) => ({ method: 'GET', url: `/admin/teams/userConfigurations/${segment(userId)}` })),
      (response, i) => toTeamsUserConfiguration(response.body, userIds[i] as string),
      { notFound: () => undefined },
    );
  }

  // ---------------------------------------------------------------- teams and meetings

  /** Each team with its member, messaging and fun settings; undefined when it does not exist. */
  async getTeams(teamIds: readonly string[]): Promise<GraphResult<GraphTeam | undefined>[]> {
    return this.run(
      teamIds.map((teamId) => ({ method: 'GET', url: `/teams/${segment(teamId)}?$select=${TEAM_SELECT}` })),
      (response) => toGraphTeam(response.body),
      { notFound: () => undefined },
    );
  }

  /** Changes team settings; only the given settings are sent. */
  async updateTeams(updates: readonly { teamId: string; settings: TeamSettings }[]): Promise<GraphResult<void>[]> {
    return this.run(
      updates.map(({ teamId, settings }) => ({ method: 'PATCH', url: `/teams/${segment(teamId)}`, body: settings })),
      () => undefined,
    );
  }

  /**
   * Creates meetings for organisers. With application permissions, Graph also needs an application access
   * policy for the organiser: https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy
   */
  async createOnlineMeetings(meetings: readonly NewOnlineMeeting[]): Promise<GraphResult<OnlineMeeting>[]> {
    return this.run(
      meetings.map(({ organizerId, meeting }) => ({ method: 'POST', url: `/users/${segment(organizerId)}/onlineMeetings`, body: meeting })),
      (response) => toOnlineMeeting(response.body),
    );
  }

  /**
   * Installs a Teams app (by its app catalog id) in each user's personal scope, so the bot can message them;
   * an app already installed (409) counts as installed.
   * https://learn.microsoft.com/graph/api/userteamwork-post-installedapps
   */
  async installAppForUsers(items: readonly { userId: string; teamsAppId: string }[]): Promise<GraphResult<void>[]> {
    const results = await this.run(
      items.map(({ userId, teamsAppId }) => ({
        method: 'POST',
        url: `/users/${segment(userId)}/teamwork/installedApps`,
        body: { 'teamsApp@odata.bind': `https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/${segment(teamsAppId)}` },
      })),
      () => undefined,
    );
    return results.map((result) => (!result.ok && result.error.status === 409 ? { ok: true, value: undefined } : result));
  }

  // ---------------------------------------------------------------- helpers

  private async run<T>(
    requests: BatchRequest[],
    map: (response: BatchResponse, index: number) => T,
    options: { notFound?: () => T } = {},
  ): Promise<GraphResult<T>[]> {
    // Mapped as each batch returns, so raw bodies are not all held until the operation ends.
    const outcomes = await this.batch.send(requests, map);
    return outcomes.map((outcome) => {
      if (outcome.ok) return outcome;
      if (options.notFound && outcome.error.status === 404) return { ok: true, value: options.notFound() };
      return outcome;
    });
  }

  private async listDirectGroupIds(userIds: readonly string[]): Promise<GraphResult<string[]>[]> {
    const pages = await this.batch.sendPaged(
      userIds.map((userId) => ({ method: 'GET', url: `/users/${segment(userId)}/memberOf?$select=id`, retryNotFound: this.isNew(userId) })),
    );
    return pages.map((page) =>
      page.ok ? { ok: true, value: page.value.filter(isRecord).filter((o) => o['@odata.type'] === '#microsoft.graph.group').map((o) => String(o.id)) } : page,
    );
  }

  private isNew(userId: string): boolean {
    const at = this.createdAt.get(userId);
    return at !== undefined && this.now() - at < this.newUserWindowMs;
  }
}

export { odataString, toMailNickname };

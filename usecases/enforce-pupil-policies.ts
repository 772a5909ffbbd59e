import { randomUUID } from 'node:crypto';
import type { Logger } from '../infra/logger';
import type { GraphGateway } from '../graph/graph-gateway';
import type { GraphResult, TeamSettings, TeamsPolicyType } from '../graph/graph-types';
import type { AuditStore } from '../records/audit-store';
import type { ComplianceRun, ComplianceStore } from '../records/compliance-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import {
  cohortGroupName,
  computePupilDrift,
  computeTeamDrift,
  repairedDisabledPlans,
  summariseCompliance,
  type ComplianceSummary,
  type DesiredGroup,
  type DesiredPolicy,
  type DesiredPupilState,
  type Drift,
  type DriftKind,
} from '../school/pupil-policy-drift';

/** The Graph operations enforcement uses. */
export type EnforcementGateway = Pick<
  GraphGateway,
  | 'getTeamsPolicyIds'
  | 'getLicenceSku'
  | 'findSecurityGroups'
  | 'getUserStates'
  | 'getTeamsUserConfigurations'
  | 'getTeams'
  | 'assignTeamsPolicies'
  | 'assignLicences'
  | 'addGroupMembers'
  | 'updateTeams'
>;

/** The school's pupil licence and Teams policy settings that enforcement checks (app/config.ts validates them). */
export interface PupilPolicySettings {
  skuPartNumber: string;
  disabledPlans: string[];
  messagingPolicy: string;
  meetingPolicy: string;
  allPupilsGroup: string;
  cohortGroupPattern: string;
}

/** When the daily audit runs (HH:MM, Europe/London) and which class teams it checks (empty: every pupil's team). */
export interface EnforcementSchedule {
  auditTime: string;
  classTeamIds: string[];
}

/** What enforcement is built from; the actor is whoever (or whatever job) runs it, by object id. */
export interface EnforcementDependencies {
  schoolId: string;
  config: { pupils: PupilPolicySettings; enforcement: EnforcementSchedule };
  /** Undefined in plan mode: enforcement refuses with EnforcementModeError. */
  graph: EnforcementGateway | undefined;
  register: Pick<PupilRegisterStore, 'listPupils'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  actorId: string;
  clock: () => Date;
  logger?: Logger;
}

/** One pupil's result. The UPN is for the admin's own report (CLI); it never goes to logs. */
export interface PupilCompliance {
  userId: string;
  externalId: string;
  userPrincipalName: string;
  compliant: boolean;
  drift: Drift[];
}

/** One class team's result. */
export interface TeamCompliance {
  teamId: string;
  displayName: string | null;
  compliant: boolean;
  drift: Drift[];
  /** The PATCH body a repair sends; undefined when compliant. */
  patch?: TeamSettings;
}

/** An audit of every pupil in the register and every class team. */
export interface EnforcementReport {
  at: string;
  pupils: PupilCompliance[];
  teams: TeamCompliance[];
  summary: ComplianceSummary;
}

/** One change a repair made (or tried to make). */
export interface EnforcementChange {
  target: string;
  kind: DriftKind;
  setting: string;
  outcome: 'succeeded' | 'failed';
  errorCode?: string;
}

/** What fix did: the audit before, every change, and the audit after. */
export interface EnforcementFixResult {
  before: EnforcementReport;
  changes: EnforcementChange[];
  after: EnforcementReport;
}

/** Enforcement was asked for without a tenant (GRAPH_MODE=plan). */
export class EnforcementModeError extends Error {
  override readonly name = 'EnforcementModeError';
  constructor() {
    super('Enforcing pupil policies needs a tenant: set GRAPH_MODE=live with Graph credentials. In plan mode nothing is read from or changed in Microsoft 365.');
  }
}

/** A named pupil Teams policy does not exist; Graph can assign Teams policies but cannot create them. */
export class MissingTeamsPolicyError extends Error {
  override readonly name = 'MissingTeamsPolicyError';
  constructor(readonly missing: readonly { type: TeamsPolicyType; name: string }[]) {
    super(missing.map((m) => missingTeamsPolicyMessage(m.type, m.name)).join('\n'));
  }
}

/** The settings each pupil policy must have, as the Teams admin center names them. */
const POLICY_SETTINGS: Record<TeamsPolicyType, { area: string; settings: string }> = {
  TeamsMessagingPolicy: { area: 'Messaging > Messaging policies', settings: 'Chat: Off; Delete sent messages: Off; Edit sent messages: Off' },
  TeamsMeetingPolicy: { area: 'Meetings > Meeting policies', settings: 'Meet now in channels: Off; Meet now in private meetings: Off; Recording (cloud recording): Off; Transcription: Off' },
};

/** The sentence an admin needs to create a missing policy. */
export function missingTeamsPolicyMessage(type: TeamsPolicyType, name: string): string {
  const { area, settings } = POLICY_SETTINGS[type];
  return `Teams has no ${type} named "${name}". In the Teams admin center (https://admin.teams.microsoft.com), go to ${area}, choose Add, name it "${name}" and set: ${settings}. Graph can assign Teams policies but cannot create them.`;
}

/** Checks the named pupil policies exist and returns their ids; throws MissingTeamsPolicyError naming every missing one. */
export async function checkTeamsPolicies(graph: Pick<GraphGateway, 'getTeamsPolicyIds'>, pupils: PupilPolicySettings): Promise<DesiredPolicy[]> {
  const refs: { type: TeamsPolicyType; name: string }[] = [
    { type: 'TeamsMessagingPolicy', name: pupils.messagingPolicy },
    { type: 'TeamsMeetingPolicy', name: pupils.meetingPolicy },
  ];
  const results = await graph.getTeamsPolicyIds(refs);
  const found: DesiredPolicy[] = [];
  const missing: { type: TeamsPolicyType; name: string }[] = [];
  results.forEach((result, i) => {
    const ref = refs[i] as (typeof refs)[number];
    if (!result.ok) throw result.error;
    if (result.value) found.push({ ...ref, policyId: result.value });
    else missing.push(ref);
  });
  if (missing.length > 0) throw new MissingTeamsPolicyError(missing);
  return found;
}

interface Desired {
  policies: DesiredPolicy[];
  skuId: string;
  skuPartNumber: string;
  disabledPlans: { id: string; name: string }[];
  groupsByName: Map<string, string | undefined>;
}

/** Audits every active pupil in the register (and pending ones whose account exists) and the class teams. */
export async function auditPupilPolicies(deps: EnforcementDependencies): Promise<EnforcementReport> {
  const graph = requireGraph(deps);
  const desired = await resolveDesired(graph, deps);
  return audit(graph, deps, desired);
}

/** Repairs only what drifted, with an audit entry per change; then audits again. A second run changes nothing. */
export async function fixPupilPolicies(deps: EnforcementDependencies): Promise<EnforcementFixResult> {
  const graph = requireGraph(deps);
  const desired = await resolveDesired(graph, deps);
  const before = await audit(graph, deps, desired);
  const changes = await repair(graph, deps, desired, before);
  const after = changes.length > 0 ? await audit(graph, deps, desired) : before;
  deps.logger?.info('enforcement.fixed', { pupils: before.pupils.length, changes: changes.length, failed: changes.filter((c) => c.outcome === 'failed').length, compliantAfter: after.summary.compliant });
  return { before, changes, after };
}

/** Stores a report as a run (summary, teams, each pupil's drift) and makes it the latest. */
export async function recordComplianceRun(store: Pick<ComplianceStore, 'saveRun'>, schoolId: string, report: EnforcementReport, run: { runId: string; kind: ComplianceRun['kind']; startedAt: string }): Promise<void> {
  await store.saveRun(
    schoolId,
    { ...run, finishedAt: report.at, summary: report.summary, teams: report.teams.map((t) => ({ teamId: t.teamId, compliant: t.compliant, drift: t.drift })) },
    report.pupils.map((p) => ({ userId: p.userId, externalId: p.externalId, compliant: p.compliant, drift: p.drift })),
  );
}

/** The compliance figures the tab shows: share compliant and drift counted per kind. */
export interface LatestComplianceSummary extends ComplianceSummary {
  runId: string;
  finishedAt: string;
}

/** The latest stored run's figures for a school, or undefined when no audit has finished yet. */
export async function getLatestComplianceSummary(schoolId: string, deps: { compliance: Pick<ComplianceStore, 'getLatestRun'> }): Promise<LatestComplianceSummary | undefined> {
  const run = await deps.compliance.getLatestRun(schoolId);
  return run ? { ...run.summary, runId: run.runId, finishedAt: run.finishedAt } : undefined;
}

// ---------------------------------------------------------------- steps

function requireGraph(deps: EnforcementDependencies): EnforcementGateway {
  if (!deps.graph) throw new EnforcementModeError();
  return deps.graph;
}

async function resolveDesired(graph: EnforcementGateway, deps: EnforcementDependencies): Promise<Desired> {
  const { pupils } = deps.config;
  const policies = await checkTeamsPolicies(graph, pupils);
  const sku = await graph.getLicenceSku(pupils.skuPartNumber, pupils.disabledPlans);
  // getLicenceSku has checked every name exists on the SKU.
  const disabledPlans = pupils.disabledPlans.map((name) => ({ name, id: sku.servicePlans.find((s) => s.servicePlanName.toLowerCase() === name.toLowerCase())?.servicePlanId ?? '' }));
  return { policies, skuId: sku.skuId, skuPartNumber: sku.skuPartNumber, disabledPlans, groupsByName: new Map() };
}

function auditedPupils(pupils: readonly PupilRecord[]): (PupilRecord & { userId: string })[] {
  return pupils.filter((p): p is PupilRecord & { userId: string } => !!p.userId && (p.status === 'active' || p.status === 'pending'));
}

async function audit(graph: EnforcementGateway, deps: EnforcementDependencies, desired: Desired): Promise<EnforcementReport> {
  const pupils = auditedPupils(await deps.register.listPupils(deps.schoolId));
  const { pupils: settings } = deps.config;
  const groupNamesFor = (p: PupilRecord): string[] => [...new Set([settings.allPupilsGroup, ...(p.cohort ? [cohortGroupName(settings.cohortGroupPattern, p.cohort)] : [])])];
  const names = [...new Set(pupils.flatMap(groupNamesFor))].filter((n) => !desired.groupsByName.has(n));
  if (names.length > 0) {
    const found = await graph.findSecurityGroups(names);
    found.forEach((result, i) => {
      if (!result.ok) throw result.error;
      desired.groupsByName.set(names[i] as string, result.value[0]?.id);
    });
  }
  const userIds = pupils.map((p) => p.userId);
  const [states, configurations] = await Promise.all([graph.getUserStates(userIds), graph.getTeamsUserConfigurations(userIds)]);
  const results: PupilCompliance[] = pupils.map((pupil, i) => {
    const state = states[i] as (typeof states)[number];
    const configuration = configurations[i] as (typeof configurations)[number];
    const base = { userId: pupil.userId, externalId: pupil.externalId, userPrincipalName: pupil.userPrincipalName };
    const failed = !state.ok ? state.error : !configuration.ok ? configuration.error : undefined;
    if (failed) {
      const drift: Drift[] = [{ kind: 'read-failed', setting: 'graph', expected: 'readable', actual: `${failed.status} ${failed.code}`, reason: 'Graph refused to read this account; it is audited again next run.', repairable: false }];
      return { ...base, compliant: false, drift };
    }
    const desiredState: DesiredPupilState = {
      policies: desired.policies,
      skuId: desired.skuId,
      skuPartNumber: desired.skuPartNumber,
      disabledPlans: desired.disabledPlans,
      groups: groupNamesFor(pupil).map((name): DesiredGroup => ({ name, id: desired.groupsByName.get(name) })),
    };
    const value = state.ok ? state.value : undefined;
    const drift = computePupilDrift(desiredState, {
      exists: value !== undefined,
      accountEnabled: value?.accountEnabled ?? null,
      licences: value?.assignedLicences ?? [],
      groupIds: value?.groupIds ?? [],
      effectivePolicies: configuration.ok ? configuration.value?.effectivePolicies : undefined,
    });
    return { ...base, compliant: drift.length === 0, drift };
  });
  const requiredGroupIds = new Set([...desired.groupsByName.values()].filter((id): id is string => !!id));
  const teams = await auditTeams(graph, deps, states, requiredGroupIds);
  const report: EnforcementReport = { at: deps.clock().toISOString(), pupils: results, teams, summary: summariseCompliance(results, teams) };
  deps.logger?.info('enforcement.audited', { pupils: results.length, compliant: report.summary.compliant, teams: teams.length });
  return report;
}

/**
 * The configured class teams; with none configured, every group the audited pupils are direct members of
 * (apart from the pupil security groups) is tried as a team with GET /teams/{id}, and those that answer are
 * the class teams. Listing teams tenant-wide would need Team.ReadBasic.All on every team; this stays within
 * the pupils' own memberships and the operations the gateway already has.
 */
async function auditTeams(
  graph: EnforcementGateway,
  deps: EnforcementDependencies,
  states: Awaited<ReturnType<EnforcementGateway['getUserStates']>>,
  requiredGroupIds: ReadonlySet<string>,
): Promise<TeamCompliance[]> {
  const configured = deps.config.enforcement.classTeamIds;
  const discovered = configured.length > 0;
  const candidates = discovered
    ? [...configured]
    : [...new Set(states.flatMap((s) => (s.ok && s.value ? s.value.groupIds : [])))].filter((id) => !requiredGroupIds.has(id));
  if (candidates.length === 0) return [];
  const teams = await graph.getTeams(candidates);
  return teams.flatMap((result, i): TeamCompliance[] => {
    const teamId = candidates[i] as string;
    if (!result.ok) {
      return [{ teamId, displayName: null, compliant: false, drift: [{ kind: 'read-failed', setting: 'team', expected: 'readable', actual: `${result.error.status} ${result.error.code}`, reason: 'Graph refused to read this team.', repairable: false }] }];
    }
    if (!result.value) {
      if (!discovered) return [];
      return [{ teamId, displayName: null, compliant: false, drift: [{ kind: 'team-missing', setting: 'team', expected: 'exists', actual: 'not found', reason: 'CLASS_TEAM_IDS names a team that does not exist.', repairable: false }] }];
    }
    const { drift, patch } = computeTeamDrift(result.value);
    return [{ teamId, displayName: result.value.displayName, compliant: drift.length === 0, drift, ...(patch ? { patch } : {}) }];
  });
}

async function repair(graph: EnforcementGateway, deps: EnforcementDependencies, desired: Desired, report: EnforcementReport): Promise<EnforcementChange[]> {
  const changes: EnforcementChange[] = [];
  const policyIdByType = new Map(desired.policies.map((p) => [p.type.toLowerCase(), p]));
  const policyItems = report.pupils.flatMap((p) =>
    p.drift.filter((d) => d.kind === 'teams-policy').map((d) => ({ pupil: p, drift: d, policy: policyIdByType.get(d.setting.toLowerCase()) as DesiredPolicy })),
  );
  const licenceItems = report.pupils.filter((p) => p.drift.some((d) => d.kind === 'licence-missing' || d.kind === 'plan-enabled'));
  const groupItems = report.pupils.flatMap((p) =>
    p.drift.filter((d) => d.kind === 'group-missing').map((d) => ({ pupil: p, drift: d, groupId: desired.groupsByName.get(d.setting.replace(/^group /, '')) as string })),
  );
  const teamItems = report.teams.filter((t) => t.patch);

  const licenceStates = licenceItems.length ? await graph.getUserStates(licenceItems.map((p) => p.userId)) : [];
  const desiredState = { policies: desired.policies, skuId: desired.skuId, skuPartNumber: desired.skuPartNumber, disabledPlans: desired.disabledPlans, groups: [] };
  const licenceAssignments = licenceItems.flatMap((pupil, i) => {
    const state = licenceStates[i];
    const disabledPlanIds = state?.ok && state.value ? repairedDisabledPlans(desiredState, state.value.assignedLicences) : undefined;
    return disabledPlanIds ? [{ pupil, disabledPlanIds }] : [];
  });

  const [policyResults, licenceResults, groupResults, teamResults] = await Promise.all([
    policyItems.length ? graph.assignTeamsPolicies(policyItems.map((x) => ({ userId: x.pupil.userId, policyType: x.policy.type, policyId: x.policy.policyId }))) : [],
    licenceAssignments.length ? graph.assignLicences(licenceAssignments.map((x) => ({ userId: x.pupil.userId, skuId: desired.skuId, disabledPlanIds: x.disabledPlanIds }))) : [],
    groupItems.length ? graph.addGroupMembers(groupItems.map((x) => ({ groupId: x.groupId, memberId: x.pupil.userId }))) : [],
    teamItems.length ? graph.updateTeams(teamItems.map((t) => ({ teamId: t.teamId, settings: t.patch as TeamSettings }))) : [],
  ]);
  const push = (target: string, kind: DriftKind, setting: string, result: GraphResult<unknown> | undefined): void => {
    changes.push(result?.ok ? { target, kind, setting, outcome: 'succeeded' } : { target, kind, setting, outcome: 'failed', errorCode: result && !result.ok ? result.error.code : 'NoResult' });
  };
  policyItems.forEach((x, i) => push(x.pupil.userId, 'teams-policy', x.drift.setting, policyResults[i]));
  licenceAssignments.forEach((x, i) => push(x.pupil.userId, 'plan-enabled', `licence ${desired.skuPartNumber}`, licenceResults[i]));
  groupItems.forEach((x, i) => push(x.pupil.userId, 'group-missing', x.drift.setting, groupResults[i]));
  teamItems.forEach((t, i) => push(t.teamId, 'team-setting', Object.keys(t.patch ?? {}).join(','), teamResults[i]));

  const correlationId = randomUUID();
  for (let i = 0; i < changes.length; i += 20) {
    await Promise.all(
      changes.slice(i, i + 20).map((c) =>
        deps.audit.appendAudit(deps.schoolId, {
          actorId: deps.actorId,
          action: 'enforcement.repair',
          target: c.target,
          outcome: c.outcome,
          correlationId,
          details: { kind: c.kind, setting: c.setting, ...(c.errorCode ? { errorCode: c.errorCode } : {}) },
        }),
      ),
    );
  }
  return changes;
}

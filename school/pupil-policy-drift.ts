import type { AssignedLicence, EffectiveTeamsPolicy, TeamSettings, TeamsPolicyType } from '../graph/graph-types';

/** What kind of setting drifted; the tab counts drift per kind. */
export type DriftKind =
  | 'teams-policy'
  | 'licence-missing'
  | 'plan-enabled'
  | 'group-missing'
  | 'group-not-found'
  | 'account-disabled'
  | 'account-missing'
  | 'team-setting'
  | 'team-missing'
  | 'read-failed';

/** One setting that is not as the school's configuration wants it. `reason` names ids and policy names, never a person. */
export interface Drift {
  kind: DriftKind;
  setting: string;
  expected: string;
  actual: string;
  reason: string;
  /** False when the app must not or cannot repair it (an admin decides). */
  repairable: boolean;
}

/** A Teams policy the pupils must have in force. */
export interface DesiredPolicy {
  type: TeamsPolicyType;
  name: string;
  policyId: string;
}

/** A service plan of the pupil SKU that must stay disabled. */
export interface DesiredPlan {
  id: string;
  name: string;
}

/** A security group a pupil must be a direct member of; `id` is undefined when the tenant has no such group. */
export interface DesiredGroup {
  name: string;
  id: string | undefined;
}

/** The state one pupil must be in. */
export interface DesiredPupilState {
  policies: DesiredPolicy[];
  skuId: string;
  skuPartNumber: string;
  disabledPlans: DesiredPlan[];
  groups: DesiredGroup[];
}

/** What Graph says about one pupil; `exists` false when the account is gone. */
export interface ObservedPupilState {
  exists: boolean;
  accountEnabled: boolean | null;
  licences: AssignedLicence[];
  groupIds: string[];
  /** Undefined when Teams does not know the user yet. */
  effectivePolicies: EffectiveTeamsPolicy[] | undefined;
}

/** Every drift of one pupil, in a stable order (policies, licence, groups, account). */
export function computePupilDrift(desired: DesiredPupilState, observed: ObservedPupilState): Drift[] {
  if (!observed.exists) {
    return [{ kind: 'account-missing', setting: 'account', expected: 'exists', actual: 'not found', reason: 'The register names an account that Entra no longer has.', repairable: false }];
  }
  const drift: Drift[] = [];
  for (const policy of desired.policies) {
    const effective = observed.effectivePolicies?.find((p) => p.policyType.toLowerCase() === policy.type.toLowerCase());
    if (effective && effective.policyId === policy.policyId) continue;
    const actual = effective ? effective.displayName || effective.policyId : 'none';
    const reason = !observed.effectivePolicies
      ? `Teams does not know the account yet, so no ${policy.type} is in force.`
      : !effective
        ? `No ${policy.type} is in force.`
        : effective.assignmentType === 'direct'
          ? `direct assignment of ${policy.type} '${actual}' overrides ${policy.name}`
          : effective.groupId
            ? `group assignment (group ${effective.groupId}) of ${policy.type} '${actual}' is in force instead of ${policy.name}`
            : `${policy.type} '${actual}' (global default) is in force instead of ${policy.name}`;
    drift.push({ kind: 'teams-policy', setting: policy.type, expected: policy.name, actual, reason, repairable: true });
  }
  const licence = observed.licences.find((l) => l.skuId === desired.skuId);
  if (!licence) {
    drift.push({ kind: 'licence-missing', setting: `licence ${desired.skuPartNumber}`, expected: 'assigned', actual: 'not assigned', reason: `The pupil SKU ${desired.skuPartNumber} is not assigned.`, repairable: true });
  } else {
    for (const plan of desired.disabledPlans) {
      if (licence.disabledPlans.includes(plan.id)) continue;
      drift.push({ kind: 'plan-enabled', setting: `plan ${plan.name}`, expected: 'disabled', actual: 'enabled', reason: `${plan.name} plan enabled on ${desired.skuPartNumber}`, repairable: true });
    }
  }
  for (const group of desired.groups) {
    if (group.id === undefined) {
      drift.push({ kind: 'group-not-found', setting: `group ${group.name}`, expected: 'member', actual: 'group does not exist', reason: `The tenant has no security group named '${group.name}'.`, repairable: false });
    } else if (!observed.groupIds.includes(group.id)) {
      drift.push({ kind: 'group-missing', setting: `group ${group.name}`, expected: 'member', actual: 'not a member', reason: `Not a direct member of '${group.name}'.`, repairable: true });
    }
  }
  if (observed.accountEnabled === false) {
    // Not repaired: an admin may have disabled the account on purpose (a leaver, a safeguarding decision).
    drift.push({ kind: 'account-disabled', setting: 'accountEnabled', expected: 'true', actual: 'false', reason: 'The account is disabled; an admin must decide whether to enable it.', repairable: false });
  }
  return drift;
}

/** The licence's disabled plans with every required plan added, or undefined when nothing needs changing. */
export function repairedDisabledPlans(desired: DesiredPupilState, licences: readonly AssignedLicence[]): string[] | undefined {
  const current = licences.find((l) => l.skuId === desired.skuId)?.disabledPlans ?? [];
  const wanted = desired.disabledPlans.map((p) => p.id);
  const hasLicence = licences.some((l) => l.skuId === desired.skuId);
  if (hasLicence && wanted.every((id) => current.includes(id))) return undefined;
  return [...new Set([...current, ...wanted])];
}

type Section = 'memberSettings' | 'messagingSettings' | 'funSettings';

/** One required class-team setting; `ok` decides whether a value complies, `fix` is what a repair writes. */
interface TeamRule {
  section: Section;
  key: string;
  expected: string;
  ok: (settings: TeamSettings) => boolean;
  fix: TeamSettings;
}

function flag(section: Section, key: string): TeamRule {
  return {
    section,
    key,
    expected: 'false',
    ok: (s) => (s[section] as Record<string, unknown> | undefined)?.[key] === false,
    fix: { [section]: { [key]: false } } as TeamSettings,
  };
}

/**
 * The class-team settings (product.md §3): members cannot manage channels or apps, nobody can edit or delete
 * a sent message (the evidence stays), Giphy is off or strict, no custom memes.
 */
export const CLASS_TEAM_RULES: readonly TeamRule[] = [
  flag('memberSettings', 'allowCreateUpdateChannels'),
  flag('memberSettings', 'allowCreatePrivateChannels'),
  flag('memberSettings', 'allowDeleteChannels'),
  flag('memberSettings', 'allowAddRemoveApps'),
  flag('messagingSettings', 'allowUserEditMessages'),
  flag('messagingSettings', 'allowUserDeleteMessages'),
  {
    section: 'funSettings',
    key: 'giphy',
    expected: 'off or strict',
    ok: (s) => s.funSettings?.allowGiphy === false || s.funSettings?.giphyContentRating === 'strict',
    fix: { funSettings: { giphyContentRating: 'strict' } },
  },
  flag('funSettings', 'allowCustomMemes'),
];

/** A class team's drift and the PATCH body that repairs exactly that drift (undefined when compliant). */
export function computeTeamDrift(settings: TeamSettings): { drift: Drift[]; patch: TeamSettings | undefined } {
  const drift: Drift[] = [];
  const patch: Record<string, Record<string, unknown>> = {};
  for (const rule of CLASS_TEAM_RULES) {
    if (rule.ok(settings)) continue;
    const section = (settings[rule.section] ?? {}) as Record<string, unknown>;
    const actual =
      rule.key === 'giphy'
        ? `allowGiphy ${String(section.allowGiphy ?? 'unset')}, rating ${String(section.giphyContentRating ?? 'unset')}`
        : String(section[rule.key] ?? 'unset');
    drift.push({ kind: 'team-setting', setting: `${rule.section}.${rule.key}`, expected: rule.expected, actual, reason: `Class teams need ${rule.section}.${rule.key} ${rule.expected}.`, repairable: true });
    patch[rule.section] = { ...patch[rule.section], ...(rule.fix[rule.section] as Record<string, unknown>) };
  }
  return { drift, patch: drift.length ? (patch as TeamSettings) : undefined };
}

/** Compliance figures: how many are compliant and how many drifts of each kind. */
export interface ComplianceSummary {
  total: number;
  compliant: number;
  /** Share of pupils compliant, 0–1; 1 when there are no pupils. */
  compliantShare: number;
  driftByKind: Partial<Record<DriftKind, number>>;
  teams: { total: number; compliant: number };
}

/** Summarises per-pupil and per-team drift. */
export function summariseCompliance(pupils: readonly { drift: readonly Drift[] }[], teams: readonly { drift: readonly Drift[] }[] = []): ComplianceSummary {
  const driftByKind: Partial<Record<DriftKind, number>> = {};
  for (const item of [...pupils, ...teams]) for (const d of item.drift) driftByKind[d.kind] = (driftByKind[d.kind] ?? 0) + 1;
  const compliant = pupils.filter((p) => p.drift.length === 0).length;
  return {
    total: pupils.length,
    compliant,
    compliantShare: pupils.length === 0 ? 1 : compliant / pupils.length,
    driftByKind,
    teams: { total: teams.length, compliant: teams.filter((t) => t.drift.length === 0).length },
  };
}

/** The cohort group's name for a cohort, from the configured pattern. */
export function cohortGroupName(pattern: string, cohort: string): string {
  return pattern.replace(/\{cohort\}/g, cohort);
}

import {
  auditPupilPolicies,
  EnforcementModeError,
  fixPupilPolicies,
  MissingTeamsPolicyError,
} from '../../../usecases/enforce-pupil-policies';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createEnforcementHarness, mutatingRequests, type EnforcementHarness } from './enforcement-harness';

verifyGraphContractAfterAll();

/** Breaks one thing per pupil (0: direct chat-enabled policy, 1: Exchange on, 2: out of the cohort group) and one team setting. */
async function driftedTenant(): Promise<EnforcementHarness> {
  const h = await createEnforcementHarness({ pupils: 4 });
  const [p0, p1, p2] = h.users;
  h.fake.directPolicyAssignments.set(p0!.id, new Map([['TeamsMessagingPolicy', h.ids.globalMessagingPolicyId]]));
  p1!.assignedLicenses = [{ skuId: h.ids.skuId, disabledPlans: [] }];
  h.fake.groups.get(h.ids.cohortId)!.members.delete(p2!.id);
  h.fake.teams.get(h.ids.classTeamId)!.messagingSettings.allowUserDeleteMessages = true;
  return h;
}

describe('enforcing the pupil safety settings', () => {
  it('audit reports each drift with expected, actual and the reason, and changes nothing', async () => {
    const h = await driftedTenant();

    const report = await auditPupilPolicies(h.deps);

    const byUpn = new Map(report.pupils.map((p) => [p.userPrincipalName, p]));
    expect(byUpn.get('22pupil0@oakfield.example')?.drift).toEqual([
      expect.objectContaining({ kind: 'teams-policy', setting: 'TeamsMessagingPolicy', expected: 'EduStudent-ChatOff', actual: 'Global', reason: "direct assignment of TeamsMessagingPolicy 'Global' overrides EduStudent-ChatOff" }),
    ]);
    expect(byUpn.get('22pupil1@oakfield.example')?.drift).toEqual([
      expect.objectContaining({ kind: 'plan-enabled', setting: 'plan EXCHANGE_S_STANDARD', expected: 'disabled', actual: 'enabled', reason: 'EXCHANGE_S_STANDARD plan enabled on STANDARDWOFFPACK_STUDENT' }),
    ]);
    expect(byUpn.get('22pupil2@oakfield.example')?.drift).toEqual([
      expect.objectContaining({ kind: 'group-missing', setting: 'group Pupils Cohort 22', expected: 'member', actual: 'not a member' }),
    ]);
    expect(byUpn.get('22pupil3@oakfield.example')).toMatchObject({ compliant: true, drift: [] });
    expect(report.teams).toEqual([
      expect.objectContaining({ teamId: h.ids.classTeamId, compliant: false, drift: [expect.objectContaining({ setting: 'messagingSettings.allowUserDeleteMessages', expected: 'false', actual: 'true' })] }),
    ]);
    expect(report.summary).toMatchObject({ total: 4, compliant: 1, compliantShare: 0.25, driftByKind: { 'teams-policy': 1, 'plan-enabled': 1, 'group-missing': 1, 'team-setting': 1 }, teams: { total: 1, compliant: 0 } });
    expect(mutatingRequests(h.fake)).toEqual([]);
  });

  it('fix repairs only what drifted, audits each change, and a second fix makes no mutating call', async () => {
    const h = await driftedTenant();
    const [p0, p1, p2] = h.users;

    const first = await fixPupilPolicies(h.deps);

    expect(first.changes.map((c) => c.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(first.after.summary).toMatchObject({ total: 4, compliant: 4, teams: { total: 1, compliant: 1 } });
    expect(h.fake.directPolicyAssignments.get(p0!.id)?.get('TeamsMessagingPolicy')).toBe(h.ids.messagingPolicyId);
    expect(h.fake.users.get(p1!.id)?.assignedLicenses).toEqual([{ skuId: h.ids.skuId, disabledPlans: [h.ids.exchangePlanId] }]);
    expect(h.fake.groups.get(h.ids.cohortId)!.members.has(p2!.id)).toBe(true);
    expect(h.fake.teams.get(h.ids.classTeamId)!.messagingSettings).toMatchObject({ allowUserDeleteMessages: false, allowUserEditMessages: false });
    const mutations = mutatingRequests(h.fake);
    expect(mutations.map((r) => `${r.method} ${r.url.split('?')[0]}`).sort()).toEqual(
      [
        'POST /admin/teams/policy/userAssignments/assign',
        `POST /users/${p1!.id}/assignLicense`,
        `POST /groups/${h.ids.cohortId}/members/$ref`,
        `PATCH /teams/${h.ids.classTeamId}`,
      ].sort(),
    );
    // Only the drifted setting goes in the PATCH body.
    expect(mutations.find((r) => r.method === 'PATCH')).toMatchObject({ body: { messagingSettings: { allowUserDeleteMessages: false } } });
    const audited = (await h.audit.listAudit(h.deps.schoolId)).filter((a) => a.action === 'enforcement.repair');
    expect(audited.map((a) => a.target).sort()).toEqual([p0!.id, p1!.id, p2!.id, h.ids.classTeamId].sort());
    expect(audited.every((a) => a.actorId === 'test-admin' && a.outcome === 'succeeded')).toBe(true);

    const recordsBefore = h.fake.records.length;
    const second = await fixPupilPolicies(h.deps);
    expect(second.changes).toEqual([]);
    expect(h.fake.records.length).toBeGreaterThan(recordsBefore);
    expect(mutatingRequests(h.fake)).toHaveLength(mutations.length);
  });

  it('a policy assigned through another group is named with the group, and fix assigns the pupil policy directly', async () => {
    const h = await createEnforcementHarness({ pupils: 1 });
    const staffGroup = h.fake.addGroup({ displayName: 'Chatty', members: [h.users[0]!.id] });
    // Earlier in rank order than the pupils' group assignment.
    h.fake.groupPolicyAssignments.unshift({ type: 'TeamsMeetingPolicy', policyId: h.fake.globalPolicies.get('TeamsMeetingPolicy')!, groupId: staffGroup.id });

    const report = await auditPupilPolicies(h.deps);
    expect(report.pupils[0]?.drift).toEqual([
      expect.objectContaining({ setting: 'TeamsMeetingPolicy', actual: 'Global', reason: `group assignment (group ${staffGroup.id}) of TeamsMeetingPolicy 'Global' is in force instead of EduStudent-NoMeetings` }),
    ]);
    const fixed = await fixPupilPolicies(h.deps);
    expect(fixed.after.summary.compliant).toBe(1);
  });

  it('when a named Teams policy is missing, it stops before reading any pupil and names the policy and its settings', async () => {
    const h = await createEnforcementHarness({ pupils: 1 });
    h.fake.teamsPolicies.splice(h.fake.teamsPolicies.findIndex((p) => p.name === 'EduStudent-NoMeetings'), 1);

    const error = await fixPupilPolicies(h.deps).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MissingTeamsPolicyError);
    expect((error as MissingTeamsPolicyError).missing).toEqual([{ type: 'TeamsMeetingPolicy', name: 'EduStudent-NoMeetings' }]);
    expect((error as Error).message).toContain('Meetings > Meeting policies');
    expect((error as Error).message).toContain('Recording (cloud recording): Off');
    expect(h.fake.innerRequests().every((r) => r.url.startsWith('/admin/teams/policy/getPolicyId'))).toBe(true);
  });

  it('a disabled account is reported for an admin to decide, not re-enabled', async () => {
    const h = await createEnforcementHarness({ pupils: 1 });
    h.users[0]!.accountEnabled = false;

    const fixed = await fixPupilPolicies(h.deps);

    expect(fixed.after.pupils[0]?.drift).toEqual([expect.objectContaining({ kind: 'account-disabled', repairable: false })]);
    expect(fixed.changes).toEqual([]);
    expect(h.users[0]!.accountEnabled).toBe(false);
  });

  it('configured class team ids are audited even when no pupil is a member, and a missing one is reported', async () => {
    const h = await createEnforcementHarness({ pupils: 1 });
    const other = h.fake.addTeam({ displayName: 'Year 6' });
    h.deps.config = { ...h.deps.config, enforcement: { auditTime: '02:00', classTeamIds: [other.id, '00000000-0000-4000-8000-00000000dead'] } };

    const report = await auditPupilPolicies(h.deps);

    expect(report.teams.map((t) => [t.teamId, t.compliant, t.drift.length])).toEqual([
      [other.id, false, 8],
      ['00000000-0000-4000-8000-00000000dead', false, 1],
    ]);
  });

  it('in plan mode (no gateway) it refuses clearly', async () => {
    const h = await createEnforcementHarness({ pupils: 1 });
    await expect(auditPupilPolicies({ ...h.deps, graph: undefined })).rejects.toBeInstanceOf(EnforcementModeError);
    expect(mutatingRequests(h.fake)).toEqual([]);
  });
});

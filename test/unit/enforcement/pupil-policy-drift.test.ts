import type { TeamSettings } from '../../../graph/graph-types';
import {
  computePupilDrift,
  computeTeamDrift,
  repairedDisabledPlans,
  summariseCompliance,
  type DesiredPupilState,
  type ObservedPupilState,
} from '../../../school/pupil-policy-drift';

const desired: DesiredPupilState = {
  policies: [
    { type: 'TeamsMessagingPolicy', name: 'EduStudent-ChatOff', policyId: 'msg-pupil' },
    { type: 'TeamsMeetingPolicy', name: 'EduStudent-NoMeetings', policyId: 'meet-pupil' },
  ],
  skuId: 'sku',
  skuPartNumber: 'STANDARDWOFFPACK_STUDENT',
  disabledPlans: [{ id: 'exo', name: 'EXCHANGE_S_STANDARD' }],
  groups: [
    { name: 'All Pupils', id: 'g-all' },
    { name: 'Pupils Cohort 22', id: 'g-22' },
  ],
};

const compliant: ObservedPupilState = {
  exists: true,
  accountEnabled: true,
  licences: [{ skuId: 'sku', disabledPlans: ['exo'] }],
  groupIds: ['g-all', 'g-22', 'team-4b'],
  effectivePolicies: [
    { policyType: 'TeamsMessagingPolicy', policyId: 'msg-pupil', displayName: 'EduStudent-ChatOff', assignmentType: 'group', groupId: 'g-all' },
    { policyType: 'TeamsMeetingPolicy', policyId: 'meet-pupil', displayName: 'EduStudent-NoMeetings', assignmentType: 'direct', groupId: null },
  ],
};

describe('computePupilDrift', () => {
  const cases: [string, Partial<ObservedPupilState>, { kind: string; setting: string; expected: string; actual: string; reason?: string }[]][] = [
    ['a compliant pupil has no drift', {}, []],
    [
      'a direct chat-enabled policy overrides the pupil policy',
      { effectivePolicies: [{ ...compliant.effectivePolicies![0]!, policyId: 'msg-global', displayName: 'Global', assignmentType: 'direct', groupId: null }, compliant.effectivePolicies![1]!] },
      [{ kind: 'teams-policy', setting: 'TeamsMessagingPolicy', expected: 'EduStudent-ChatOff', actual: 'Global', reason: "direct assignment of TeamsMessagingPolicy 'Global' overrides EduStudent-ChatOff" }],
    ],
    [
      'the global default in force is named as such',
      { effectivePolicies: [compliant.effectivePolicies![0]!, { policyType: 'TeamsMeetingPolicy', policyId: 'g', displayName: 'Global', assignmentType: 'group', groupId: null }] },
      [{ kind: 'teams-policy', setting: 'TeamsMeetingPolicy', expected: 'EduStudent-NoMeetings', actual: 'Global', reason: "TeamsMeetingPolicy 'Global' (global default) is in force instead of EduStudent-NoMeetings" }],
    ],
    [
      'Teams not knowing the user yet means both policies drift',
      { effectivePolicies: undefined },
      [
        { kind: 'teams-policy', setting: 'TeamsMessagingPolicy', expected: 'EduStudent-ChatOff', actual: 'none' },
        { kind: 'teams-policy', setting: 'TeamsMeetingPolicy', expected: 'EduStudent-NoMeetings', actual: 'none' },
      ],
    ],
    ['Exchange re-enabled', { licences: [{ skuId: 'sku', disabledPlans: [] }] }, [{ kind: 'plan-enabled', setting: 'plan EXCHANGE_S_STANDARD', expected: 'disabled', actual: 'enabled', reason: 'EXCHANGE_S_STANDARD plan enabled on STANDARDWOFFPACK_STUDENT' }]],
    ['no pupil licence', { licences: [{ skuId: 'other', disabledPlans: [] }] }, [{ kind: 'licence-missing', setting: 'licence STANDARDWOFFPACK_STUDENT', expected: 'assigned', actual: 'not assigned' }]],
    ['missing from the cohort group', { groupIds: ['g-all'] }, [{ kind: 'group-missing', setting: 'group Pupils Cohort 22', expected: 'member', actual: 'not a member' }]],
    ['a disabled account', { accountEnabled: false }, [{ kind: 'account-disabled', setting: 'accountEnabled', expected: 'true', actual: 'false' }]],
    ['an account Entra no longer has', { exists: false }, [{ kind: 'account-missing', setting: 'account', expected: 'exists', actual: 'not found' }]],
  ];

  it.each(cases)('%s', (_name, change, expected) => {
    expect(computePupilDrift(desired, { ...compliant, ...change })).toEqual(expected.map((e) => expect.objectContaining(e)));
  });

  it('a group the tenant lacks is reported, not repairable', () => {
    const drift = computePupilDrift({ ...desired, groups: [{ name: 'Pupils Cohort 23', id: undefined }] }, compliant);
    expect(drift).toEqual([expect.objectContaining({ kind: 'group-not-found', repairable: false })]);
  });
});

describe('repairedDisabledPlans', () => {
  it.each([
    ['keeps other disabled plans and adds the missing one', [{ skuId: 'sku', disabledPlans: ['sway'] }], ['sway', 'exo']],
    ['assigns with the plans disabled when the licence is missing', [], ['exo']],
    ['changes nothing when already disabled', [{ skuId: 'sku', disabledPlans: ['exo', 'sway'] }], undefined],
  ] as const)('%s', (_name, licences, expected) => {
    expect(repairedDisabledPlans(desired, licences.map((l) => ({ ...l, disabledPlans: [...l.disabledPlans] })))).toEqual(expected);
  });
});

describe('computeTeamDrift', () => {
  const good: TeamSettings = {
    memberSettings: { allowCreateUpdateChannels: false, allowCreatePrivateChannels: false, allowDeleteChannels: false, allowAddRemoveApps: false },
    messagingSettings: { allowUserEditMessages: false, allowUserDeleteMessages: false },
    funSettings: { allowGiphy: true, giphyContentRating: 'strict', allowCustomMemes: false },
  };

  it.each<[string, TeamSettings, string[], TeamSettings | undefined]>([
    ['a compliant team', good, [], undefined],
    ['Giphy off counts as compliant whatever the rating', { ...good, funSettings: { allowGiphy: false, giphyContentRating: 'moderate', allowCustomMemes: false } }, [], undefined],
    ['message deletion allowed', { ...good, messagingSettings: { allowUserEditMessages: false, allowUserDeleteMessages: true } }, ['messagingSettings.allowUserDeleteMessages'], { messagingSettings: { allowUserDeleteMessages: false } }],
    ['moderate Giphy and custom memes', { ...good, funSettings: { allowGiphy: true, giphyContentRating: 'moderate', allowCustomMemes: true } }, ['funSettings.giphy', 'funSettings.allowCustomMemes'], { funSettings: { giphyContentRating: 'strict', allowCustomMemes: false } }],
    ['members may add apps', { ...good, memberSettings: { ...good.memberSettings, allowAddRemoveApps: true } }, ['memberSettings.allowAddRemoveApps'], { memberSettings: { allowAddRemoveApps: false } }],
    ['settings Graph did not return count as drift', {}, ['memberSettings.allowCreateUpdateChannels', 'memberSettings.allowCreatePrivateChannels', 'memberSettings.allowDeleteChannels', 'memberSettings.allowAddRemoveApps', 'messagingSettings.allowUserEditMessages', 'messagingSettings.allowUserDeleteMessages', 'funSettings.giphy', 'funSettings.allowCustomMemes'], expect.anything()],
  ])('%s', (_name, settings, drifted, patch) => {
    const result = computeTeamDrift(settings);
    expect(result.drift.map((d) => d.setting)).toEqual(drifted);
    expect(result.patch).toEqual(patch);
  });
});

describe('summariseCompliance', () => {
  it('counts compliant pupils, the share, and drift per kind', () => {
    const drift = (kind: 'plan-enabled' | 'team-setting') => ({ kind, setting: '', expected: '', actual: '', reason: '', repairable: true });
    expect(summariseCompliance([{ drift: [] }, { drift: [drift('plan-enabled')] }, { drift: [] }, { drift: [] }], [{ drift: [drift('team-setting')] }])).toEqual({
      total: 4,
      compliant: 3,
      compliantShare: 0.75,
      driftByKind: { 'plan-enabled': 1, 'team-setting': 1 },
      teams: { total: 1, compliant: 0 },
    });
    expect(summariseCompliance([])).toMatchObject({ total: 0, compliantShare: 1 });
  });
});

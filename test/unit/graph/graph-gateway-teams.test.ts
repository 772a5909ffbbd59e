import type { GraphServiceError } from '../../../graph/graph-errors';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

useOfflineNetwork();
verifyGraphContractAfterAll();
describe('GraphGateway Teams policies', () => {
  it('resolves policy ids by type and name, and a policy Teams does not have is undefined', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { messagingPolicyId, meetingPolicyId } = fake.seedSchool();
    const { gateway } = createGatewayForFake();

    const results = await gateway.getTeamsPolicyIds([
      { type: 'TeamsMessagingPolicy', name: 'EduStudent-ChatOff' },
      { type: 'TeamsMeetingPolicy', name: 'EduStudent-NoMeetings' },
      { type: 'TeamsMessagingPolicy', name: 'Not Created Yet' },
    ]);

    expect(results).toEqual([
      { ok: true, value: messagingPolicyId },
      { ok: true, value: meetingPolicyId },
      { ok: true, value: undefined },
    ]);
    expect(fake.innerRequests()[2]?.url).toBe("/admin/teams/policy/getPolicyId(type='TeamsMessagingPolicy',name='Not%20Created%20Yet')");
  });

  it('when Graph answers an unknown policy with an empty collection, the policy is undefined too', async () => {
    const fake = new GraphFake({ policyNotFound: 'emptyCollection' });
    fake.intercept();
    const { gateway } = createGatewayForFake();

    await expect(gateway.getTeamsPolicyId({ type: 'TeamsMeetingPolicy', name: 'Head Teacher Policy' })).resolves.toBeUndefined();
    expect(fake.innerRequests()[0]?.url).toBe("/admin/teams/policy/getPolicyId(type='TeamsMeetingPolicy',name='Head%20Teacher%20Policy')");
  });

  it('assigns policies directly to users with the documented body, many users per call', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { messagingPolicyId } = fake.seedSchool();
    const users = Array.from({ length: 3 }, (_, i) => fake.addUser({ userPrincipalName: `p${i}@school.example` }));
    const { gateway } = createGatewayForFake();

    const results = await gateway.assignTeamsPolicies(users.map((u) => ({ userId: u.id, policyType: 'TeamsMessagingPolicy', policyId: messagingPolicyId })));

    expect(results.every((r) => r.ok)).toBe(true);
    const [call] = fake.innerRequests();
    expect(call).toMatchObject({ method: 'POST', url: '/admin/teams/policy/userAssignments/assign' });
    expect((call?.body as { value: unknown[] }).value[0]).toEqual({
      '@odata.type': '#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment',
      userId: users[0]?.id,
      policyType: 'TeamsMessagingPolicy',
      policyId: messagingPolicyId,
    });
    expect(fake.directPolicyAssignments.get(users[2]?.id as string)?.get('TeamsMessagingPolicy')).toBe(messagingPolicyId);
  });

  it('when a call for many users fails, sends them one by one so only the culprit fails', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { meetingPolicyId } = fake.seedSchool();
    const known = fake.addUser({ userPrincipalName: 'known@school.example' });
    const { gateway } = createGatewayForFake();

    const [ok, unknown] = await gateway.assignTeamsPolicies([
      { userId: known.id, policyType: 'TeamsMeetingPolicy', policyId: meetingPolicyId },
      { userId: '00000000-0000-4000-8000-000000000000', policyType: 'TeamsMeetingPolicy', policyId: meetingPolicyId },
    ]);

    expect(ok).toEqual({ ok: true, value: undefined });
    expect((unknown as { error: GraphServiceError }).error).toMatchObject({ status: 404, kind: 'notFound' });
    expect(fake.batchSizes).toEqual([1, 2]);
  });

  it("reads each user's effective policies, unwrapping Graph's `value` envelope; an unknown user is undefined", async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { messagingPolicyId } = fake.seedSchool();
    const pupil = fake.addUser({ userPrincipalName: 'p@school.example' });
    fake.directPolicyAssignments.set(pupil.id, new Map([['TeamsMessagingPolicy', messagingPolicyId]]));
    const { gateway } = createGatewayForFake();

    const [config, missing] = await gateway.getTeamsUserConfigurations([pupil.id, '00000000-0000-4000-8000-000000000000']);

    expect(config).toEqual({
      ok: true,
      value: {
        userId: pupil.id,
        userPrincipalName: 'p@school.example',
        effectivePolicies: expect.arrayContaining([
          { policyType: 'TeamsMessagingPolicy', policyId: messagingPolicyId, displayName: 'EduStudent-ChatOff', assignmentType: 'direct', groupId: null },
          expect.objectContaining({ policyType: 'TeamsMeetingPolicy', displayName: 'Global' }),
        ]),
      },
    });
    expect(missing).toEqual({ ok: true, value: undefined });
  });
});

describe('GraphGateway teams and meetings', () => {
  it('reads and locks down class team settings', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const team = fake.addTeam({ displayName: 'Class 3B' });
    const { gateway } = createGatewayForFake();

    const [before] = await gateway.getTeams([team.id]);
    const [updated] = await gateway.updateTeams([
      {
        teamId: team.id,
        settings: {
          memberSettings: { allowCreateUpdateChannels: false, allowDeleteChannels: false, allowAddRemoveApps: false },
          messagingSettings: { allowUserEditMessages: false, allowUserDeleteMessages: false },
          funSettings: { allowGiphy: true, giphyContentRating: 'strict', allowCustomMemes: false },
        },
      },
    ]);

    expect(before?.ok && before.value?.funSettings).toMatchObject({ giphyContentRating: 'moderate' });
    expect(updated).toEqual({ ok: true, value: undefined });
    expect(team.memberSettings).toMatchObject({ allowCreateUpdateChannels: false, allowDeleteChannels: false, allowAddRemoveApps: false });
    expect(team.funSettings).toMatchObject({ giphyContentRating: 'strict', allowCustomMemes: false });
    expect(await gateway.getTeams(['00000000-0000-4000-8000-000000000000'])).toEqual([{ ok: true, value: undefined }]);
  });

  it('creates a class meeting with safe options on the organiser', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const teacher = fake.addUser({ userPrincipalName: 'teacher@school.example' });
    const { gateway } = createGatewayForFake();

    const [meeting] = await gateway.createOnlineMeetings([
      {
        organizerId: teacher.id,
        meeting: {
          subject: 'Class 3B catch-up',
          startDateTime: '2026-09-07T09:00:00Z',
          endDateTime: '2026-09-07T09:30:00Z',
          allowedPresenters: 'organizer',
          lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: false },
          allowMeetingChat: 'disabled',
          allowAttendeeToEnableCamera: true,
          allowRecording: false,
          allowTranscription: false,
          recordAutomatically: false,
        },
      },
    ]);

    expect(meeting?.ok && meeting.value).toMatchObject({ subject: 'Class 3B catch-up', joinWebUrl: expect.stringMatching(/^https:\/\/teams\.microsoft\.com\//) });
    expect(fake.meetings[0]?.organizerId).toBe(teacher.id);
  });
});

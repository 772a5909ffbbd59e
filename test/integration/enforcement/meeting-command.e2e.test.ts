import { enforcementFeature } from '../../../app/enforcement-feature';
import { checkGraphContract, verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake } from '../../support/graph-fake';
import { messageActivity, newUser, type TeamsUser } from '../../support/teams-activities';
import { startTestApp, type TestApp } from '../../support/test-app';

verifyGraphContractAfterAll();

const teacher = newUser('Test Teacher');
const pupil = newUser('Test Pupil');
const NOW = new Date('2026-11-23T09:00:00Z');

async function say(app: TestApp, user: TeamsUser, text: string): Promise<string> {
  const before = app.connector.sent.length;
  expect((await app.post(messageActivity(user, text, app.connector.serviceUrl))).status).toBe(200);
  const reply = await app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before && typeof s.activity.text === 'string');
  return reply.activity.text as string;
}

describe('/meeting over the Bot Framework protocol', () => {
  let app: TestApp;
  let fake: GraphFake;

  beforeAll(async () => {
    const { gateway } = createGatewayForFake();
    app = await startTestApp({
      roles: { staff: [teacher], pupil: [pupil] },
      overrides: { clock: () => NOW, graph: gateway, features: [enforcementFeature] },
    });
  });

  beforeEach(() => {
    fake = new GraphFake();
    fake.addUser({ id: teacher.aadObjectId, userPrincipalName: 'teacher@oakfield.example' });
    fake.intercept();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('a teacher gets a join link to a meeting created with the safe class settings, organised by them', async () => {
    const text = await say(app, teacher, '/meeting Year 4 catch-up tomorrow 14:00 for 45 min');

    expect(fake.meetings).toHaveLength(1);
    const meeting = fake.meetings[0]!;
    expect(meeting.organizerId).toBe(teacher.aadObjectId);
    expect(meeting.body).toEqual({
      subject: 'Year 4 catch-up',
      startDateTime: '2026-11-24T14:00:00.000Z',
      endDateTime: '2026-11-24T14:45:00.000Z',
      allowedPresenters: 'organizer',
      lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: false },
      allowMeetingChat: 'disabled',
      allowAttendeeToEnableCamera: true,
      allowAttendeeToEnableMic: true,
      allowRecording: false,
      allowTranscription: false,
      recordAutomatically: false,
      allowParticipantsToChangeName: false,
    });
    expect(text).toContain(`Join link: https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(meeting.id)}`);
    expect(text).toContain('Tue 24 Nov 2026, 14:00 (45 min)');
    const contract = await checkGraphContract(fake.records);
    expect(contract.errors).toEqual([]);
  });

  it('a pupil cannot create a meeting, and nothing reaches Graph', async () => {
    const text = await say(app, pupil, '/meeting Secret club at 15:00');
    expect(text).toBe('Only members of staff can create class meetings here.');
    expect(fake.records).toEqual([]);
  });

  it('a time it cannot read gets the syntax back, and nothing reaches Graph', async () => {
    const text = await say(app, teacher, '/meeting Year 4');
    expect(text).toContain('I could not find a time');
    expect(text).toContain('/meeting Year 4 catch-up tomorrow 14:00');
    expect(fake.records).toEqual([]);
  });

  it('when Graph refuses with 403 (no application access policy), the teacher is told the meeting was not created', async () => {
    fake.failNext({ url: /onlineMeetings/, status: 403, code: 'Forbidden' } as Parameters<GraphFake['failNext']>[0]);
    const text = await say(app, teacher, '/meeting Phonics at 9:30am tomorrow');
    expect(text).toContain('NOT created');
    expect(text).toContain('application access policy');
    expect(fake.meetings).toHaveLength(0);
  });
});

describe('/meeting in plan mode', () => {
  it('says clearly that meetings need a tenant', async () => {
    const app = await startTestApp({ roles: { staff: [teacher] }, overrides: { clock: () => NOW, features: [enforcementFeature] } });
    try {
      const text = await say(app, teacher, '/meeting Year 4 catch-up tomorrow 14:00');
      expect(text).toContain('Class meetings need a Microsoft 365 tenant');
      expect(text).toContain('plan mode');
    } finally {
      await app.close();
    }
  });
});

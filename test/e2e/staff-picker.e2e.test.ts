import { messageActivity, newUser, type TeamsUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';

const teacher = newUser('Teacher');
const dsl = newUser('Dsl');
const head = newUser('Head');
const governor = newUser('Governor');

type SearchBody = { statusCode: number; type: string; value: { results?: { title: string; value: string }[] } };

describe('the report card’s staff picker (subjectStaff), through the Bot Framework protocol', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ roles: { staff: [teacher, dsl, head], dsl: [dsl], headteacher: [head], governor: [governor] } });
  });

  afterAll(async () => {
    await app?.close();
  });

  async function search(user: TeamsUser, queryText: string): Promise<{ status: number; body: SearchBody }> {
    const activity = { ...messageActivity(user, '', app.connector.serviceUrl), type: 'invoke', name: 'application/search', text: undefined, value: { queryText, queryOptions: { skip: 0, top: 15 }, dataset: 'staff' } };
    const response = await app.post(activity);
    return { status: response.status, body: response.body as SearchBody };
  }

  it('puts the staff picker on the /report card, searching the staff dataset as the user types', async () => {
    const before = app.connector.sent.length;
    await app.post(messageActivity(teacher, '/report', app.connector.serviceUrl));
    const reply = await app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before && s.activity.attachments !== undefined);
    const json = JSON.stringify(reply.activity.attachments![0]!.content);
    expect(json).toContain('"id":"subjectStaff"');
    expect(json).toContain('"choices.data":{"type":"Data.Query","dataset":"staff"}');
  });

  it('finds staff by name for staff, submitting their object id, and audits the search without its text', async () => {
    const { body } = await search(teacher, 'safeguarding');
    expect(body.type).toBe('application/vnd.microsoft.search.searchResponse');
    expect(body.value.results).toEqual([{ title: expect.stringMatching(/^Designated Safeguarding Lead/), value: dsl.aadObjectId }]);
    const audit = await app.services.report.audit.listAudit(app.schoolId, { action: 'staff.search' });
    expect(audit.at(-1)).toMatchObject({ actorId: teacher.aadObjectId, outcome: 'succeeded' });
    expect(JSON.stringify(audit)).not.toContain('safeguarding');
  });

  it('gives a governor nothing', async () => {
    const { body } = await search(governor, 'head');
    expect(body.type).toBe('application/vnd.microsoft.error');
    expect(body.value.results).toBeUndefined();
  });
});

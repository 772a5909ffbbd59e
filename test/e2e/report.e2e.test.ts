import { PupilRegisterStore } from '../../records/pupil-register-store';
import { startTestApp, type TestApp } from '../support/test-app';
import { cardActionInvoke, installActivity, messageActionInvoke, messageActivity, newUser } from '../support/teams-activities';

const teacher = newUser('Test Teacher');
const coordinator = newUser('Test Coordinator');
const dsl = newUser('Test DSL');
const head = newUser('Test Head');
const chair = newUser('Test Chair');
const governor = newUser('Test Governor');

const validForm = {
  occurredOn: '2026-11-20',
  occurredAt: '10:15',
  involved: 'pupil-unlisted',
  location: 'ICT suite, PC 4',
  incidentType: 'inappropriate-website',
  description: 'A pupil opened a video site with a violent clip during a lesson.',
  actionTaken: 'Closed the tab and spoke to the pupil.',
  childProtection: 'false',
};

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> | string };

function cardText(card: unknown): string {
  return JSON.stringify(card);
}

describe('/report over the Bot Framework protocol', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      roles: { staff: [teacher, coordinator, dsl, head], coordinator: [coordinator], dsl: [dsl], headteacher: [head], chair: [chair], governor: [governor] },
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z') },
    });
    // The coordinator and the DSL have talked to the bot before, so alerts can reach them at once.
    for (const user of [coordinator, dsl]) {
      expect((await app.post(installActivity(user, app.connector.serviceUrl))).status).toBe(200);
    }
  });

  afterAll(async () => {
    await app?.close();
  });

  async function openReportCard(user = teacher): Promise<{ submissionId: string; card: Record<string, unknown> }> {
    const before = app.connector.sent.length;
    const response = await app.post(messageActivity(user, '/report', app.connector.serviceUrl));
    expect(response.status).toBe(200);
    const reply = await app.connector.waitFor((s, i = app.connector.sent.indexOf(s)) => i >= before && s.activity.attachments !== undefined);
    const card = reply.activity.attachments![0]!.content as Record<string, unknown>;
    const actions = card.actions as { verb: string; data: { submissionId: string } }[];
    return { submissionId: actions[0]!.data.submissionId, card };
  }

  async function submit(user: typeof teacher, data: Record<string, unknown>): Promise<InvokeBody> {
    const response = await app.post(cardActionInvoke(user, 'submitIncident', data, app.connector.serviceUrl));
    expect(response.status).toBe(200);
    return response.body as InvokeBody;
  }

  it('when a teacher sends /report, replies with the concern card and its stable input ids', async () => {
    const { card, submissionId } = await openReportCard();
    expect(card.version).toBe('1.5');
    expect(submissionId).toMatch(/^[0-9a-f-]{36}$/);
    const text = cardText(card);
    for (const id of ['occurredOn', 'occurredAt', 'involved', 'location', 'incidentType', 'description', 'actionTaken', 'childProtection']) {
      expect(text).toContain(`"id":"${id}"`);
    }
    expect(text).toContain('"verb":"submitIncident"');
  });

  it('when a good report is submitted, stores it and answers with a reference and the suggested actions', async () => {
    const { submissionId } = await openReportCard();
    const body = await submit(teacher, { ...validForm, submissionId });
    expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
    const text = cardText(body.value);
    const reference = /ES-2026-\d{4,}/.exec(text)?.[0];
    expect(reference).toBeDefined();
    expect(text).toContain('Refer to technical support');
    const stored = await app.services.report.incidents.getIncident(app.schoolId, reference!);
    expect(stored).toMatchObject({ type: 'inappropriate-website', status: 'open', reporterId: teacher.aadObjectId, audience: 'standard' });
  });

  it('when the same card is submitted twice, returns the same reference and stores one incident', async () => {
    const { submissionId } = await openReportCard();
    const first = cardText((await submit(teacher, { ...validForm, submissionId })).value);
    const second = cardText((await submit(teacher, { ...validForm, submissionId })).value);
    const reference = /ES-2026-\d{4,}/.exec(first)![0];
    expect(/ES-2026-\d{4,}/.exec(second)![0]).toBe(reference);
    const mine = await app.services.report.incidents.listIncidentsByReporter(app.schoolId, teacher.aadObjectId);
    expect(mine.filter((i) => i.submissionId === submissionId)).toHaveLength(1);
  });

  it('when a submission is invalid, returns the same card with each problem shown and the typed values kept', async () => {
    const { submissionId } = await openReportCard();
    const body = await submit(teacher, { ...validForm, occurredOn: '2026-12-25', incidentType: 'made-up', description: 'short', submissionId });
    const text = cardText(body.value);
    expect(text).toContain('cannot be in the future');
    expect(text).toContain('Choose one of the listed types');
    expect(text).toContain('Describe what happened');
    expect(text).toContain('ICT suite, PC 4');
    expect(text).toContain(submissionId);
    expect(await app.services.report.incidents.findReferenceForSubmission(app.schoolId, submissionId)).toBeUndefined();
  });

  it('when illegal content is reported, shows the stop-preserve-isolate-refer guidance and alerts the DSL at once, naming no content', async () => {
    const { submissionId } = await openReportCard();
    const body = await submit(teacher, { ...validForm, incidentType: 'illegal-content', description: 'Planted-secret-description about an image on a tablet.', submissionId });
    const text = cardText(body.value);
    expect(text).toContain('stop, preserve, isolate, refer');
    const reference = /ES-2026-\d{4,}/.exec(text)![0];
    const alert = await app.connector.waitFor((s) => s.conversationId === `a:personal-${dsl.aadObjectId}` && String(s.activity.text).includes(reference));
    expect(alert.activity.text).toContain('URGENT');
    expect(alert.activity.text).toContain('Illegal content');
    expect(alert.activity.text).not.toContain('Planted-secret-description');
    await app.connector.waitFor((s) => s.conversationId === `a:personal-${coordinator.aadObjectId}` && String(s.activity.text).includes(reference));
    expect(app.logLines.join('\n')).not.toContain('Planted-secret-description');
  });

  it('when a concern is about the headteacher, only the chair is alerted, and the alert waits until the chair talks to the bot', async () => {
    const { submissionId } = await openReportCard();
    const body = await submit(teacher, { ...validForm, involved: 'headteacher', incidentType: 'inappropriate-communication', submissionId });
    const reference = /ES-2026-\d{4,}/.exec(cardText(body.value))![0];
    // The reporting instance tries the alert at once (claimed as it is written), finds no way to reach the chair and hands it back.
    let alerts = await app.services.report.incidents.listAlertsForIncident(app.schoolId, reference);
    for (let i = 0; i < 50 && alerts[0]?.status === 'sending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      alerts = await app.services.report.incidents.listAlertsForIncident(app.schoolId, reference);
    }
    expect(alerts.map((a) => [a.recipientId, a.status])).toEqual([[chair.aadObjectId, 'pending']]);
    // The chair has never talked to the bot; the first message delivers what was waiting.
    await app.post(messageActivity(chair, 'hello', app.connector.serviceUrl));
    await app.connector.waitFor((s) => s.conversationId === `a:personal-${chair.aadObjectId}` && String(s.activity.text).includes(reference));
    const after = await app.services.report.incidents.listAlertsForIncident(app.schoolId, reference);
    expect(after[0]!.status).toBe('delivered');
  });

  it('when the DSL reports a child-protection concern, the card names only the people actually alerted, not the reporter', async () => {
    const { submissionId } = await openReportCard(dsl);
    const body = await submit(dsl, { ...validForm, childProtection: 'true', submissionId });
    const facts = ((body.value as { body: { type: string; facts?: { title: string; value: string }[] }[] }).body.find((b) => b.type === 'FactSet')!).facts!;
    expect(facts.find((f) => f.title === 'Alerted')?.value).toBe('the e-safety coordinator');
  });

  it('when a governor tries to submit a report card, refuses on the server', async () => {
    const body = await submit(governor, { ...validForm, submissionId: 'ffffffff-0000-4000-8000-000000000000' });
    expect(body.type).toBe('application/vnd.microsoft.activity.message');
    expect(String(body.value)).toContain('Only members of staff');
    expect(await app.services.report.incidents.findReferenceForSubmission(app.schoolId, 'ffffffff-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('when a teacher sends /myreports, lists only their own reports', async () => {
    const { submissionId } = await openReportCard(coordinator);
    const coordinatorReference = /ES-2026-\d{4,}/.exec(cardText((await submit(coordinator, { ...validForm, submissionId })).value))![0];
    const before = app.connector.sent.length;
    await app.post(messageActivity(teacher, '/myreports', app.connector.serviceUrl));
    const reply = await app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before && s.activity.attachments !== undefined);
    const text = cardText(reply.activity.attachments![0]!.content);
    expect(text).toMatch(/ES-2026-\d{4}/);
    expect(text).not.toContain(coordinatorReference);
  });

  it('audits every read and write of an incident', async () => {
    const { submissionId } = await openReportCard();
    const body = await submit(teacher, { ...validForm, submissionId });
    const reference = /ES-2026-\d{4,}/.exec(cardText(body.value))![0];
    const audit = await app.services.report.audit.listAudit(app.schoolId, { target: reference });
    expect(audit.map((a) => `${a.action}:${a.outcome}`)).toEqual(['incident.create:succeeded']);
    expect(audit.every((a) => a.actorId === teacher.aadObjectId)).toBe(true);
  });

  it('when a teacher uses "Report this message", opens the card filled in from the message and records it from the dialog', async () => {
    const messagePayload = {
      id: '1700000000000',
      createdDateTime: '2026-11-22T14:05:00.000Z',
      linkToMessage: 'https://teams.microsoft.com/l/message/19:abc/1700000000000',
      body: { contentType: 'html', content: '<p>You&#39;re useless &amp; nobody likes you</p>' },
    };
    const opened = await app.post(messageActionInvoke(teacher, 'composeExtension/fetchTask', { commandId: 'reportMessage', messagePayload }, app.connector.serviceUrl));
    expect(opened.status).toBe(200);
    const task = (opened.body as { task: { type: string; value: { card: { content: Record<string, unknown> } } } }).task;
    expect(task.type).toBe('continue');
    const card = task.value.card.content;
    const text = cardText(card);
    expect(text).toContain("You're useless & nobody likes you");
    expect(text).toContain('"occurredOn"');
    expect(text).toContain('2026-11-22');
    expect(text).toContain('"type":"Action.Submit"');
    const submissionId = ((card.actions as { data: { submissionId: string } }[])[0]!).data.submissionId;

    const submitted = await app.post(
      messageActionInvoke(teacher, 'composeExtension/submitAction', { commandId: 'reportMessage', data: { ...validForm, incidentType: 'cyberbullying', submissionId } }, app.connector.serviceUrl),
    );
    const result = cardText((submitted.body as { task: { value: { card: { content: unknown } } } }).task.value.card.content);
    const reference = /ES-2026-\d{4,}/.exec(result)![0];
    expect((await app.services.report.incidents.getIncident(app.schoolId, reference))?.type).toBe('cyberbullying');
  });

  it('when a governor uses "Report this message", refuses before showing the form', async () => {
    const opened = await app.post(messageActionInvoke(governor, 'composeExtension/fetchTask', { commandId: 'reportMessage', messagePayload: { body: { content: 'x' } } }, app.connector.serviceUrl));
    expect((opened.body as { task: { type: string; value: string } }).task).toEqual({ type: 'message', value: expect.stringContaining('Only members of staff') });
  });

  it('when the pupil register has pupils, the card offers them and the incident keeps only their id and year group', async () => {
    const register = new PupilRegisterStore(app.services.tables);
    const now = new Date().toISOString();
    await register.savePupils(app.schoolId, [
      { externalId: 'A999000000001', forename: 'Planted', surname: 'Pupilname', yearGroup: '4', registrationGroup: '4B', cohort: '21', userPrincipalName: '21plantedp@school.example', status: 'active', groups: [], createdAt: now, updatedAt: now },
    ]);
    const { card, submissionId } = await openReportCard();
    expect(cardText(card)).toContain('"value":"pupil:A999000000001"');
    expect(cardText(card)).toContain('Planted Pupilname (4B)');
    const body = await submit(teacher, { ...validForm, involved: 'pupil:A999000000001', submissionId });
    const reference = /ES-2026-\d{4,}/.exec(cardText(body.value))![0];
    const stored = await app.services.report.incidents.getIncident(app.schoolId, reference);
    expect(stored?.involved).toEqual([{ kind: 'pupil', pupilId: 'A999000000001' }]);
    expect(stored?.yearGroups).toEqual(['4']);
    expect(JSON.stringify(stored)).not.toContain('Pupilname');
    expect(app.logLines.join('\n')).not.toContain('Pupilname');
  });

  it('reports storage as reachable on /healthz', async () => {
    const response = await fetch(`${app.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', storage: 'reachable' });
  });
});

import { PupilRegisterStore } from '../../records/pupil-register-store';
import { startTestApp, type TestApp } from '../support/test-app';
import { cardActionInvoke, installActivity, messageActionInvoke, messageActivity, newUser, type TeamsUser } from '../support/teams-activities';

const teacher = newUser('Test Teacher');
const coordinator = newUser('Test Coordinator');
const dsl = newUser('Test DSL');
const head = newUser('Test Head');
const chair = newUser('Test Chair');
const governor = newUser('Test Governor');
const stranger = newUser('Test Stranger');

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
    expect(JSON.stringify(opened.body)).toContain('e-safety coordinator');
    const audit = await app.services.report.audit.listAudit(app.schoolId, { action: 'report-card.open' });
    expect(audit.some((a) => a.actorId === governor.aadObjectId && a.outcome === 'denied')).toBe(true);
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

  it.each([
    ['a governor', governor],
    ['someone with no role', stranger],
  ])('when %s sends /report, replies with a polite refusal naming who to talk to, and sends no card or pupil data', async (_label, user) => {
    const register = new PupilRegisterStore(app.services.tables);
    const now = new Date().toISOString();
    await register.savePupils(app.schoolId, [
      { externalId: 'A999000000077', forename: 'Hidden', surname: 'Rollname', yearGroup: '3', registrationGroup: '3C', cohort: '22', userPrincipalName: '22hiddenr@school.example', status: 'active', groups: [], createdAt: now, updatedAt: now },
    ]);
    const before = app.connector.sent.length;
    expect((await app.post(messageActivity(user, '/report', app.connector.serviceUrl))).status).toBe(200);
    const reply = await app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before && s.conversationId === `a:personal-${user.aadObjectId}`);
    expect(reply.activity.attachments ?? []).toEqual([]);
    expect(reply.activity.text).toContain('Only members of staff');
    expect(reply.activity.text).toContain('e-safety coordinator');
    expect(reply.activity.text).toContain('Designated Safeguarding Lead');
    const everything = JSON.stringify(app.connector.sent.slice(before));
    for (const leaked of ['Hidden', 'Rollname', 'A999000000077', '22hiddenr', 'pupil:']) expect(everything).not.toContain(leaked);
    const audit = await app.services.report.audit.listAudit(app.schoolId, { action: 'report-card.open' });
    expect(audit.some((a) => a.actorId === user.aadObjectId && a.outcome === 'denied')).toBe(true);
  });

  it('reports storage as reachable on /healthz', async () => {
    const response = await fetch(`${app.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', storage: 'reachable' });
  });
});

/** The invoke Teams sends as someone types into a Data.Query choice set (dynamic typeahead). */
function searchInvoke(user: TeamsUser, dataset: string, queryText: string, serviceUrl: string, queryOptions: Record<string, unknown> = { skip: 0, top: 15 }) {
  return { ...messageActivity(user, '', serviceUrl), type: 'invoke', name: 'application/search', text: undefined, value: { queryText, queryOptions, dataset } };
}

type SearchBody = { statusCode: number; type: string; value: { results?: { title: string; value: string }[]; code?: string; message?: string } };

describe('a school of 2,000 pupils: the card fits and only staff can search the roll', () => {
  const teacher2 = newUser('Big Teacher');
  const governor2 = newUser('Big Governor');
  const nobody = newUser('Big Nobody');
  const forenames = ['Amelia', 'Oliver', 'Isla', 'Noah', 'Ava', 'Leo', 'Mia', 'Arthur', 'Ivy', 'Muhammad'];
  const surnames = ['Holloway', 'Patel', 'Nguyen', 'Okafor', 'Williams', 'Kowalski', 'Murphy', 'Evans', 'Hughes', 'Begum'];
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ roles: { staff: [teacher2], governor: [governor2] }, overrides: { clock: () => new Date('2026-11-23T09:00:00Z') } });
    const now = new Date().toISOString();
    await new PupilRegisterStore(app.services.tables).savePupils(
      app.schoolId,
      Array.from({ length: 2000 }, (_, i) => ({
        externalId: `B${String(i).padStart(12, '0')}`,
        forename: `${forenames[i % 10]}`,
        surname: `${surnames[Math.floor(i / 10) % 10]}${i >= 100 ? String.fromCharCode(97 + (i % 26)) : ''}`,
        yearGroup: String((i % 6) + 1),
        registrationGroup: `${(i % 6) + 1}${'ABC'[i % 3]}`,
        cohort: '20',
        userPrincipalName: `20pupil${i}@school.example`,
        status: 'active' as const,
        groups: [],
        createdAt: now,
        updatedAt: now,
      })),
    );
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  async function search(user: TeamsUser, queryText: string, dataset = 'pupils', queryOptions?: Record<string, unknown>): Promise<{ status: number; body: SearchBody }> {
    const response = await app.post(searchInvoke(user, dataset, queryText, app.connector.serviceUrl, queryOptions));
    return { status: response.status, body: response.body as SearchBody };
  }

  it('when a teacher sends /report, the card is under 28 KB, lists no pupil and asks Teams to search the pupils as they type', async () => {
    const before = app.connector.sent.length;
    await app.post(messageActivity(teacher2, '/report', app.connector.serviceUrl));
    const reply = await app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before && s.activity.attachments !== undefined);
    const card = reply.activity.attachments![0]!.content as Record<string, unknown>;
    const json = JSON.stringify(card);
    // Teams' limit is "28 KB"; the stricter reading (28,000 bytes) is asserted, and so is 28 × 1024.
    expect(Buffer.byteLength(json, 'utf8')).toBeLessThan(28_000);
    expect(Buffer.byteLength(json, 'utf8')).toBeLessThan(28 * 1024);
    expect(json).toContain('"choices.data":{"type":"Data.Query","dataset":"pupils"}');
    expect(json).not.toContain('pupil:');
    for (const name of [...surnames, 'school.example']) expect(json).not.toContain(name);
  });

  it('when a teacher types part of a name, answers with a search response of at most 15 matching pupils, and audits the search without its text', async () => {
    const { status, body } = await search(teacher2, 'Holl');
    expect(status).toBe(200);
    expect(body.type).toBe('application/vnd.microsoft.search.searchResponse');
    const results = body.value.results!;
    expect(results.length).toBeGreaterThan(0);
    expect(results.length).toBeLessThanOrEqual(15);
    for (const r of results) {
      expect(r.title).toMatch(/ Holloway[a-z]? \(\d[ABC]\)$/);
      expect(r.value).toMatch(/^pupil:B\d{12}$/);
      expect(JSON.stringify(r)).not.toContain('school.example');
    }
    const [forename, surname] = results[0]!.title.split(' ');
    const narrowed = (await search(teacher2, `${forename!.toLowerCase()} ${surname!.toUpperCase()}`)).body.value.results!;
    expect(narrowed.map((r) => r.value)).toContain(results[0]!.value);
    expect(narrowed.every((r) => r.title.startsWith(`${forename} ${surname}`))).toBe(true);
    const audit = await app.services.report.audit.listAudit(app.schoolId, { action: 'pupil.search' });
    const mine = audit.filter((a) => a.actorId === teacher2.aadObjectId && a.outcome === 'succeeded');
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(mine[0]!.details).toMatchObject({ queryLength: 4, results: results.length });
    expect(JSON.stringify(audit)).not.toMatch(/holl|amelia|oliver|isla|noah/i);
    expect(app.logLines.join('\n')).not.toMatch(/holl|amelia|oliver|isla|noah/i);
  });

  it('when a pupil chosen through search comes back on a card with problems, the card names that pupil', async () => {
    const chosen = (await search(teacher2, 'okafor')).body.value.results![0]!;
    const body = (await app.post(cardActionInvoke(teacher2, 'submitIncident', { ...validForm, involved: chosen.value, description: 'short', submissionId: 'aaaaaaaa-0000-4000-8000-000000000001' }, app.connector.serviceUrl))).body as InvokeBody;
    const json = JSON.stringify(body.value);
    expect(json).toContain('Describe what happened');
    expect(json).toContain(JSON.stringify({ title: chosen.title, value: chosen.value }));
    expect(json).toContain('"choices.data":{"type":"Data.Query","dataset":"pupils"}');
  });

  it.each([
    ['a governor', governor2],
    ['someone with no role', nobody],
  ])('when %s searches, gets an error invoke response and no pupil, and the refusal is audited', async (_label, user) => {
    const { status, body } = await search(user, 'Holl');
    expect(status).toBe(403);
    expect(body.type).toBe('application/vnd.microsoft.error');
    expect(body.value.code).toBe('Forbidden');
    expect(JSON.stringify(body)).not.toMatch(/Holloway|pupil:/);
    const audit = await app.services.report.audit.listAudit(app.schoolId, { action: 'pupil.search' });
    expect(audit.some((a) => a.actorId === user.aadObjectId && a.outcome === 'denied')).toBe(true);
  });

  it('when the query is too short, a later page or empty, offers nobody; when it is too long or the dataset unknown, refuses it', async () => {
    expect((await search(teacher2, 'H')).body.value.results).toEqual([]);
    expect((await search(teacher2, '')).body.value.results).toEqual([]);
    expect((await search(teacher2, 'Holl', 'pupils', { skip: 15, top: 15 })).body.value.results).toEqual([]);
    expect((await search(teacher2, 'Holl', 'pupils', { skip: 0, top: 500 })).body.value.results!.length).toBeLessThanOrEqual(15);
    const long = await search(teacher2, 'H'.repeat(51));
    expect([long.status, long.body.type]).toEqual([400, 'application/vnd.microsoft.error']);
    const unknown = await search(teacher2, 'Holl', 'everyone');
    expect([unknown.status, unknown.body.type]).toEqual([404, 'application/vnd.microsoft.error']);
  });

  it('when the search invoke is malformed, answers an error and the server keeps serving', async () => {
    const response = await app.post({ ...searchInvoke(teacher2, 'pupils', 'Holl', app.connector.serviceUrl), value: 'not an object' });
    expect(response.status).toBe(400);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});

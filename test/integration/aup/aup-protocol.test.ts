import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAupFeature, type AupFeature } from '../../../app/aup-feature';
import { AupStore } from '../../../records/aup-store';
import { AuditStore } from '../../../records/audit-store';
import type { Principal } from '../../../school/roles';
import { cardElements, parseCardProblems } from '../../support/adaptive-cards';
import { cardRefreshInvoke } from '../../support/aup-activities';
import { startTestApp, type TestApp } from '../../support/test-app';
import { cardActionInvoke, installActivity, messageActivity, newUser, type TeamsUser } from '../../support/teams-activities';

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> | string };

const teacher = newUser('Test Teacher');
const teacher2 = newUser('Second Teacher');
const teacher3 = newUser('Third Teacher');
const farAway = newUser('Unreached Teacher');
const coordinator = newUser('Test Coordinator');
const governor = newUser('Test Governor');
const pupil = newUser('Test Pupil');

describe('AUP acknowledgements over the Bot Framework protocol', () => {
  let app: TestApp;
  let now = new Date('2026-11-23T09:00:00Z');
  /** staff-aup is renewed each September, so its acknowledgements are kept per academic year. */
  const STAFF_YEAR = 2026;
  let dir: string;
  let store: AupStore;
  let aup: AupFeature['aup'];
  const principal = async (user: TeamsUser): Promise<Principal> => ({
    aadObjectId: user.aadObjectId,
    roles: new Set(user === coordinator ? ['staff', 'coordinator'] : ['staff']),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aup-docs-'));
    cpSync(join(__dirname, '../../../aup'), dir, { recursive: true });
    app = await startTestApp({
      roles: { staff: [teacher, teacher2, teacher3, farAway, coordinator], coordinator: [coordinator], governor: [governor], pupil: [pupil] },
      env: { AUP_DOCUMENTS_DIR: dir, AUP_REMINDER_DAYS: '7' },
      overrides: { clock: () => now, features: [createAupFeature()] },
    });
    store = new AupStore(app.services.tables);
    aup = (app.services.features.find((f) => f.name === 'aup') as AupFeature).aup;
    for (const user of [teacher, teacher2, teacher3, coordinator, governor, pupil]) {
      expect((await app.post(installActivity(user, app.connector.serviceUrl))).status).toBe(200);
    }
  });

  afterAll(async () => {
    await app?.close();
  });

  /** Sends a command and waits for the reply; `textOnly` skips cards (a coordinator who is also staff gets the campaign card too). */
  async function command(user: TeamsUser, text: string, textOnly = text.includes('campaign') || text.includes('coverage')) {
    const before = app.connector.sent.length;
    expect((await app.post(messageActivity(user, text, app.connector.serviceUrl))).status).toBe(200);
    return app.connector.waitFor(
      (s) => app.connector.sent.indexOf(s) >= before && s.conversationId === `a:personal-${user.aadObjectId}` && (!textOnly || typeof s.activity.text === 'string'),
    );
  }

  async function invoke(activity: object): Promise<InvokeBody> {
    const response = await app.post(activity);
    expect(response.status).toBe(200);
    return response.body as InvokeBody;
  }

  const acknowledge = (user: TeamsUser, data: Record<string, unknown>) => invoke(cardActionInvoke(user, 'acknowledgeAup', data, app.connector.serviceUrl));
  const text = (value: unknown) => JSON.stringify(value);
  const hasButton = (card: unknown) => cardElements(card).some((e) => e.verb === 'acknowledgeAup');

  it('when a teacher sends /aup, replies with the staff AUP card, which parses cleanly and refreshes for them', async () => {
    const reply = await command(teacher, '/aup');
    const cards = reply.activity.attachments!.map((a) => a.content as Record<string, unknown>);
    expect(cards).toHaveLength(1);
    expect(parseCardProblems(cards[0])).toEqual([]);
    expect(text(cards[0])).toContain('Staff and volunteer acceptable use policy');
    expect(hasButton(cards[0])).toBe(true);
    expect(cards[0]!.refresh).toMatchObject({ action: { verb: 'refreshAup' }, userIds: [`29:${teacher.aadObjectId}`] });
  });

  it('stores the first acknowledgement with who, role, version, hash, time and channel, and a repeat stores nothing', async () => {
    const first = await acknowledge(teacher, { documentId: 'staff-aup', version: 1 });
    expect(first.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(text(first.value)).toContain('Acknowledged v1 on 23 Nov 2026');
    expect(hasButton(first.value)).toBe(false);
    expect(parseCardProblems(first.value)).toEqual([]);

    now = new Date('2026-11-24T09:00:00Z');
    const second = await acknowledge(teacher, { documentId: 'staff-aup', version: 1 });
    expect(text(second.value)).toContain('Acknowledged v1 on 23 Nov 2026');

    const stored = await store.listAcknowledgements(app.schoolId, 'staff-aup', 1, STAFF_YEAR);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      personId: teacher.aadObjectId,
      name: 'Test Teacher',
      role: 'staff',
      version: 1,
      channel: 'teams-card',
      acknowledgedAt: '2026-11-23T09:00:00.000Z',
      textHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const audit = await new AuditStore(app.services.tables).listAudit(app.schoolId, { target: 'aup:staff-aup:v1' });
    expect(audit.map((a) => a.details?.duplicate)).toEqual([false, true]);
    expect(app.logLines.join('\n')).not.toContain('Test Teacher');
  });

  it('refresh shows the person who acknowledged their acknowledgement, and anyone else the button', async () => {
    const mine = await invoke(cardRefreshInvoke(teacher, 'refreshAup', { documentId: 'staff-aup' }, app.connector.serviceUrl));
    expect(text(mine.value)).toContain('Acknowledged v1 on 23 Nov 2026');
    expect(hasButton(mine.value)).toBe(false);
    const theirs = await invoke(cardRefreshInvoke(teacher2, 'refreshAup', { documentId: 'staff-aup' }, app.connector.serviceUrl));
    expect(text(theirs.value)).not.toContain('Acknowledged');
    expect(hasButton(theirs.value)).toBe(true);
    expect(parseCardProblems(theirs.value)).toEqual([]);
  });

  it('refuses someone outside the audience, and stores nothing for them', async () => {
    const body = await acknowledge(governor, { documentId: 'staff-aup', version: 1 });
    expect(body.type).toBe('application/vnd.microsoft.activity.message');
    expect(await store.getAcknowledgement(app.schoolId, 'staff-aup', 1, governor.aadObjectId, STAFF_YEAR)).toBeUndefined();
  });

  it('a pupil\'s card needs the parent\'s or carer\'s name and confirmation before anything is stored', async () => {
    const reply = await command(pupil, '/aup');
    expect(text(reply.activity.attachments![0]!.content)).toContain('"id":"parentName"');
    const missing = await acknowledge(pupil, { documentId: 'pupil-ks1-aup', version: 1, parentName: '', discussed: 'false' });
    expect(text(missing.value)).toContain('Type the name of the parent or carer');
    expect(text(missing.value)).toContain('Tick the box');
    expect(parseCardProblems(missing.value)).toEqual([]);
    expect(await store.getAcknowledgement(app.schoolId, 'pupil-ks1-aup', 1, pupil.aadObjectId)).toBeUndefined();
    await acknowledge(pupil, { documentId: 'pupil-ks1-aup', version: 1, parentName: 'A Carer', discussed: 'true' });
    expect(await store.getAcknowledgement(app.schoolId, 'pupil-ks1-aup', 1, pupil.aadObjectId)).toMatchObject({ parentName: 'A Carer', role: 'pupil' });
  });

  it('a campaign is refused to a teacher, and sends the card to everyone reachable in the role, reporting who cannot be reached', async () => {
    const refused = await command(teacher2, '/aup campaign staff-aup staff');
    expect(refused.activity.text).toContain('Only the e-safety coordinator');
    expect(await store.listCampaigns(app.schoolId)).toEqual([]);

    const before = app.connector.sent.length;
    const reply = await command(coordinator, '/aup campaign staff-aup staff');
    expect(reply.activity.text).toContain('Started the campaign for **staff-aup v1**');
    expect(reply.activity.text).toContain('5 people in the group, 1 already acknowledged');
    // Named by role without a tenant (aup-names-protocol.test.ts covers Graph names), never by object id.
    expect(reply.activity.text).toContain(`Member of staff (…${farAway.aadObjectId.slice(-4)})`);
    expect(reply.activity.text).not.toContain(farAway.aadObjectId);
    const cardsTo = (user: TeamsUser) => app.connector.sent.slice(before).filter((s) => s.conversationId === `a:personal-${user.aadObjectId}` && s.activity.attachments);
    expect(cardsTo(teacher2)).toHaveLength(1);
    expect(cardsTo(teacher3)).toHaveLength(1);
    expect(cardsTo(teacher)).toHaveLength(0);
    const card = cardsTo(teacher2)[0]!.activity.attachments![0]!.content;
    expect(parseCardProblems(card)).toEqual([]);
    expect(text(card)).toContain('The school asks everyone in your role');
    expect(text(card)).toContain(`29:${teacher2.aadObjectId}`);

    // Starting it again sends nothing new.
    const again = app.connector.sent.length;
    await command(coordinator, '/aup campaign staff-aup staff');
    expect(app.connector.sent.slice(again).filter((s) => s.activity.attachments && s.conversationId !== `a:personal-${coordinator.aadObjectId}`)).toHaveLength(0);
  });

  it('reminds people still outstanding after the reminder days, once even with two instances, and reaches pending people once they talk to the bot', async () => {
    await acknowledge(teacher2, { documentId: 'staff-aup', version: 1 });
    const early = await aup.sendAupReminders();
    expect(early.reminded).toBe(0);
    expect(early.stillPending).toBe(1);

    now = new Date('2026-12-02T09:00:00Z');
    const before = app.connector.sent.length;
    const [a, b] = await Promise.all([aup.sendAupReminders(), aup.sendAupReminders()]);
    // teacher3 and the coordinator still owe it; teacher2 acknowledged.
    expect(a.reminded + b.reminded).toBe(2);
    const sent = app.connector.sent.slice(before).filter((s) => s.activity.attachments);
    expect(sent.map((s) => s.conversationId).sort()).toEqual([`a:personal-${coordinator.aadObjectId}`, `a:personal-${teacher3.aadObjectId}`].sort());
    expect(text(sent[0]!.activity.attachments![0]!.content)).toContain('Reminder');
    expect((await aup.sendAupReminders()).reminded).toBe(0);

    await app.post(installActivity(farAway, app.connector.serviceUrl));
    const reached = await aup.sendAupReminders();
    expect(reached.delivered).toBe(1);
    await app.connector.waitFor((s) => s.conversationId === `a:personal-${farAway.aadObjectId}` && s.activity.attachments !== undefined);
  });

  it('coverage: counts and lists for the coordinator, percentages for governors, checked against the store', async () => {
    const reply = await command(coordinator, '/aup coverage');
    expect(reply.activity.text).toContain('Staff and volunteer acceptable use policy v1, staff**: 2 of 5 (40%)');
    expect(reply.activity.text).toContain('Second Teacher');
    expect(reply.activity.text).toContain(`Member of staff (…${teacher3.aadObjectId.slice(-4)})`);
    expect(reply.activity.text).not.toContain(teacher3.aadObjectId);
    expect((await command(teacher3, '/aup coverage')).activity.text).toContain('Only the e-safety coordinator');

    const summary = await aup.getAupCoverageSummary(app.schoolId);
    const staffRow = summary.documents.find((d) => d.documentId === 'staff-aup')!;
    expect(staffRow.groups).toEqual([
      { group: 'staff', percent: 40, members: 5, acknowledged: 2 },
      { group: 'coordinator', percent: 0, members: 1, acknowledged: 0 },
      { group: 'dsl', percent: 0, members: 0, acknowledged: 0 },
      { group: 'headteacher', percent: 0, members: 0, acknowledged: 0 },
      { group: 'admin', percent: 0, members: 0, acknowledged: 0 },
    ]);
    expect(staffRow.percent).toBe(40);
    expect(summary.documents.find((d) => d.documentId === 'pupil-ks1-aup')!.percent).toBe(100);
    expect(text(summary)).not.toContain('Teacher');
    expect(text(summary)).not.toContain(teacher.aadObjectId);
  });

  it('records paper forms in bulk, naming bad rows, and a re-import records nothing new', async () => {
    const csv = [
      'person_id,name,role,document,version,signed_on,parent_name',
      `${teacher3.aadObjectId},Third Teacher,staff,staff-aup,1,2026-11-20,`,
      'visitor-2026-001,A Visitor,visitor,visitor-aup,1,2026-11-21,',
      'visitor-2026-002,B Visitor,visitor,visitor-aup,9,2026-11-21,',
    ].join('\n');
    expect(await aup.recordPaperAcknowledgements(await principal(teacher), csv)).toEqual({ kind: 'forbidden' });
    const first = await aup.recordPaperAcknowledgements(await principal(coordinator), csv);
    expect(first).toMatchObject({ kind: 'imported', recorded: 2, alreadyRecorded: 0, problems: [{ row: 4, message: expect.stringContaining('version "9"') }] });
    const second = await aup.recordPaperAcknowledgements(await principal(coordinator), csv);
    expect(second).toMatchObject({ recorded: 0, alreadyRecorded: 2 });
    expect(await store.getAcknowledgement(app.schoolId, 'staff-aup', 1, teacher3.aadObjectId, STAFF_YEAR)).toMatchObject({ channel: 'paper', recordedBy: coordinator.aadObjectId, acknowledgedAt: '2026-11-20T12:00:00.000Z' });
    const refresh = await invoke(cardRefreshInvoke(teacher3, 'refreshAup', { documentId: 'staff-aup' }, app.connector.serviceUrl));
    expect(text(refresh.value)).toContain('Acknowledged v1 on 20 Nov 2026 (paper form)');
  });

  it('lists pupils without a current pupil AUP for the access gate', async () => {
    expect(await aup.listPupilsWithoutAup()).toEqual({ gateEnabled: false, documentIds: ['pupil-ks1-aup', 'pupil-ks2-aup'], pupilIds: [] });
  });

  it('when the school publishes a new version, a stale acknowledgement is refused and everyone owes the new one', async () => {
    const file = join(dir, 'staff.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('version: 1', 'version: 2').replace('I will keep my passwords', 'I will always keep my passwords'));
    const stale = await acknowledge(teacher2, { documentId: 'staff-aup', version: 1 });
    expect(stale.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(text(stale.value)).toContain('This is version 2');
    expect(cardElements(stale.value).find((e) => e.verb === 'acknowledgeAup')).toMatchObject({ data: { version: 2 } });
    expect(await store.getAcknowledgement(app.schoolId, 'staff-aup', 2, teacher2.aadObjectId, STAFF_YEAR)).toBeUndefined();

    const reply = await command(teacher, '/aup');
    expect(text(reply.activity.attachments![0]!.content)).toContain('Version 2');
    const ack = await acknowledge(teacher, { documentId: 'staff-aup', version: 2 });
    expect(text(ack.value)).toContain('Acknowledged v2 on');
    const v1 = await store.getAcknowledgement(app.schoolId, 'staff-aup', 1, teacher.aadObjectId, STAFF_YEAR);
    const v2 = await store.getAcknowledgement(app.schoolId, 'staff-aup', 2, teacher.aadObjectId, STAFF_YEAR);
    expect(v2!.textHash).not.toBe(v1!.textHash);
  });
});

import { consentDependencies, consentFeature } from '../../app/consent-feature';
import { AuditStore } from '../../records/audit-store';
import type { Principal } from '../../school/roles';
import { recordConsentForm, withdrawConsent } from '../../usecases/consent-register';
import { PupilRegisterStore, type PupilRecord } from '../../records/pupil-register-store';
import { cardActionInvoke, messageActivity, newUser, type TeamsUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';

const teacher = newUser('Teacher');
const coordinator = newUser('Coordinator');
const governor = newUser('Governor');
const pupilUser = newUser('Pupil');
const PARENT = 'Perpetua Honeysett';

function pupil(externalId: string, forename: string, surname: string): PupilRecord {
  const at = '2026-09-01T08:00:00.000Z';
  return { externalId, forename, surname, yearGroup: '4', registrationGroup: '4W', cohort: '22', userPrincipalName: `22${forename.toLowerCase()}@hollin.example`, status: 'active', groups: [], createdAt: at, updatedAt: at };
}

type Card = { body: { type: string; id?: string; facts?: { title: string; value: string }[]; text?: string; choices?: { title: string; value: string }[] }[] };

describe('/consent, through the Bot Framework protocol', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      roles: { staff: [teacher, coordinator], coordinator: [coordinator], governor: [governor], pupil: [pupilUser] },
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z'), features: [consentFeature] },
    });
    const tables = app.services.tables;
    await new PupilRegisterStore(tables).savePupils(app.schoolId, [pupil('P-ROSA', 'Rosalind', 'Ambleside'), pupil('P-ROB', 'Robin', 'Amberley'), pupil('P-TOM', 'Tomasz', 'Wexford')]);
    const deps = consentDependencies({ config: app.services.config, tables, audit: new AuditStore(tables), clock: () => new Date('2026-11-23T09:00:00Z') });
    const recorder: Principal = { aadObjectId: coordinator.aadObjectId, roles: new Set(['staff', 'coordinator']) };
    await recordConsentForm(deps, recorder, { pupil: 'P-ROSA', signedOn: '2026-09-03', givenBy: PARENT, relationship: 'parent', areas: { 'website-social-media': true, 'display-in-school': true, media: true } });
    await withdrawConsent(deps, recorder, { pupil: 'P-ROSA', area: 'media', withdrawnOn: '2026-11-20' });
  });

  afterAll(async () => {
    await app?.close();
  });

  async function send(user: TeamsUser, text: string) {
    const before = app.connector.sent.length;
    await app.post(messageActivity(user, text, app.connector.serviceUrl));
    return app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before);
  }

  const cardOf = (reply: Awaited<ReturnType<typeof send>>): Card => reply.activity.attachments![0]!.content as Card;
  const facts = (card: Card) => Object.fromEntries(card.body.find((b) => b.type === 'FactSet')!.facts!.map((f) => [f.title, f.value]));

  it('answers a teacher at once when the name matches one pupil, with each area, UK dates and a withdrawal that counts', async () => {
    const card = cardOf(await send(teacher, '/consent rosalind'));
    expect(facts(card)).toEqual({
      'School or trust website and social media': 'Yes: given 3 September 2026',
      'Displays around school': 'Yes: given 3 September 2026',
      'Displays away from school': 'No: no form recorded',
      'Video or webcam in an educational conference': 'No: no form recorded',
      'Newspapers and other media': 'No: withdrawn 20 November 2026',
    });
    expect(JSON.stringify(card)).not.toContain(PARENT);
    const audit = await app.services.report.audit.listAudit(app.schoolId, { action: 'consent.read' });
    expect(audit.at(-1)).toMatchObject({ actorId: teacher.aadObjectId, target: 'pupil:P-ROSA', outcome: 'succeeded', details: { via: 'bot' } });
  });

  it('offers the pupil picker with the typeahead when several match, and answers the chosen pupil from the card', async () => {
    const card = cardOf(await send(teacher, '/consent am'));
    const picker = card.body.find((b) => b.id === 'pupil')!;
    expect(picker.choices!.map((c) => c.value).sort()).toEqual(['pupil:P-ROB', 'pupil:P-ROSA']);
    expect(JSON.stringify(card)).toContain('"choices.data":{"type":"Data.Query","dataset":"pupils"}');
    const response = await app.post(cardActionInvoke(teacher, 'consentLookup', { pupil: 'pupil:P-ROB' }, app.connector.serviceUrl));
    const answered = (response.body as { value: Card }).value;
    expect(Object.values(facts(answered)).every((v) => v === 'No: no form recorded')).toBe(true);
  });

  it.each([
    ['a governor', governor],
    ['a pupil', pupilUser],
  ])('tells %s it is for staff only, reads no pupil, and audits the refusal', async (_who, user) => {
    const reply = await send(user, '/consent rosalind');
    expect(reply.activity.attachments).toBeUndefined();
    expect(reply.activity.text).toContain('Only members of staff');
    const invoke = await app.post(cardActionInvoke(user, 'consentLookup', { pupil: 'pupil:P-ROSA' }, app.connector.serviceUrl));
    expect(JSON.stringify(invoke.body)).not.toContain('Rosalind');
    const audit = await app.services.report.audit.listAudit(app.schoolId, { action: 'consent.read' });
    expect(audit.filter((e) => e.actorId === user.aadObjectId).map((e) => e.outcome)).toEqual(['denied', 'denied']);
  });
});

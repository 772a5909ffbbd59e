import { createAupFeature, type AupFeature } from '../../../app/aup-feature';
import { AuditStore } from '../../../records/audit-store';
import { AupStore } from '../../../records/aup-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake } from '../../support/graph-fake';
import { startTestApp, type TestApp } from '../../support/test-app';
import { cardActionInvoke, installActivity, messageActivity, newUser, type TeamsUser } from '../../support/teams-activities';

verifyGraphContractAfterAll();

const NOW = new Date('2026-11-23T09:00:00Z');
const admin = newUser('Gate Admin');
const teacher = newUser('Gate Teacher');
const owing = newUser('Owing Pupil');
const signed = newUser('Signed Pupil');
const late = newUser('Late Pupil');
const disabledPupil = newUser('Disabled Pupil');

const upn = (user: TeamsUser) => `${user.aadObjectId.slice(0, 8)}@oakfield.example`;

function registerRow(user: TeamsUser, externalId: string): PupilRecord {
  return {
    externalId,
    forename: user.name.split(' ')[0]!,
    surname: 'Pupil',
    cohort: '2026',
    userPrincipalName: upn(user),
    userId: user.aadObjectId,
    status: 'active',
    groups: [],
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
  };
}

/** A fake tenant holding the pupils' accounts, intercepting Graph for this test. */
function tenant(accounts: { user: TeamsUser; enabled: boolean }[]): GraphFake {
  const fake = new GraphFake();
  for (const { user, enabled } of accounts) fake.addUser({ id: user.aadObjectId, userPrincipalName: upn(user), accountEnabled: enabled });
  fake.intercept();
  return fake;
}

const mutating = (fake: GraphFake) => fake.innerRequests().filter((r) => r.method !== 'GET');
const enabled = (fake: GraphFake, user: TeamsUser) => fake.users.get(user.aadObjectId)!.accountEnabled;

async function say(app: TestApp, user: TeamsUser, text: string): Promise<string> {
  const before = app.connector.sent.length;
  expect((await app.post(messageActivity(user, text, app.connector.serviceUrl))).status).toBe(200);
  const reply = await app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before && s.conversationId === `a:personal-${user.aadObjectId}` && typeof s.activity.text === 'string');
  return reply.activity.text as string;
}

async function acknowledgePupilAup(app: TestApp, user: TeamsUser): Promise<void> {
  const response = await app.post(cardActionInvoke(user, 'acknowledgeAup', { documentId: 'pupil-ks1-aup', version: 1, parentName: 'A Carer', discussed: 'true' }, app.connector.serviceUrl));
  expect(response.status).toBe(200);
  expect(JSON.stringify(response.body)).toContain('Acknowledged v1');
}

async function startApp(gate: boolean, live = true): Promise<TestApp> {
  const app = await startTestApp({
    roles: { admin: [admin], staff: [teacher], pupil: [owing, signed, late, disabledPupil] },
    env: { AUP_ACCESS_GATE: gate ? 'true' : 'false' },
    overrides: { clock: () => NOW, features: [createAupFeature()], ...(live ? { graph: createGatewayForFake().gateway } : {}) },
  });
  for (const user of [admin, teacher, owing, signed, late]) expect((await app.post(installActivity(user, app.connector.serviceUrl))).status).toBe(200);
  await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [registerRow(owing, 'P001'), registerRow(signed, 'P002')]);
  return app;
}

describe('the AUP access gate, on, with a tenant', () => {
  let app: TestApp;
  let store: AupStore;
  let aup: AupFeature['aup'];

  beforeAll(async () => {
    app = await startApp(true);
    store = new AupStore(app.services.tables);
    aup = (app.services.features.find((f) => f.name === 'aup') as AupFeature).aup;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('hold disables a pupil without a current AUP, leaves a pupil with one untouched, and a second hold makes no mutating Graph calls', async () => {
    const fake = tenant([
      { user: owing, enabled: true },
      { user: signed, enabled: true },
    ]);
    await acknowledgePupilAup(app, signed);
    expect(mutating(fake)).toEqual([]);

    const counts = await say(app, admin, '/aup gate');
    expect(counts).toContain('Active pupils with an account: 2');
    expect(counts).toContain('Without a current pupil AUP (pupil-ks1-aup, pupil-ks2-aup): 1');
    expect(counts).toContain('held disabled by the gate: 0');
    expect(mutating(fake)).toEqual([]);

    const reply = await say(app, admin, '/aup gate hold');
    expect(reply).toContain('Disabled now: 1');
    expect(enabled(fake, owing)).toBe(false);
    expect(enabled(fake, signed)).toBe(true);
    expect(mutating(fake)).toEqual([{ method: 'PATCH', url: `/users/${owing.aadObjectId}`, body: { accountEnabled: false } }]);
    expect(await store.getAccessHold(app.schoolId, owing.aadObjectId)).toMatchObject({ state: 'held', externalId: 'P001', heldBy: admin.aadObjectId });
    expect(await store.getAccessHold(app.schoolId, signed.aadObjectId)).toBeUndefined();

    const again = await aup.holdPupilsWithoutAup({ aadObjectId: admin.aadObjectId, roles: new Set(['admin']) });
    expect(again).toMatchObject({ kind: 'held', newlyHeld: 0, alreadyHeld: 1, withAup: 1, failed: 0 });
    expect(mutating(fake)).toHaveLength(1);

    const audit = await new AuditStore(app.services.tables).listAudit(app.schoolId, { target: `user:${owing.aadObjectId}` });
    expect(audit.map((a) => [a.action, a.outcome])).toEqual([['aup.gate.disable', 'succeeded']]);
    expect(JSON.stringify(audit)).not.toContain('Owing');
    expect(app.logLines.join('\n')).not.toContain('Owing Pupil');
  });

  it('acknowledging the pupil AUP on the card enables the held pupil again and clears the hold', async () => {
    const fake = tenant([
      { user: owing, enabled: false },
      { user: signed, enabled: true },
    ]);
    await acknowledgePupilAup(app, owing);
    expect(enabled(fake, owing)).toBe(true);
    expect(mutating(fake)).toEqual([{ method: 'PATCH', url: `/users/${owing.aadObjectId}`, body: { accountEnabled: true } }]);
    expect(await store.getAccessHold(app.schoolId, owing.aadObjectId)).toBeUndefined();

    // A repeat tap finds no hold and sends nothing.
    await acknowledgePupilAup(app, owing);
    expect(mutating(fake)).toHaveLength(1);
  });

  it('refuses a non-admin, and nothing reaches Graph', async () => {
    const fake = tenant([{ user: owing, enabled: true }]);
    expect(await say(app, teacher, '/aup gate hold')).toBe('Only the IT admin can use the AUP access gate.');
    expect(await say(app, teacher, '/aup gate')).toBe('Only the IT admin can use the AUP access gate.');
    expect(await aup.holdPupilsWithoutAup({ aadObjectId: owing.aadObjectId, roles: new Set(['pupil']) })).toEqual({ kind: 'forbidden' });
    expect(fake.records).toEqual([]);
  });

  it('a paper form releases too; when Graph refuses, the hold is kept and the hourly retry enables the account', async () => {
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [registerRow(late, 'P003')]);
    const fake = tenant([
      { user: owing, enabled: true },
      { user: signed, enabled: true },
      { user: late, enabled: true },
    ]);
    const adminPrincipal = { aadObjectId: admin.aadObjectId, roles: new Set(['admin'] as const) };
    expect(await aup.holdPupilsWithoutAup(adminPrincipal)).toMatchObject({ kind: 'held', newlyHeld: 1, withAup: 2 });
    expect(enabled(fake, late)).toBe(false);

    fake.failNext({ method: 'PATCH', url: `/users/${late.aadObjectId}`, status: 403, code: 'Authorization_RequestDenied' });
    const coordinator = { aadObjectId: 'coordinator-1', roles: new Set(['coordinator'] as const) };
    const csv = ['person_id,name,role,document,version,signed_on,parent_name', `${late.aadObjectId},Late Pupil,pupil,pupil-ks1-aup,1,2026-11-22,A Carer`].join('\n');
    expect(await aup.recordPaperAcknowledgements(coordinator, csv)).toMatchObject({ kind: 'imported', recorded: 1 });
    expect(enabled(fake, late)).toBe(false);
    expect(await store.getAccessHold(app.schoolId, late.aadObjectId)).toMatchObject({ state: 'held', releaseAttempts: 1 });
    expect((await say(app, admin, '/aup gate'))).toContain('held disabled by the gate: 1 (1 have their AUP');

    expect(await aup.retryAupReleases()).toEqual({ released: 1, cleared: 0, failed: 0 });
    expect(enabled(fake, late)).toBe(true);
    expect(await store.getAccessHold(app.schoolId, late.aadObjectId)).toBeUndefined();
    expect(await aup.retryAupReleases()).toEqual({ released: 0, cleared: 0, failed: 0 });
  });

  it('never enables an account someone else disabled', async () => {
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [registerRow(disabledPupil, 'P004')]);
    const fake = tenant([
      { user: owing, enabled: true },
      { user: signed, enabled: true },
      { user: late, enabled: true },
      { user: disabledPupil, enabled: false },
    ]);
    const outcome = await aup.holdPupilsWithoutAup({ aadObjectId: admin.aadObjectId, roles: new Set(['admin']) });
    expect(outcome).toMatchObject({ kind: 'held', newlyHeld: 0, alreadyDisabled: 1 });
    expect(mutating(fake)).toEqual([]);
    expect(await store.getAccessHold(app.schoolId, disabledPupil.aadObjectId)).toBeUndefined();
  });
});

describe('the AUP access gate, off', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp(false);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('touches nobody: hold is refused, an acknowledgement sends nothing to Graph, and the counts say it is off', async () => {
    const fake = tenant([
      { user: owing, enabled: true },
      { user: signed, enabled: true },
    ]);
    expect(await say(app, admin, '/aup gate hold')).toContain('The AUP access gate is off');
    const counts = await say(app, admin, '/aup gate');
    expect(counts).toContain('**AUP access gate**: off');
    expect(counts).toContain('Without a current pupil AUP (pupil-ks1-aup, pupil-ks2-aup): 2');
    await acknowledgePupilAup(app, signed);
    const aup = (app.services.features.find((f) => f.name === 'aup') as AupFeature).aup;
    expect(await aup.retryAupReleases()).toEqual({ released: 0, cleared: 0, failed: 0 });
    expect(fake.records).toEqual([]);
    expect(await new AupStore(app.services.tables).listAccessHolds(app.schoolId)).toEqual([]);
  });
});

describe('the AUP access gate in plan mode', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp(true, false);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('says that holding accounts needs a tenant', async () => {
    expect(await say(app, admin, '/aup gate hold')).toContain('Holding accounts needs a tenant');
    expect(await say(app, admin, '/aup gate')).toContain('(plan mode)');
  });
});

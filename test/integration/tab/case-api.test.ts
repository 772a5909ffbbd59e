import { createTabFeature } from '../../../app/tab-feature';
import { AuditStore } from '../../../records/audit-store';
import { IncidentStore, type IncidentRecord } from '../../../records/incident-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { SanctionStore } from '../../../records/sanction-store';
import { DEFAULT_RESPONSE_MATRIX, SANCTION_ACTIONS } from '../../../school/response-matrix';
import { restoreDueSanctions, suspendPupilAccess } from '../../../usecases/case-actions';
import { closeIncident } from '../../../usecases/triage-incidents';
import { createGatewayForFake, GraphFake } from '../../support/graph-fake';
import { rolesOf, tabApiCaller, tabRoleUsers, type Who } from '../../support/tab-api';
import { seedIncident, startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
// Summer time: 09:00 UTC is 10:00 in London.
let now = new Date('2026-06-10T09:00:00Z');

function pupilRow(id: string, forename: string, surname: string, upn: string, userId: string | undefined): PupilRecord {
  return {
    externalId: id,
    forename,
    surname,
    yearGroup: '5',
    registrationGroup: '5 Oak',
    cohort: '21',
    userPrincipalName: upn,
    ...(userId ? { userId } : {}),
    status: 'active',
    groups: [],
    createdAt: '2026-01-01T08:00:00.000Z',
    updatedAt: '2026-01-01T08:00:00.000Z',
  };
}

describe('the DSL case view and its actions', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let fake: GraphFake;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;
  let incidents: IncidentStore;
  let audit: AuditStore;
  let pupilUserId: string;
  const upn = '21wrenb@school.example';

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    fake = new GraphFake({ seed: 5 });
    pupilUserId = fake.addUser({ userPrincipalName: upn }).id;
    fake.addUser({ id: users.headteacher.aadObjectId, userPrincipalName: 'head@school.example', displayName: 'Rowan Ashdown' });
    const { gateway } = createGatewayForFake();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => now, graph: gateway, features: [createTabFeature()] } });
    call = tabApiCaller(app, idp, users);
    incidents = new IncidentStore(app.services.tables);
    audit = new AuditStore(app.services.tables, () => now);
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [
      pupilRow('p-wren', 'Wren', 'Bellamy', upn, pupilUserId),
      pupilRow('p-ash', 'Ash', 'Cordell', '21ashc@school.example', undefined),
    ]);
  });

  // block-network.ts clears nock after each test.
  beforeEach(() => fake.intercept());

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  const seed = (reference: string, values: Partial<IncidentRecord> = {}) =>
    seedIncident({ incidents, tables: app.services.tables }, app.schoolId, {
      reference,
      type: 'cyberbullying',
      involved: [{ kind: 'pupil', pupilId: 'p-wren' }],
      reporterId: users.staff.aadObjectId,
      createdAt: '2026-06-09T13:30:00.000Z',
      occurredOn: '2026-06-09',
      occurredAt: '14:15',
      ...values,
    });

  async function open(who: Who, reference: string) {
    const response = await call(who, 'GET', `/api/incidents/${reference}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the case view is read field by field below
    return { ...response, view: response.body as Record<string, any> };
  }

  it('shows every field, the reporter, the pupils from the register, UK dates and times, and what the matrix suggests; the read is audited', async () => {
    await seed('ES-2026-0501', { childProtection: true, audience: 'child-protection', location: 'Year 5 classroom, iPad 3', actionTaken: 'Took the iPad.' });
    const { status, view } = await open('dsl', 'ES-2026-0501');
    expect(status).toBe(200);
    expect(view.incident).toMatchObject({ location: 'Year 5 classroom, iPad 3', actionTaken: 'Took the iPad.', occurredAt: '14:15', childProtection: true, occurredOnText: '9 June 2026', createdAtText: '9 June 2026, 14:30' });
    expect(view.reporter.name).toMatch(/^Member of staff/);
    expect(view.pupils).toEqual([expect.objectContaining({ pupilId: 'p-wren', name: 'Wren Bellamy', yearGroup: '5', className: '5 Oak', onRegister: true })]);
    expect(view.chronology[0].atText).toBe('9 June 2026, 14:30');
    const suggested = (view.suggestedActions as { id: string }[]).map((a) => a.id);
    expect(suggested.length).toBeGreaterThan(0);
    expect(suggested.filter((id) => SANCTION_ACTIONS.has(id as never))).toEqual([]);
    expect(DEFAULT_RESPONSE_MATRIX.pupil.cyberbullying.some((id) => SANCTION_ACTIONS.has(id))).toBe(true);
    expect(view.guidance).toEqual([]);
    const reads = await audit.listAudit(app.schoolId, { target: 'ES-2026-0501', action: 'incident.read' });
    expect(reads.map((r) => [r.actorId, r.outcome])).toContainEqual([users.dsl.aadObjectId, 'succeeded']);
  });

  it('records referrals with the other agency’s reference and, later, the outcome once; each is a chronology line and an audit entry', async () => {
    await seed('ES-2026-0502');
    let { etag } = await open('dsl', 'ES-2026-0502');
    expect((await call('dsl', 'POST', '/api/incidents/ES-2026-0502/referrals', { to: 'lado', why: 'Advice needed' })).status).toBe(428);
    expect((await call('dsl', 'POST', '/api/incidents/ES-2026-0502/referrals', { to: 'nobody', why: 'x' }, { 'if-match': etag! })).status).toBe(400);
    const referred = await call('dsl', 'POST', '/api/incidents/ES-2026-0502/referrals', { to: 'childrens-social-care', why: 'Concern at home', externalReference: 'MASH-7731', on: '2026-06-10' }, { 'if-match': etag! });
    expect(referred.status).toBe(200);
    const referral = (referred.body.referrals as Record<string, string>[])[0]!;
    expect(referral).toMatchObject({ to: 'childrens-social-care', externalReference: 'MASH-7731', onText: '10 June 2026' });
    expect((referred.body.chronology as { kind: string; what: string }[]).at(-1)).toMatchObject({ kind: 'referral', what: expect.stringContaining('MASH-7731') });
    expect((await call('dsl', 'POST', '/api/incidents/ES-2026-0502/referrals', { to: 'police', why: 'x' }, { 'if-match': etag! })).status).toBe(409);
    etag = referred.etag;
    const outcome = await call('dsl', 'POST', `/api/incidents/ES-2026-0502/referrals/${referral.id}/outcome`, { outcome: 'Early help offered' }, { 'if-match': etag! });
    expect(outcome.status).toBe(200);
    expect((outcome.body.referrals as Record<string, string>[])[0]).toMatchObject({ outcome: 'Early help offered' });
    const again = await call('dsl', 'POST', `/api/incidents/ES-2026-0502/referrals/${referral.id}/outcome`, { outcome: 'Changed' }, { 'if-match': outcome.etag! });
    expect(again.status).toBe(409);
    const entries = await audit.listAudit(app.schoolId, { target: 'ES-2026-0502' });
    expect(entries.filter((e) => e.outcome === 'succeeded').map((e) => e.action)).toEqual(expect.arrayContaining(['incident.referral', 'incident.referral-outcome']));
  });

  it('alerts the chair and gives them access when referred to the chair', async () => {
    await seed('ES-2026-0503');
    expect((await open('chair', 'ES-2026-0503')).status).toBe(403);
    const { etag } = await open('coordinator', 'ES-2026-0503');
    const referred = await call('coordinator', 'POST', '/api/incidents/ES-2026-0503/referrals', { to: 'chair', why: 'The chair asked to be told' }, { 'if-match': etag! });
    expect(referred.status).toBe(200);
    expect((await open('chair', 'ES-2026-0503')).status).toBe(200);
    const alerts = await incidents.listAlertsForIncident(app.schoolId, 'ES-2026-0503');
    expect(alerts.map((a) => [a.recipientId, a.status])).toEqual([[users.chair.aadObjectId, 'pending']]);
  });

  it('reclassifies: the coordinator loses access at once and the DSL, newly responsible for a child-protection concern, is alerted', async () => {
    await seed('ES-2026-0504');
    const { etag } = await open('coordinator', 'ES-2026-0504');
    const changed = await call('coordinator', 'POST', '/api/incidents/ES-2026-0504/classification', { type: 'safeguarding-contact', why: 'An adult contacted the pupil' }, { 'if-match': etag! });
    expect(changed.status).toBe(200);
    expect((await open('coordinator', 'ES-2026-0504')).status).toBe(403);
    const { view } = await open('dsl', 'ES-2026-0504');
    expect(view.incident).toMatchObject({ type: 'safeguarding-contact', audience: 'child-protection', childProtection: true, fourC: 'contact' });
    expect(view.chronology.at(-1)).toMatchObject({ kind: 'reclassified', what: expect.stringContaining('no longer coordinator') });
    const alerted = (await incidents.listAlertsForIncident(app.schoolId, 'ES-2026-0504')).map((a) => a.recipientId).sort();
    expect(alerted).toEqual([users.dsl.aadObjectId]);
  });

  it('records the CPOMS reference, and the DSL’s list shows open incidents not yet in CPOMS', async () => {
    await seed('ES-2026-0505');
    const missing = async () => ((await call('dsl', 'GET', '/api/incidents?cpoms=missing')).body.incidents as { reference: string }[]).map((i) => i.reference);
    expect(await missing()).toContain('ES-2026-0505');
    const { etag } = await open('dsl', 'ES-2026-0505');
    const saved = await call('dsl', 'POST', '/api/incidents/ES-2026-0505/cpoms', { reference: 'CPOMS-88123' }, { 'if-match': etag! });
    expect(saved.status).toBe(200);
    expect((saved.body.incident as Record<string, string>).cpomsReference).toBe('CPOMS-88123');
    expect(await missing()).not.toContain('ES-2026-0505');
  });

  it('needs a second senior person to close the gravest cases: the proposer cannot confirm', async () => {
    await seed('ES-2026-0506', { type: 'illegal-content', audience: 'child-protection', childProtection: true });
    const { etag, view } = await open('dsl', 'ES-2026-0506');
    expect(view.guidance.join(' ')).toContain('switch off or cover the monitor; do not copy, forward or screenshot the image');
    const close = { decision: 'Referred to police; no further school action', rationale: 'Police are investigating', outcome: 'Police referral' };
    const first = await call('dsl', 'POST', '/api/incidents/ES-2026-0506/close', close, { 'if-match': etag! });
    expect(first.status).toBe(202);
    expect(first.body.status).toBe('awaiting-second-signoff');
    expect((await call('dsl', 'POST', '/api/incidents/ES-2026-0506/close/confirm', {}, { 'if-match': first.etag! })).status).toBe(403);
    expect((await call('coordinator', 'POST', '/api/incidents/ES-2026-0506/close/confirm', {}, { 'if-match': first.etag! })).status).toBe(403);
    const confirmed = await call('headteacher', 'POST', '/api/incidents/ES-2026-0506/close/confirm', {}, { 'if-match': first.etag! });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('closed');
    expect((confirmed.body.incident as Record<string, string>).status).toBe('closed');
    const actions = (await audit.listAudit(app.schoolId, { target: 'ES-2026-0506' })).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['incident.close.request:succeeded', 'incident.close.confirm:denied', 'incident.close.confirm:succeeded']));
  });

  it('keeps an allegation about the DSL from the DSL: no list entry, 403, and the head can work it', async () => {
    await seed('ES-2026-0507', { type: 'inappropriate-communication', audience: 'staff-concern', subject: 'staff', involved: [{ kind: 'staff' }], subjectId: users.dsl.aadObjectId, dslExcluded: true });
    expect((await open('dsl', 'ES-2026-0507')).status).toBe(403);
    const dslList = ((await call('dsl', 'GET', '/api/incidents')).body.incidents as { reference: string }[]).map((i) => i.reference);
    expect(dslList).not.toContain('ES-2026-0507');
    const head = await open('headteacher', 'ES-2026-0507');
    expect(head.status).toBe(200);
    expect(head.view.suggestedActions[0].id).toBe('refer-lado');
    expect(head.view.secondSignOff.required).toBe(true);
  });

  it('suspends a pupil’s sign-in through Graph, prompts to inform parents, and restores it on the date exactly once', async () => {
    await seed('ES-2026-0508', { type: 'network-misuse' });
    const { etag } = await open('headteacher', 'ES-2026-0508');
    expect((await call('coordinator', 'POST', '/api/incidents/ES-2026-0508/sanctions', { upn, kind: 'suspend-access', until: '2026-06-15', why: 'x' }, { 'if-match': etag! })).status).toBe(403);
    expect((await call('headteacher', 'POST', '/api/incidents/ES-2026-0508/sanctions', { upn: '21ashc@school.example', kind: 'suspend-access', until: '2026-06-15', why: 'x' }, { 'if-match': etag! })).status).toBe(400);
    const suspended = await call('headteacher', 'POST', '/api/incidents/ES-2026-0508/sanctions', { upn, kind: 'suspend-access', until: '2026-06-15', why: 'Used a proxy again' }, { 'if-match': etag! });
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ prompt: expect.stringContaining('parents'), sanction: { until: '2026-06-15', state: 'active' } });
    expect(fake.users.get(pupilUserId)).toMatchObject({ accountEnabled: false, signInSessionsRevoked: 1 });

    const restoreDeps = { schoolId: app.schoolId, incidents, sanctions: new SanctionStore(app.services.tables), graph: app.services.graph, audit, clock: () => now };
    expect(await restoreDueSanctions(restoreDeps)).toBe(0);
    now = new Date('2026-06-15T06:00:00Z');
    const [a, b] = await Promise.all([restoreDueSanctions(restoreDeps), restoreDueSanctions(restoreDeps)]);
    expect(a + b).toBe(1);
    expect(await restoreDueSanctions(restoreDeps)).toBe(0);
    expect(fake.users.get(pupilUserId)!.accountEnabled).toBe(true);
    const history = await call('dsl', 'GET', `/api/pupils/${encodeURIComponent(upn)}/incidents`);
    expect(history.status).toBe(200);
    expect(history.body.sanctions).toEqual([expect.objectContaining({ reference: 'ES-2026-0508', until: '2026-06-15', state: 'restored' })]);
    expect((history.body.incidents as { reference: string }[]).map((i) => i.reference)).toContain('ES-2026-0508');
    expect((await call('coordinator', 'GET', `/api/pupils/${encodeURIComponent(upn)}/incidents`)).status).toBe(403);
    now = new Date('2026-06-10T09:00:00Z');
  });

  it('says when a pupil reaches the threshold of incidents in a term, with the escalation', async () => {
    const { view } = await open('dsl', 'ES-2026-0502');
    expect(view.repeatWarnings).toEqual([expect.objectContaining({ pupilId: 'p-wren', threshold: 3, term: 'Summer term 2026' })]);
    expect(view.repeatWarnings[0].count).toBeGreaterThanOrEqual(3);
    expect(view.repeatWarnings[0].escalation.map((a: { id: string }) => a.id)).toContain('refer-headteacher');
  });

  it('never reports a saved close as "nothing was saved", and writes its audit entry, when the counts cannot be updated', async () => {
    await seed('ES-2026-0509');
    const principal = { aadObjectId: users.dsl.aadObjectId, roles: new Set(['dsl', 'staff'] as const) };
    const current = (await incidents.getIncident(app.schoolId, 'ES-2026-0509'))!;
    const deps = {
      schoolId: app.schoolId,
      incidents,
      audit,
      matrix: DEFAULT_RESPONSE_MATRIX,
      clock: () => now,
      aggregates: { updateMonth: async () => Promise.reject(new Error('storage is down')) },
    };
    const result = await closeIncident(deps, principal, 'ES-2026-0509', { etag: current.etag, decision: 'No further action', rationale: 'Resolved', outcome: 'Resolved' });
    expect(result.kind).toBe('ok');
    if (result.kind === 'ok') expect(result.value.warnings?.join(' ')).toMatch(/Saved/);
    expect((await incidents.getIncident(app.schoolId, 'ES-2026-0509'))!.status).toBe('closed');
    const closes = await audit.listAudit(app.schoolId, { target: 'ES-2026-0509', action: 'incident.close' });
    expect(closes.map((e) => e.outcome)).toEqual(['succeeded']);
  });

  it('in Graph plan mode records what a suspension would do and changes nothing in Microsoft 365', async () => {
    await seed('ES-2026-0510', { type: 'network-misuse' });
    const requestsBefore = fake.records.length;
    const register = new PupilRegisterStore(app.services.tables);
    const deps = {
      schoolId: app.schoolId,
      incidents,
      audit,
      matrix: DEFAULT_RESPONSE_MATRIX,
      clock: () => now,
      aggregates: { updateMonth: async () => undefined },
      roles: { listRoleMembers: async () => [] },
      register,
      pupils: register,
      sanctions: new SanctionStore(app.services.tables),
      graph: undefined,
    };
    const head = { aadObjectId: users.headteacher.aadObjectId, roles: new Set(['headteacher', 'staff'] as const) };
    const current = (await incidents.getIncident(app.schoolId, 'ES-2026-0510'))!;
    const result = await suspendPupilAccess(deps, head, 'ES-2026-0510', { etag: current.etag, upn, kind: 'suspend-access', until: '2026-06-20', why: 'Proxy use' });
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok' || !('chronology' in result.value)) throw new Error('not saved');
    expect(result.value.sanction.state).toBe('planned');
    expect(result.value.chronology.at(-1)!.what).toMatch(/^Plan mode: would suspend/);
    expect(fake.records.length).toBe(requestsBefore);
  });

  it('names people from the directory (Graph), and by their role where Graph does not know them', async () => {
    await seed('ES-2026-0511', { reporterId: users.headteacher.aadObjectId });
    const { view } = await open('dsl', 'ES-2026-0511');
    expect(view.reporter.name).toBe('Rowan Ashdown');
    const other = await open('dsl', 'ES-2026-0501');
    expect(other.view.reporter.name).toMatch(/^Member of staff \(…[0-9a-f]{4}\)$/);
  });

  it('holds up to 12 referrals with the longest reasons on the incident row, and asks for further ones as actions', async () => {
    await seed('ES-2026-0512');
    let etag = (await open('dsl', 'ES-2026-0512')).etag!;
    for (let i = 0; i < 12; i++) {
      const saved = await call('dsl', 'POST', '/api/incidents/ES-2026-0512/referrals', { to: 'police', why: 'é'.repeat(1000), externalReference: 'R'.repeat(100) }, { 'if-match': etag });
      expect(saved.status).toBe(200);
      etag = saved.etag!;
    }
    const more = await call('dsl', 'POST', '/api/incidents/ES-2026-0512/referrals', { to: 'police', why: 'Again' }, { 'if-match': etag });
    expect(more.status).toBe(400);
    expect((await open('dsl', 'ES-2026-0512')).view.referrals).toHaveLength(12);
  });
});

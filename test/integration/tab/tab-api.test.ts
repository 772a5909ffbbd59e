import { AuditStore } from '../../../records/audit-store';
import { IncidentAggregateStore } from '../../../records/incident-aggregate-store';
import { IncidentStore } from '../../../records/incident-store';
import { rebuildIncidentAggregates } from '../../../usecases/summarise-incidents';
import { startTestApp, type TestApp } from '../../support/test-app';
import { rolesOf, tabApiCaller, tabRoleUsers, type Who } from '../../support/tab-api';
import { seedIncident, startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';

const users = tabRoleUsers();

// Planted in the incidents: none of it may ever reach a governor.
const PUPIL_NAME = 'Zebedee Quaxworth';
const STANDARD_REF = 'ES-2026-0101';
const CP_REF = 'ES-2026-0102';
const STAFF_REF = 'ES-2026-0103';
const HEAD_REF = 'ES-2026-0104';

describe('tab API', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({
      roles: rolesOf(users),
      env: idp.env,
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z') },
    });
    call = tabApiCaller(app, idp, users);
    const deps = { incidents: new IncidentStore(app.services.tables), tables: app.services.tables };
    const description = `${PUPIL_NAME} shared ES-2026-9999 with a friend.`;
    await seedIncident(deps, app.schoolId, { reference: STANDARD_REF, type: 'cyberbullying', description, createdAt: '2026-10-05T09:00:00.000Z' });
    await seedIncident(deps, app.schoolId, { reference: CP_REF, type: 'safeguarding-contact', audience: 'child-protection', childProtection: true, description, createdAt: '2026-10-06T09:00:00.000Z' });
    await seedIncident(deps, app.schoolId, { reference: STAFF_REF, type: 'inappropriate-communication', audience: 'staff-concern', subject: 'staff', involved: [{ kind: 'staff' }], description, createdAt: '2026-10-07T09:00:00.000Z' });
    await seedIncident(deps, app.schoolId, { reference: HEAD_REF, type: 'data-breach', audience: 'headteacher-concern', subject: 'staff', involved: [{ kind: 'headteacher' }], description, createdAt: '2026-10-08T09:00:00.000Z' });
    for (let i = 0; i < 3; i++) {
      await seedIncident(deps, app.schoolId, { reference: `ES-2026-02${i}0`, type: 'inappropriate-website', yearGroups: ['Year 5'], description, createdAt: `2026-09-1${i}T09:00:00.000Z` });
    }
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });


  const everyone: Who[] = ['staff', 'coordinator', 'dsl', 'headteacher', 'chair', 'governor', 'admin'];
  const allowed: Record<string, Who[]> = {
    'GET /api/summary': ['coordinator', 'dsl', 'headteacher', 'chair', 'governor'],
    'GET /api/incidents': ['coordinator', 'dsl', 'headteacher', 'chair'],
    [`GET /api/incidents/${STANDARD_REF}`]: ['coordinator', 'dsl', 'headteacher'],
    [`GET /api/incidents/${CP_REF}`]: ['dsl', 'headteacher'],
    [`GET /api/incidents/${STAFF_REF}`]: ['dsl', 'headteacher'],
    [`GET /api/incidents/${HEAD_REF}`]: ['chair'],
    [`POST /api/incidents/${HEAD_REF}/actions`]: ['chair'],
  };
  const cases = Object.entries(allowed).flatMap(([endpoint, roles]) => everyone.map((who) => [endpoint, who, roles.includes(who) ? 'allowed' : 'denied'] as const));

  it.each(cases)('%s as %s is %s', async (endpoint, who, expected) => {
    const [method, path] = endpoint.split(' ') as [string, string];
    // An invalid action (no fields) is a 400 for those allowed, so nothing is written.
    const response = await call(who, method, path, method === 'POST' ? {} : undefined, method === 'POST' ? { 'if-match': 'W/"x"' } : {});
    if (expected === 'allowed') expect(response.status).toBe(method === 'POST' ? 400 : 200);
    else expect(response.status).toBe(403);
  });

  it('lists only the incidents each role may see', async () => {
    const refs = async (who: Who) => ((await call(who, 'GET', '/api/incidents')).body.incidents as { reference: string }[]).map((i) => i.reference);
    expect(await refs('chair')).toEqual([HEAD_REF]);
    expect(await refs('coordinator')).not.toEqual(expect.arrayContaining([CP_REF]));
    expect(await refs('coordinator')).not.toContain(STAFF_REF);
    expect(await refs('headteacher')).not.toContain(HEAD_REF);
    expect(await refs('dsl')).toEqual(expect.arrayContaining([CP_REF, STAFF_REF, STANDARD_REF]));
  });

  it('filters the list', async () => {
    const response = await call('coordinator', 'GET', '/api/incidents?type=inappropriate-website&yearGroup=Year%205&from=2026-09-01&to=2026-09-30&status=open');
    expect((response.body.incidents as unknown[]).length).toBe(3);
    expect((await call('coordinator', 'GET', '/api/incidents?status=nope')).status).toBe(400);
  });

  it('refuses requests without a valid token', async () => {
    const path = '/api/summary';
    const oid = users.governor.aadObjectId;
    const bad = {
      none: undefined,
      expired: await idp.token(oid, { expiresInSeconds: -3600 }),
      'wrong audience': await idp.token(oid, { audience: 'api://someone-else' }),
      'wrong issuer': await idp.token(oid, { issuer: 'https://login.example.test/other/v2.0' }),
      'wrong tenant': await idp.token(oid, { tid: '11111111-1111-4111-8111-111111111111' }),
      'bad signature': await idp.token(oid, { key: idp.otherKey }),
      garbage: 'not.a.token',
    };
    for (const [why, token] of Object.entries(bad)) {
      const response = await fetch(`${app.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect([why, response.status]).toEqual([why, 401]);
    }
    expect((await call('governor', 'GET', path)).status).toBe(200);
    // Entra v2 tokens carry the app id as the audience.
    const v2 = await idp.token(oid, { audience: '00000000-0000-4000-8000-00000000a11d' });
    expect((await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${v2}` } })).status).toBe(200);
  });

  it('never gives a governor a name, a description or a reference, and suppresses small numbers', async () => {
    const response = await call('governor', 'GET', '/api/summary');
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('Zebedee');
    expect(response.text).not.toContain('Quaxworth');
    expect(response.text).not.toMatch(/ES-\d{4}-\d{4}/);
    expect(response.text).not.toContain('shared');
    for (const user of Object.values(users)) expect(response.text).not.toContain(user.aadObjectId);
    const body = response.body as { totals: { incidents: unknown }; byType: { key: string; count: unknown }[]; byYearGroup: { key: string; count: unknown }[]; aupCoverage: { available: boolean } };
    // The two allegations about adults are never counted, so no head or DSL can find one by subtraction.
    expect(body.totals.incidents).toBe(5);
    expect(body.byType.find((t) => t.key === 'cyberbullying')!.count).toBe('hidden');
    expect(body.byType.find((t) => t.key === 'inappropriate-website')!.count).toBe(3);
    expect(body.byType.find((t) => t.key === 'other')!.count).toBe(0);
    // Year 4 (2) is hidden, and Year 5 (3) with it, or the total would give Year 4 away.
    expect(body.byYearGroup.find((y) => y.key === 'Year 4')!.count).toBe('hidden');
    expect(body.byYearGroup.find((y) => y.key === 'Year 5')!.count).toBe('hidden');
    // AUP coverage comes from the AUP feature: percentages per document, nobody acknowledged yet.
    expect(body.aupCoverage.available).toBe(true);
    const documents = (body.aupCoverage as unknown as { figures: { documents: { title: string; percent: number | string; groups: { group: string; percent: number | string }[] }[] } }).figures.documents;
    expect(documents.length).toBeGreaterThan(0);
    expect(documents.every((d) => d.percent === 0 || d.percent === 'hidden')).toBe(true);
    // Two people hold the governor roles: a share of two would single one out, so it is hidden.
    expect(documents.find((d) => d.title.toLowerCase().includes('governor'))).toMatchObject({ percent: 'hidden', groups: [{ group: 'governor', percent: 'hidden' }, { group: 'chair', percent: 'hidden' }] });
  });

  it('closes an incident once: a concurrent close with the same etag gets a conflict', async () => {
    const read = await call('coordinator', 'GET', `/api/incidents/${STANDARD_REF}`);
    expect(read.status).toBe(200);
    const etag = read.body.etag as string;
    expect(read.etag).toBe(etag);
    expect((read.body.suggestedActions as unknown[]).length).toBeGreaterThan(0);
    const close = { decision: 'No further action', rationale: 'Resolved in class', outcome: 'Apology given' };
    expect((await call('coordinator', 'POST', `/api/incidents/${STANDARD_REF}/close`, close)).status).toBe(428);
    expect((await call('coordinator', 'POST', `/api/incidents/${STANDARD_REF}/close`, { decision: 'x' }, { 'if-match': etag })).status).toBe(400);
    const [a, b] = await Promise.all([
      call('coordinator', 'POST', `/api/incidents/${STANDARD_REF}/close`, close, { 'if-match': etag }),
      call('headteacher', 'POST', `/api/incidents/${STANDARD_REF}/close`, { ...close, etag }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error).toMatch(/changed this incident|already closed/);
    const after = await call('dsl', 'GET', `/api/incidents/${STANDARD_REF}`);
    const chronology = after.body.chronology as { kind: string }[];
    expect(chronology.filter((c) => c.kind === 'closed')).toHaveLength(1);
    expect((after.body.incident as { status: string }).status).toBe('closed');
    const summary = await call('governor', 'GET', '/api/summary');
    expect((summary.body.totals as { closed: unknown }).closed).toBe('hidden');
  });

  it('records actions and escalations, and audits reads and writes', async () => {
    const read = await call('dsl', 'GET', `/api/incidents/${STAFF_REF}`);
    const acted = await call('dsl', 'POST', `/api/incidents/${STAFF_REF}/actions`, { what: 'refer-lado', why: 'Allegation about staff', etag: read.body.etag });
    expect(acted.status).toBe(200);
    expect((acted.body.incident as { status: string }).status).toBe('in-progress');
    const parents = await call('dsl', 'POST', `/api/incidents/${STAFF_REF}/parents-informed`, { why: 'Phoned', etag: acted.body.etag });
    expect(parents.status).toBe(200);
    const summary = await call('governor', 'GET', '/api/summary');
    const lado = (summary.body.escalated as { kind: string; count: unknown }[]).find((e) => e.kind === 'lado')!;
    // A referral about an allegation against staff is not counted: allegations about adults stay out of the summary.
    expect(lado.count).toBe(0);
    const entries = await new AuditStore(app.services.tables).listAudit(app.schoolId, { target: STAFF_REF });
    const actions = entries.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['incident.read:succeeded', 'incident.action:succeeded', 'incident.parents-informed:succeeded']));
  });

  it('keeps the annual audit and filtering review per year, and shows done or due on the summary', async () => {
    const before = await call('governor', 'GET', '/api/summary');
    expect((before.body.governance as { available: boolean }).available).toBe(false);
    const read = await call('coordinator', 'GET', '/api/school-audit');
    expect(read.status).toBe(200);
    const questions = read.body.questions as { annualAudit: { id: string }[] };
    const year = {
      policyReviewDue: '2027-09-01',
      lead: 'E-safety coordinator',
      governor: 'Safeguarding governor',
      annualAudit: questions.annualAudit.map((q) => ({ questionId: q.id, answer: 'yes', answeredOn: '2026-11-20', role: 'E-safety coordinator', comment: 'Checked' })),
      filteringReview: [{ questionId: 'filtering-tested', answer: 'no', answeredOn: '2026-11-21', role: 'IT coordinator', comment: 'Booked' }],
    };
    // The form is read-only for governors before they type (canEdit), and the server refuses their save whatever the page does.
    expect(read.body.canEdit).toBe(true);
    expect((await call('governor', 'GET', '/api/school-audit')).body.canEdit).toBe(false);
    expect((await call('governor', 'PUT', '/api/school-audit', year)).status).toBe(403);
    expect((await call('coordinator', 'PUT', '/api/school-audit', { ...year, policyReviewDue: 'soon' })).status).toBe(400);
    const saved = await call('coordinator', 'PUT', '/api/school-audit', year);
    expect(saved.status).toBe(200);
    expect((await call('dsl', 'PUT', '/api/school-audit', year)).status).toBe(409);
    expect((await call('dsl', 'PUT', '/api/school-audit', year, { 'if-match': saved.body.etag as string })).status).toBe(200);
    const after = await call('governor', 'GET', '/api/summary');
    expect(after.body.governance).toEqual({
      available: true,
      figures: { policyReviewDue: '2027-09-01', annualAudit: { status: 'done', completedOn: '2026-11-20' }, filteringReview: { status: 'due', completedOn: null, nextDue: null }, lead: 'E-safety coordinator', governor: 'Safeguarding governor' },
    });
  });

  it('rebuilds the same aggregates from the records (back-fill)', async () => {
    const before = await call('governor', 'GET', '/api/summary');
    const rebuilt = await rebuildIncidentAggregates({ incidents: new IncidentStore(app.services.tables), aggregates: new IncidentAggregateStore(app.services.tables) }, app.schoolId);
    expect(rebuilt.incidents).toBe(7);
    const after = await call('governor', 'GET', '/api/summary');
    const { generatedAt: _a, ...b } = before.body;
    const { generatedAt: _b, ...a } = after.body;
    expect(a).toEqual(b);
  });
});

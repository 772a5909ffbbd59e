import { AuditStore } from '../../../records/audit-store';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();

describe('GET /api/school-audit/pack', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => new Date('2026-11-23T09:00:00Z') } });
    call = tabApiCaller(app, idp, users);
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  it('gives governors and the leads the prefilled audit as a printable HTML download, audited; staff get 403', async () => {
    await call('coordinator', 'POST', '/api/training', { aadObjectId: users.staff.aadObjectId, course: 'Online safety update', provider: 'Local authority', completedOn: '2026-09-03' });
    await call('staff', 'POST', '/api/filtering/changes', { site: 'vikings.example', change: 'unblock', reason: 'Viking topic videos' });
    const response = await fetch(`${app.url}/api/school-audit/pack`, { headers: { authorization: `Bearer ${await idp.token(users.governor.aadObjectId)}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-disposition')).toContain('e-safety-audit-2026-27.html');
    const html = await response.text();
    expect(html).toContain('annual e-safety self-audit, 2026/27');
    expect(html).toContain('Online safety update (Local authority), 3 September 2026: 1 person');
    expect(html).toContain('1 filtering change requests this year, 0 decided');
    expect(html).not.toContain(users.staff.aadObjectId);
    expect(html).not.toContain('vikings');
    expect((await call('staff', 'GET', '/api/school-audit/pack')).status).toBe(403);
    const audit = await new AuditStore(app.services.tables).listAudit(app.schoolId, { target: 'year|2026' });
    expect(audit.map((e) => `${e.action}:${e.outcome}`)).toEqual(expect.arrayContaining(['school-audit.export:succeeded', 'school-audit.export:denied']));
  });

  it('records who took part in the filtering review and its sign-off, and shows governors when the next is due', async () => {
    const read = await call('coordinator', 'GET', '/api/school-audit');
    const questions = read.body.questions as { filteringReview: { id: string }[] };
    const year = {
      filteringReview: questions.filteringReview.map((q) => ({ questionId: q.id, answer: 'yes', answeredOn: '2026-10-14', role: 'IT coordinator', comment: '' })),
      filteringReviewSignOff: { participants: ['slt', 'dsl', 'it-provider'], signedOffBy: 'Headteacher', signedOn: '2026-10-14' },
    };
    const partial = await call('coordinator', 'PUT', '/api/school-audit', year, read.body.etag ? { 'if-match': read.body.etag as string } : {});
    expect(partial.status).toBe(200);
    expect(partial.body.filteringReview).toMatchObject({ status: 'due', missingParticipants: ['governor'] });
    const full = await call('coordinator', 'PUT', '/api/school-audit', { ...year, filteringReviewSignOff: { ...year.filteringReviewSignOff, participants: ['slt', 'dsl', 'it-provider', 'governor'] } }, { 'if-match': partial.body.etag as string });
    expect(full.status).toBe(200);
    const summary = await call('governor', 'GET', '/api/summary');
    expect((summary.body.governance as { figures: { filteringReview: unknown } }).figures.filteringReview).toEqual({ status: 'done', completedOn: '2026-10-14', nextDue: '2027-10-14' });
  });
});

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
});

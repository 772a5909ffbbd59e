import { AuditStore } from '../../../records/audit-store';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();

describe('filtering change and exception requests API', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;
  let now = new Date('2026-11-23T09:00:00Z');

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => now } });
    call = tabApiCaller(app, idp, users);
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  const exception = { site: 'https://www.vikings.example/', change: 'unblock', reason: 'Year 5 Viking topic videos', until: '2026-11-27' };

  it('any member of staff asks, and a retry is stored once; governors and pupils cannot ask', async () => {
    const first = await call('staff', 'POST', '/api/filtering/changes', exception);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{16}$/), status: 'requested' });
    const retry = await call('staff', 'POST', '/api/filtering/changes', exception);
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(first.body.id);
    expect((await call('governor', 'POST', '/api/filtering/changes', exception)).status).toBe(403);
    const bad = await call('staff', 'POST', '/api/filtering/changes', { site: 'x', change: 'allow' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toHaveLength(3);
  });

  it('the requester may not decide their own request (403), even as coordinator; the head or coordinator may, once', async () => {
    const mine = await call('coordinator', 'POST', '/api/filtering/changes', { site: 'games.example', change: 'block', reason: 'Pupils found it at wet play' });
    const id = mine.body.id as string;
    const own = await call('coordinator', 'POST', `/api/filtering/changes/${id}/decision`, { approve: true, why: 'Agreed' });
    expect(own.status).toBe(403);
    expect((await call('dsl', 'POST', `/api/filtering/changes/${id}/decision`, { approve: true, why: 'Agreed' })).status).toBe(403);
    expect((await call('staff', 'POST', `/api/filtering/changes/${id}/decision`, { approve: true, why: 'Agreed' })).status).toBe(403);
    expect((await call('headteacher', 'POST', `/api/filtering/changes/${id}/decision`, { approve: true })).status).toBe(400);
    const [a, b] = await Promise.all([
      call('headteacher', 'POST', `/api/filtering/changes/${id}/decision`, { approve: true, why: 'Blocked for all pupils' }),
      call('headteacher', 'POST', `/api/filtering/changes/${id}/decision`, { approve: false, why: 'Not needed' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((await call('headteacher', 'POST', '/api/filtering/changes/0000000000000000/decision', { approve: true, why: 'x y z' })).status).toBe(404);
    const audit = await new AuditStore(app.services.tables).listAudit(app.schoolId, { target: `filtering-change:${id}` });
    expect(audit.map((e) => `${e.action}:${e.outcome}`)).toEqual(expect.arrayContaining(['filtering.change.request:succeeded', 'filtering.change.decide:denied', 'filtering.change.decide:succeeded']));
  });

  it('an approved temporary exception shows as due for reversal on its date; staff see only their own requests', async () => {
    const listed = await call('coordinator', 'GET', '/api/filtering/changes');
    const id = (listed.body.changes as { id: string; site: string }[]).find((c) => c.site === 'vikings.example')!.id;
    expect((await call('coordinator', 'POST', `/api/filtering/changes/${id}/decision`, { approve: true, why: 'Topic needs it for a week' })).status).toBe(200);
    let list = await call('headteacher', 'GET', '/api/filtering/changes');
    expect(list.body.dueForReversal).toBe(0);
    now = new Date('2026-11-27T08:00:00Z');
    list = await call('headteacher', 'GET', '/api/filtering/changes');
    expect(list.body.dueForReversal).toBe(1);
    expect((list.body.changes as { id: string; dueForReversal: boolean; decidedBy: string }[]).find((c) => c.id === id)).toMatchObject({ dueForReversal: true, status: 'approved', decidedBy: users.coordinator.aadObjectId });
    const own = await call('staff', 'GET', '/api/filtering/changes');
    expect((own.body.changes as { requestedBy: string }[]).every((c) => c.requestedBy === users.staff.aadObjectId)).toBe(true);
    expect((own.body.changes as unknown[]).length).toBe(1);
    expect((await call('governor', 'GET', '/api/filtering/changes')).status).toBe(403);
    // Governors see the year's counts only, and with 2 requests (one decided by the race above) every count of 1 or 2 is hidden.
    const summary = await call('governor', 'GET', '/api/summary');
    const figures = (summary.body.filtering as { available: boolean; figures: Record<string, unknown> }).figures;
    expect(figures).toMatchObject({ requests: 'hidden', waiting: 0, dueForReversal: 'hidden' });
    expect(Object.values(figures).every((v) => v === 'hidden' || v === 0)).toBe(true);
    expect(summary.text).not.toContain('vikings');
  });
});

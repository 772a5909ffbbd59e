import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();

describe('training register API', () => {
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

  it('the coordinator records training once; others may not', async () => {
    const body = { aadObjectId: users.staff.aadObjectId, course: 'Online safety update', provider: 'Local authority', completedOn: '2025-11-20' };
    const first = await call('coordinator', 'POST', '/api/training', body);
    expect(first.status).toBe(201);
    expect((await call('coordinator', 'POST', '/api/training', body)).status).toBe(200);
    for (const who of ['staff', 'governor', 'admin', 'chair'] as const) expect([who, (await call(who, 'POST', '/api/training', body)).status]).toEqual([who, 403]);
    expect((await call('coordinator', 'POST', '/api/training', { ...body, completedOn: 'last week' })).status).toBe(400);
  });

  it('records a CSV and lists who is due, governors included', async () => {
    const csv = ['aad_object_id,course,provider,completed_on', `${users.governor.aadObjectId},Governor online safety,NGA,2026-10-01`, `${users.chair.aadObjectId},,NGA,2026-10-01`].join('\n');
    const imported = await call('headteacher', 'POST', '/api/training/csv', { csv });
    expect(imported.body).toMatchObject({ recorded: 1, alreadyRecorded: 0, problems: [{ row: 3, message: expect.stringContaining('course') }] });
    const list = await call('dsl', 'GET', '/api/training');
    expect(list.status).toBe(200);
    expect((list.body.records as unknown[]).length).toBe(2);
    const due = list.body.due as { aadObjectId: string; status: string; dueOn: string }[];
    expect(due.find((d) => d.aadObjectId === users.staff.aadObjectId)).toMatchObject({ status: 'due', dueOn: '2026-11-20' });
    expect(due.find((d) => d.aadObjectId === users.governor.aadObjectId)).toMatchObject({ status: 'current', dueOn: '2027-10-01' });
    expect(due.find((d) => d.aadObjectId === users.chair.aadObjectId)).toMatchObject({ status: 'never' });
    // Named for the coordinator: without a tenant, by role title and the end of the object id.
    expect(due.find((d) => d.aadObjectId === users.governor.aadObjectId)).toMatchObject({ name: `Governor (…${users.governor.aadObjectId.slice(-4)})` });
    const records = list.body.records as { aadObjectId: string; name?: string }[];
    expect(records.find((r) => r.aadObjectId === users.staff.aadObjectId)?.name).toBe(`Member of staff (…${users.staff.aadObjectId.slice(-4)})`);
    expect((await call('governor', 'GET', '/api/training')).status).toBe(403);
  });

  it("shows governors training coverage without singling anyone out", async () => {
    const summary = await call('governor', 'GET', '/api/summary');
    // Seven people hold staff or governor roles; only the governor is up to date, so 1 and 6 are both hidden.
    expect(summary.body.training).toEqual({ available: true, figures: { people: 7, current: 'hidden', notCurrent: 'hidden', currentPercent: 'hidden' } });
    expect(summary.text).not.toContain(users.governor.aadObjectId);
  });
});

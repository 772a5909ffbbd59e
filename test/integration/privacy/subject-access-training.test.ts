import { privacyFeature } from '../../../app/privacy-feature';
import { TrainingStore } from '../../../records/training-store';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();

describe('training records in the subject access pack', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => new Date('2026-11-23T09:00:00Z'), features: [privacyFeature] } });
    call = tabApiCaller(app, idp, users);
    const store = new TrainingStore(app.services.tables);
    const record = { course: 'Online safety refresher', provider: 'Local authority', recordedBy: users.coordinator.aadObjectId, recordedAt: '2026-10-02T10:00:00.000Z' };
    await store.recordTraining(app.schoolId, { ...record, aadObjectId: users.governor.aadObjectId, completedOn: '2026-10-01' });
    await store.recordTraining(app.schoolId, { ...record, aadObjectId: users.staff.aadObjectId, completedOn: '2026-09-15', course: 'Prevent awareness' });
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  it('lists the person\'s own training with UK dates, and nobody else\'s', async () => {
    const pack = await call('dsl', 'POST', '/api/subject-access', { aadObjectId: users.governor.aadObjectId });
    expect(pack.status).toBe(200);
    const section = /<section id="training">([\s\S]*?)<\/section>/.exec(String(pack.body.html))![1]!;
    expect(section).toContain('<td>Online safety refresher</td><td>Local authority</td><td>1 October 2026</td><td>2 October 2026</td>');
    expect(section).not.toContain('Prevent awareness');
  });
});

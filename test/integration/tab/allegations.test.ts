import { randomUUID } from 'node:crypto';
import { createTabFeature } from '../../../app/tab-feature';
import { londonDate } from '../../../school/uk-dates';
import { reportIncident } from '../../../usecases/report-incident';
import { rolesOf, tabApiCaller, tabRoleUsers, type Who } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
const NOW = new Date('2026-03-10T10:00:00Z');

describe('allegations against staff protect their subject', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => NOW, features: [createTabFeature()] } });
    call = tabApiCaller(app, idp, users);
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  async function report(involved: string, subjectStaff?: string): Promise<string> {
    const outcome = await reportIncident(app.services.report, {
      principal: { aadObjectId: users.staff.aadObjectId, roles: new Set(['staff']) },
      submissionId: randomUUID(),
      correlationId: 'test',
      values: {
        occurredOn: londonDate(NOW),
        involved,
        incidentType: 'inappropriate-communication',
        description: 'A member of staff messaged a pupil privately on a personal account.',
        ...(subjectStaff ? { subjectStaff } : {}),
      },
    });
    if (outcome.kind !== 'recorded') throw new Error(`Not recorded: ${JSON.stringify(outcome)}`);
    return outcome.incident.reference;
  }

  const alerted = async (reference: string) => (await app.services.report.incidents.listAlertsForIncident(app.schoolId, reference)).map((a) => a.recipientId).sort();
  const listed = async (who: Who) => ((await call(who, 'GET', '/api/incidents')).body.incidents as { reference: string }[]).map((i) => i.reference);

  it('about the DSL: the head alone is alerted; the DSL gets no alert, no list entry and 403', async () => {
    const reference = await report('staff', users.dsl.aadObjectId);
    expect(await alerted(reference)).toEqual([users.headteacher.aadObjectId]);
    expect(await listed('dsl')).not.toContain(reference);
    expect((await call('dsl', 'GET', `/api/incidents/${reference}`)).status).toBe(403);
    const head = await call('headteacher', 'GET', `/api/incidents/${reference}`);
    expect(head.status).toBe(200);
    expect(head.body.subjectName).toMatch(/^Designated Safeguarding Lead/);
    expect((head.body.secondSignOff as { required: boolean }).required).toBe(true);
  });

  it('about the coordinator: the head and the DSL are alerted, never the coordinator, who gets 403', async () => {
    const reference = await report('staff', users.coordinator.aadObjectId);
    expect(await alerted(reference)).toEqual([users.headteacher.aadObjectId, users.dsl.aadObjectId].sort());
    expect((await call('coordinator', 'GET', `/api/incidents/${reference}`)).status).toBe(403);
  });

  it('about the headteacher (named as staff): the chair alone, with the LADO suggested at once; the head gets 403', async () => {
    const reference = await report('staff', users.headteacher.aadObjectId);
    expect(await alerted(reference)).toEqual([users.chair.aadObjectId]);
    expect((await call('headteacher', 'GET', `/api/incidents/${reference}`)).status).toBe(403);
    expect(await listed('headteacher')).not.toContain(reference);
    const chair = await call('chair', 'GET', `/api/incidents/${reference}`);
    expect((chair.body.suggestedActions as { id: string }[])[0]!.id).toBe('refer-lado');
  });

  it('about someone who cannot be resolved: still saved, routed as if about the DSL (the head only)', async () => {
    const reference = await report('staff', 'not-a-person');
    expect(await alerted(reference)).toEqual([users.headteacher.aadObjectId]);
    expect((await call('dsl', 'GET', `/api/incidents/${reference}`)).status).toBe(403);
    const head = await call('headteacher', 'GET', `/api/incidents/${reference}`);
    expect((head.body.incident as { subjectUnresolved: boolean }).subjectUnresolved).toBe(true);
  });
});

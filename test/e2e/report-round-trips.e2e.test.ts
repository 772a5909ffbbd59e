import { randomUUID } from 'node:crypto';
import { PupilRegisterStore, type PupilRecord } from '../../records/pupil-register-store';
import { StorageRoundTripCounter } from '../../records/storage-round-trips';
import { Tables } from '../../records/tables';
import { testTablesConnectionString } from '../support/tables';
import { startTestApp, type TestApp } from '../support/test-app';
import { cardActionInvoke, installActivity, newUser } from '../support/teams-activities';

const teachers = Array.from({ length: 5 }, (_, i) => newUser(`Teacher ${i}`));
const coordinator = newUser('Coordinator');
const dsl = newUser('DSL');
const REPORTS = 30;

/** The budget: at most 6 storage round trips per report at load, alerts included (issue 14). */
describe('/report storage round trips', () => {
  let app: TestApp;
  const counter = new StorageRoundTripCounter();

  beforeAll(async () => {
    const tables = new Tables({ connectionString: testTablesConnectionString(), policies: [counter.policy] });
    app = await startTestApp({ roles: { staff: [...teachers, coordinator, dsl], coordinator: [coordinator], dsl: [dsl] }, overrides: { tables } });
    const now = new Date().toISOString();
    const pupils: PupilRecord[] = Array.from({ length: 40 }, (_, i) => ({
      externalId: `P${i}`,
      forename: `Pupil${i}`,
      surname: 'Test',
      cohort: '2020',
      yearGroup: 'Year 4',
      userPrincipalName: `p${i}@school.example`,
      status: 'active',
      groups: [],
      createdAt: now,
      updatedAt: now,
    }));
    await new PupilRegisterStore(tables).savePupils(app.schoolId, pupils);
    for (const person of [coordinator, dsl]) await app.post(installActivity(person, app.connector.serviceUrl));
  });

  afterAll(async () => {
    await app?.close();
  });

  function form(i: number, childProtection: boolean): Record<string, unknown> {
    return {
      submissionId: randomUUID(),
      occurredOn: new Date().toISOString().slice(0, 10),
      occurredAt: '10:00',
      involved: `pupil:P${i % 40}`,
      location: 'Room 2',
      incidentType: 'inappropriate-website',
      description: `Concern number ${i}, described in enough words to be valid.`,
      actionTaken: '',
      childProtection: String(childProtection),
    };
  }

  const alertCount = (): number => app.connector.sent.filter((s) => /concern ES-\d{4}-\d+/.test(String(s.activity.text ?? ''))).length;

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  it('when reports arrive together, each costs at most 6 round trips with its alerts, and each is stored, audited and alerted once', async () => {
    // Warm-up: tables exist and both people have been reached once, as on a server that has been running.
    await app.post(cardActionInvoke(teachers[0]!, 'submitIncident', form(0, true), app.connector.serviceUrl));
    await until(() => alertCount() >= 2);
    const alertsBefore = alertCount();
    const before = counter.snapshot();

    const forms = Array.from({ length: REPORTS }, (_, i) => form(i, i % 5 === 0));
    const responses = await Promise.all(forms.map((f, i) => app.post(cardActionInvoke(teachers[i % teachers.length]!, 'submitIncident', f, app.connector.serviceUrl))));
    const expectedAlerts = forms.reduce((n, f) => n + (f.childProtection === 'true' ? 2 : 1), 0);
    await until(() => alertCount() - alertsBefore >= expectedAlerts);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const used = counter.since(before);

    const references = responses.map((r) => /ES-\d{4}-\d{4,}/.exec(JSON.stringify(r.body))?.[0]);
    expect(new Set(references).size).toBe(REPORTS);
    expect(alertCount() - alertsBefore).toBe(expectedAlerts);
    expect(used.total / REPORTS).toBeLessThanOrEqual(6);
    // The audit line was written in the incident's own transaction.
    const audit = await app.services.report.audit.listAudit(app.schoolId, { target: references[3]! });
    expect(audit.map((a) => `${a.action}:${a.outcome}`)).toEqual(['incident.create:succeeded']);
    const alerts = (await Promise.all(references.map((r) => app.services.report.incidents.listAlertsForIncident(app.schoolId, r!)))).flat();
    expect(alerts.filter((a) => a.status !== 'delivered')).toEqual([]);
  });
});

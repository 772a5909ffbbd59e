import { AuditStore } from '../../../records/audit-store';
import { FilteringStore } from '../../../records/filtering-store';
import { PupilRegisterStore } from '../../../records/pupil-register-store';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
const NOW = new Date('2026-11-23T09:00:00Z');

/** Issue 13 §1: "create incident" on an alert opens a real incident through the /report use case. */
describe('a filtering alert triaged "incident" opens one incident', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;
  let alertIds: Record<string, string>;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => NOW } });
    call = tabApiCaller(app, idp, users);
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [
      { externalId: 'P401', forename: 'Sam', surname: 'Jones', cohort: '2020', userPrincipalName: '2020samj@school.example', status: 'active', groups: [], createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() },
      { externalId: 'P402', forename: 'Lee', surname: 'Cole', cohort: '2020', userPrincipalName: '2020leec@school.example', status: 'active', groups: [], createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() },
    ]);
    const csv = [
      'time,upn,url,category,action',
      // 14:05 UTC in November is 14:05 in London; 2026-06 would be BST.
      '2026-11-22T14:05:00Z,2020SamJ@school.example,chat.example/room,Chat,Flagged',
      '2026-11-22T15:00:00Z,2020samj@school.example,shop.example,Shopping,Blocked',
      '2026-11-22T16:00:00Z,2020samj@school.example,games.example,Games,Blocked',
      '2026-11-22T16:30:00Z,2020leec@school.example,video.example,Video,Allowed',
    ].join('\n');
    expect((await call('coordinator', 'POST', '/api/filtering/alerts', { csv })).status).toBe(200);
    const list = await call('coordinator', 'GET', '/api/filtering/alerts');
    alertIds = Object.fromEntries((list.body.alerts as { id: string; site: string }[]).map((a) => [a.site, a.id]));
    expect(list.body.incidentTypes).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'inappropriate-website' })]));
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  it('creates exactly one incident with the pupil and time from the alert, alerts the coordinator (not the DSL who reported it), and audits it', async () => {
    const id = alertIds['chat.example/room']!;
    const first = await call('dsl', 'POST', `/api/filtering/alerts/${id}/triage`, { outcome: 'incident', incidentType: 'inappropriate-website' });
    expect(first.status).toBe(200);
    const reference = (first.body.incident as { reference: string }).reference;
    expect(reference).toMatch(/^ES-2026-\d{4}$/);
    expect(first.body.triage).toMatchObject({ outcome: 'incident', incidentReference: reference, by: users.dsl.aadObjectId });

    // A double click or a retry: the same reference, no second incident.
    const again = await call('dsl', 'POST', `/api/filtering/alerts/${id}/triage`, { outcome: 'incident', incidentType: 'inappropriate-website' });
    expect(again.status).toBe(200);
    expect(again.body.incident).toEqual({ reference, duplicate: true });
    const byDsl = await app.services.report.incidents.listIncidentsByReporter(app.schoolId, users.dsl.aadObjectId);
    expect(byDsl.map((i) => i.reference)).toEqual([reference]);

    const incident = (await app.services.report.incidents.getIncident(app.schoolId, reference))!;
    expect(incident).toMatchObject({ type: 'inappropriate-website', occurredOn: '2026-11-22', occurredAt: '14:05', involved: [{ kind: 'pupil', pupilId: 'P401' }], reporterId: users.dsl.aadObjectId, submissionId: `filtering-alert-${id}` });
    expect(incident.description).toContain('chat.example/room');
    expect(incident.description).toContain(`Source: filtering alert ${id}`);
    expect(incident.description).not.toContain('2020samj');

    const queued = await app.services.report.incidents.listAlertsForIncident(app.schoolId, reference);
    const recipients = queued.map((a) => a.recipientId);
    expect(recipients).toContain(users.coordinator.aadObjectId);
    // The DSL triaged it, so, as with /report, the reporter is not alerted about their own report.
    expect(recipients).not.toContain(users.dsl.aadObjectId);

    const audit = new AuditStore(app.services.tables);
    expect((await audit.listAudit(app.schoolId, { target: reference, action: 'incident.create' })).filter((e) => e.outcome === 'succeeded')).toHaveLength(1);
    expect(await audit.listAudit(app.schoolId, { target: `filtering-alert:${id}`, action: 'filtering.alerts.triage' })).toHaveLength(1);

    const listed = await call('coordinator', 'GET', '/api/filtering/alerts');
    expect((listed.body.alerts as { id: string; triage: { incidentReference?: string } | null }[]).find((a) => a.id === id)!.triage!.incidentReference).toBe(reference);
  });

  it('routes like any report: a child-protection type picked in the page alerts the coordinator and the DSL', async () => {
    const id = alertIds['games.example']!;
    const opened = await call('headteacher', 'POST', `/api/filtering/alerts/${id}/triage`, { outcome: 'incident', incidentType: 'safeguarding-contact' });
    expect(opened.status).toBe(200);
    const reference = (opened.body.incident as { reference: string }).reference;
    const queued = await app.services.report.incidents.listAlertsForIncident(app.schoolId, reference);
    expect(queued.map((a) => a.recipientId).sort()).toEqual([users.coordinator.aadObjectId, users.dsl.aadObjectId].sort());
    expect((await app.services.report.incidents.getIncident(app.schoolId, reference))!).toMatchObject({ type: 'safeguarding-contact', childProtection: true });
  });

  it('refuses a governor and a teacher, and a bad type with 400, leaving the alert untriaged', async () => {
    const id = alertIds['shop.example']!;
    expect((await call('governor', 'POST', `/api/filtering/alerts/${id}/triage`, { outcome: 'incident' })).status).toBe(403);
    expect((await call('staff', 'POST', `/api/filtering/alerts/${id}/triage`, { outcome: 'incident' })).status).toBe(403);
    const bad = await call('coordinator', 'POST', `/api/filtering/alerts/${id}/triage`, { outcome: 'incident', incidentType: 'not-a-type' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual([expect.stringContaining('incidentType')]);
    expect(await new FilteringStore(app.services.tables).getTriage(app.schoolId, id)).toBeUndefined();
  });

  it("answers 400 with the report validation's problems, and leaves the alert untriaged, when the alert's pupil has left the register", async () => {
    const id = alertIds['video.example']!;
    const register = new PupilRegisterStore(app.services.tables);
    const lee = (await register.listPupils(app.schoolId)).find((p) => p.externalId === 'P402')!;
    await register.savePupils(app.schoolId, [{ ...lee, status: 'leaver-disabled' }]);
    const refused = await call('coordinator', 'POST', `/api/filtering/alerts/${id}/triage`, { outcome: 'incident' });
    expect(refused.status).toBe(400);
    expect(refused.body.problems).toEqual([expect.stringMatching(/^involved: .*no longer on the register/)]);
    expect(await new FilteringStore(app.services.tables).getTriage(app.schoolId, id)).toBeUndefined();
    // Still open to triage: "no action" with a reason works afterwards.
    expect((await call('coordinator', 'POST', `/api/filtering/alerts/${id}/triage`, { outcome: 'no-action', reason: 'Pupil has left; nothing to record' })).status).toBe(200);
  });
});

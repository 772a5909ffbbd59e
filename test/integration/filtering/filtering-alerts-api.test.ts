import type { ConversationReference } from 'botbuilder';
import { createMemoryLogger } from '../../../infra/logger';
import { AuditStore } from '../../../records/audit-store';
import { ConversationStore } from '../../../records/conversation-store';
import { FilteringStore } from '../../../records/filtering-store';
import { PupilRegisterStore } from '../../../records/pupil-register-store';
import { sendFilteringDigest } from '../../../usecases/filtering-alerts';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
const NOW = new Date('2026-11-23T09:00:00Z');

describe('filtering alerts API and daily digest', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => NOW } });
    call = tabApiCaller(app, idp, users);
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [
      { externalId: 'P301', forename: 'Alex', surname: 'Smith', cohort: '2021', userPrincipalName: '2021alexs@school.example', status: 'active', groups: [], createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() },
    ]);
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  const csv = ['time,upn,url,category,action', '2026-11-22T10:15:00Z,2021AlexS@school.example,games.example/play,Games,Blocked', '2026-11-22T11:00:00Z,visitor1,adult.example,Adult,Allowed'].join('\n');

  it('the coordinator uploads the export; alerts are stored once and pupils matched to the register', async () => {
    expect((await call('staff', 'POST', '/api/filtering/alerts', { csv })).status).toBe(403);
    const first = await call('coordinator', 'POST', '/api/filtering/alerts', { csv });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ stored: 2, alreadyStored: 0, matchedPupils: 1, problems: [] });
    expect((await call('coordinator', 'POST', '/api/filtering/alerts', { csv })).body).toMatchObject({ stored: 0, alreadyStored: 2 });
    expect((await call('coordinator', 'POST', '/api/filtering/alerts', { csv: 'a,b\n1,2' })).status).toBe(400);
  });

  it('triages each alert once: no action with a reason, or an incident prefilled with the pupil', async () => {
    const list = await call('dsl', 'GET', '/api/filtering/alerts');
    const alerts = list.body.alerts as { id: string; site: string; pupilId?: string }[];
    const games = alerts.find((a) => a.site === 'games.example/play')!;
    const adult = alerts.find((a) => a.site === 'adult.example')!;
    expect(games.pupilId).toBe('P301');
    expect((await call('coordinator', 'POST', `/api/filtering/alerts/${adult.id}/triage`, { outcome: 'no-action' })).status).toBe(400);
    const none = await call('coordinator', 'POST', `/api/filtering/alerts/${adult.id}/triage`, { outcome: 'no-action', reason: 'Visitor laptop, reported to IT' });
    expect(none.status).toBe(200);
    const incident = await call('headteacher', 'POST', `/api/filtering/alerts/${games.id}/triage`, { outcome: 'incident' });
    expect(incident.body.prefill).toEqual({ type: 'inappropriate-website', occurredOn: '2026-11-22', occurredAt: '10:15', involved: [{ kind: 'pupil', pupilId: 'P301' }], description: expect.stringContaining('Games') });
    expect((incident.body.incident as { reference: string }).reference).toMatch(/^ES-2026-\d{4}$/);
    expect((await call('coordinator', 'POST', `/api/filtering/alerts/${games.id}/triage`, { outcome: 'incident' })).status).toBe(409);
    expect((await call('coordinator', 'POST', '/api/filtering/alerts/nope/triage', { outcome: 'incident' })).status).toBe(404);
  });

  it('sends the coordinator one content-free digest a day, however many instances run it', async () => {
    const conversations = new ConversationStore(app.services.tables);
    await conversations.upsertConversation(app.schoolId, users.coordinator.aadObjectId, { user: { id: '29:c', name: 'c', aadObjectId: users.coordinator.aadObjectId }, conversation: { id: 'a:c', isGroup: false, conversationType: 'personal', name: '' }, serviceUrl: 'http://127.0.0.1/' }, NOW);
    const sent: { to: string; text: string }[] = [];
    const deps = {
      schoolId: app.schoolId,
      store: new FilteringStore(app.services.tables),
      register: new PupilRegisterStore(app.services.tables),
      audit: new AuditStore(app.services.tables),
      clock: () => NOW,
      roles: { listRoleMembers: async (role: string) => (role === 'coordinator' ? [users.coordinator.aadObjectId] : []) },
      conversations,
      messenger: { sendText: async (reference: Partial<ConversationReference>, text: string) => void sent.push({ to: reference.user!.aadObjectId!, text }) },
      logger: createMemoryLogger('warn'),
    };
    const [a, b] = await Promise.all([sendFilteringDigest(deps), sendFilteringDigest(deps)]);
    expect([a, b].filter((r) => r !== undefined)).toEqual([{ sent: 1 }]);
    expect(sent).toEqual([{ to: users.coordinator.aadObjectId, text: 'Filtering and monitoring, 22 November 2026: 2 alerts (1 blocked, 0 flagged, 1 allowed); by category: Adult 1, Games 1. 0 still to triage in the Filtering tab.' }]);
  });
});

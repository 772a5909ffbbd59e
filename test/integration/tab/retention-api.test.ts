import { createRetentionReviewJob, retentionFeature } from '../../../app/retention-feature';
import { createTabFeature } from '../../../app/tab-feature';
import { createMemoryLogger } from '../../../infra/logger';
import { AuditStore } from '../../../records/audit-store';
import { IncidentStore } from '../../../records/incident-store';
import { PupilRegisterStore } from '../../../records/pupil-register-store';
import { RetentionReviewStore } from '../../../records/retention-review-store';
import type { RetentionDependencies } from '../../../usecases/incident-retention';
import { seedIncident, startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { rolesOf, tabApiCaller, tabRoleUsers, type Who } from '../../support/tab-api';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
let now = new Date('2026-11-23T02:30:00Z');

describe('retention: the daily review, the DSL\'s approval and legal hold', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let retention: RetentionDependencies;
  const incidents = () => new IncidentStore(app.services.tables);

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({
      roles: rolesOf(users),
      env: idp.env,
      overrides: { clock: () => now, features: [retentionFeature, createTabFeature()] },
    });
    const deps = { incidents: incidents(), tables: app.services.tables };
    // Reported in 2000 and 2001 with no known date of birth, and closed: past the school's 25 years. 2020: not yet.
    await seedIncident(deps, app.schoolId, { reference: 'ES-2000-0001', type: 'cyberbullying', createdAt: '2000-10-02T09:00:00.000Z', status: 'closed', closedAt: '2000-10-02T09:00:00.000Z' });
    await seedIncident(deps, app.schoolId, { reference: 'ES-2001-0001', type: 'inappropriate-website', createdAt: '2001-03-05T09:00:00.000Z', status: 'closed', closedAt: '2001-03-05T09:00:00.000Z' });
    await seedIncident(deps, app.schoolId, { reference: 'ES-2020-0001', type: 'misinformation', createdAt: '2020-06-01T09:00:00.000Z', status: 'closed', closedAt: '2020-06-01T09:00:00.000Z' });
    retention = {
      schoolId: app.schoolId,
      incidents: incidents(),
      reviews: new RetentionReviewStore(app.services.tables),
      pupils: new PupilRegisterStore(app.services.tables),
      audit: new AuditStore(app.services.tables, () => now),
      rule: app.services.config.retention,
      clock: () => now,
    };
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  const call = (who: Who | undefined, method: string, path: string, body?: unknown, etag?: string) =>
    tabApiCaller(app, idp, users)(who, method, path, body, etag ? { 'if-match': etag } : {});

  it('the daily review runs once per UK day across instances, from 03:00, and deletes nothing', async () => {
    const reviews = new RetentionReviewStore(app.services.tables);
    const jobs = [1, 2].map((n) => createRetentionReviewJob({ retention, reviews, logger: createMemoryLogger('debug'), instanceId: `instance-${n}` }));
    await Promise.all(jobs.map((job) => job.run()));
    expect(await reviews.listReviews(app.schoolId)).toEqual([]); // 02:30: not yet.

    now = new Date('2026-11-23T03:10:00Z');
    await Promise.all(jobs.map((job) => job.run()));
    await Promise.all(jobs.map((job) => job.run()));
    const runs = await new AuditStore(app.services.tables, () => now).listAudit(app.schoolId, { action: 'retention.review' });
    expect(runs).toHaveLength(1);
    expect((await reviews.listReviews(app.schoolId)).map((r) => [r.reference, r.status]).sort()).toEqual([['ES-2000-0001', 'pending'], ['ES-2001-0001', 'pending']]);
    expect((await incidents().listIncidents(app.schoolId)).map((i) => i.reference).sort()).toEqual(['ES-2000-0001', 'ES-2001-0001', 'ES-2020-0001']);
  });

  it.each([
    ['GET', '/api/retention', undefined],
    ['POST', '/api/retention/ES-2000-0001/approve', { rationale: 'Kept for its full period.' }],
    ['POST', '/api/incidents/ES-2000-0001/legal-hold', { hold: true, reason: 'A claim is expected.' }],
  ])('%s %s: 401 without a token, 403 for everyone but the DSL and the head', async (method, path, body) => {
    expect((await call(undefined, method, path, body, 'W/"x"')).status).toBe(401);
    for (const who of ['staff', 'coordinator', 'governor', 'admin'] as const) expect({ who, status: (await call(who, method, path, body, 'W/"x"')).status }).toEqual({ who, status: 403 });
  });

  it('the DSL sees the list (no names, no descriptions) and approves one deletion; a legal hold keeps the other', async () => {
    const list = await call('dsl', 'GET', '/api/retention');
    expect(list.status).toBe(200);
    const items = list.body.items as { reference: string; etag: string; basis: string }[];
    expect(items.map((i) => i.reference)).toEqual(['ES-2000-0001', 'ES-2001-0001']);
    expect(items.every((i) => i.basis === 'school-rule')).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain('A pupil opened a site.');

    expect((await call('dsl', 'POST', '/api/retention/ES-2000-0001/approve', { rationale: 'Kept for its full period.' })).status).toBe(428);
    expect((await call('dsl', 'POST', '/api/retention/ES-2000-0001/approve', {}, items[0]!.etag)).status).toBe(400);
    const approved = await call('dsl', 'POST', '/api/retention/ES-2000-0001/approve', { rationale: 'Kept for its full period; no open matters.' }, items[0]!.etag);
    expect(approved.status).toBe(200);
    expect(await incidents().getIncident(app.schoolId, 'ES-2000-0001')).toBeUndefined();
    expect(await incidents().listChronology(app.schoolId, 'ES-2000-0001')).toEqual([]);

    const held = await call('headteacher', 'POST', '/api/incidents/ES-2001-0001/legal-hold', { hold: true, reason: 'A claim is expected.' }, items[1]!.etag);
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ reference: 'ES-2001-0001', legalHold: true });
    // The old etag is stale now, and the hold refuses deletion whatever the etag.
    expect((await call('dsl', 'POST', '/api/retention/ES-2001-0001/approve', { rationale: 'x' }, items[1]!.etag)).body).toMatchObject({ reason: 'legal-hold' });
    expect((await call('dsl', 'POST', '/api/retention/ES-2001-0001/approve', { rationale: 'x' }, String(held.body.etag))).status).toBe(409);
    expect(await incidents().getIncident(app.schoolId, 'ES-2001-0001')).toMatchObject({ legalHold: true });
    // Not yet due: refused, not deleted.
    const recent = await incidents().getIncident(app.schoolId, 'ES-2020-0001');
    expect((await call('dsl', 'POST', '/api/retention/ES-2020-0001/approve', { rationale: 'x' }, recent!.etag)).body).toMatchObject({ reason: 'not-due' });

    // The next review no longer lists the held incident.
    now = new Date('2026-11-24T03:10:00Z');
    const job = createRetentionReviewJob({ retention, reviews: new RetentionReviewStore(app.services.tables), logger: createMemoryLogger('debug') });
    await job.run();
    expect(((await call('dsl', 'GET', '/api/retention')).body.items as unknown[])).toEqual([]);
  });
});

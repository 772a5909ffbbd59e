import { SchoolAuditStore } from '../../../records/school-audit-store';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();

describe('the ETag header of /api/school-audit works as If-Match (Azurite)', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => new Date('2026-11-20T09:00:00Z') } });
    call = tabApiCaller(app, idp, users);
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  it('sends the etag as a header, takes it back as If-Match (as sent, or decoded by a proxy), and answers a bad one with 400, not 503', async () => {
    const empty = await call('coordinator', 'GET', '/api/school-audit');
    expect(empty.etag).toBeNull(); // Nothing recorded yet: no etag, and the first save creates the year.
    const created = await call('coordinator', 'PUT', '/api/school-audit', { ...(empty.body.year as object), policyReviewDue: '2027-09-01' });
    expect(created.status).toBe(200);

    const read = await call('coordinator', 'GET', '/api/school-audit');
    expect(read.etag).toMatch(/^W\/"datetime'.+'"$/);
    expect(read.etag).toBe(read.body.etag);
    const year = read.body.year as Record<string, unknown>;

    // The case: the ETag response header reused as If-Match.
    const saved = await call('coordinator', 'PUT', '/api/school-audit', { ...year, lead: 'E-safety coordinator' }, { 'if-match': read.etag! });
    expect(saved.status).toBe(200);
    expect(saved.etag).toBe(saved.body.etag);
    expect(saved.etag).not.toBe(read.etag);

    // The old header is now stale: a conflict, and nothing written.
    const stale = await call('coordinator', 'PUT', '/api/school-audit', { ...year, lead: 'Someone else' }, { 'if-match': read.etag! });
    expect(stale.status).toBe(409);

    // A proxy that percent-decodes the header, or drops the weak prefix, still matches.
    const decoded = saved.etag!.replace(/%3A/g, ':');
    const viaDecoded = await call('coordinator', 'PUT', '/api/school-audit', { ...year, lead: 'Decoded' }, { 'if-match': decoded });
    expect(viaDecoded.status).toBe(200);
    const viaStrong = await call('coordinator', 'PUT', '/api/school-audit', { ...year, lead: 'Strong' }, { 'if-match': viaDecoded.etag!.replace(/^W\//, '') });
    expect(viaStrong.status).toBe(200);

    // What a client sends when it read a header that was not there, a wildcard, or junk: 400, with the reason.
    for (const bad of ['null', '*', 'undefined', 'W/"datetime\'yesterday\'"']) {
      const refused = await call('coordinator', 'PUT', '/api/school-audit', { ...year, lead: 'Overwritten' }, { 'if-match': bad });
      expect([bad, refused.status]).toEqual([bad, 400]);
      expect(refused.body.error).toContain('must be the etag this API sent');
    }
    const bodyField = await call('coordinator', 'PUT', '/api/school-audit', { ...year, lead: 'Overwritten', etag: 'null' });
    expect(bodyField.status).toBe(400);
    expect((await new SchoolAuditStore(app.services.tables).getYear(app.schoolId, 2026))?.lead).toBe('Strong');
  });
});

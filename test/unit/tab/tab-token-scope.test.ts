import { TabTokenValidator } from '../../../tab/server/tab-tokens';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';

const OID = 'e5afe000-0000-4000-8000-000000000201';

describe('tab tokens: the access_as_user scope', () => {
  let idp: TestIdentityProvider;
  let validator: TabTokenValidator;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    validator = new TabTokenValidator({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: idp.audience, tenantIds: [idp.tenantId], localIdentitySecret: undefined });
  });
  afterAll(() => idp.close());

  it('accepts a signed-in user whose token grants access_as_user, alone or among other scopes', async () => {
    await expect(validator.validate(await idp.token(OID))).resolves.toEqual({ ok: true, objectId: OID });
    await expect(validator.validate(await idp.token(OID, { scp: 'User.Read access_as_user' }))).resolves.toEqual({ ok: true, objectId: OID });
  });

  it('refuses an app-only token (roles, no scp) even when everything else about it is right', async () => {
    const appOnly = await idp.token(OID, { scp: null, claims: { roles: ['Incidents.Read.All'], idtyp: 'app' } });
    await expect(validator.validate(appOnly)).resolves.toEqual({ ok: false, reason: 'app-only-token' });
  });

  it('refuses a user token for other scopes, or a scope that only contains the name', async () => {
    for (const scp of ['User.Read', 'access_as_user_admin', '', 'ACCESS_AS_USER']) {
      await expect(validator.validate(await idp.token(OID, { scp }))).resolves.toEqual({ ok: false, reason: 'missing-scope' });
    }
    await expect(validator.validate(await idp.token(OID, { claims: { scp: ['access_as_user'] } }))).resolves.toEqual({ ok: false, reason: 'missing-scope' });
  });
});

import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, schoolConfigs } from '../../../app/config';
import { TabTokenValidator } from '../../../tab/server/tab-tokens';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';

const OID = 'e5afe000-0000-4000-8000-000000000301';

/**
 * A trust spread over two Entra tenants: each token is checked against its own tenant's issuer and keys (Entra's
 * `{tenantid}` form), a tenant outside the trust is refused, and each school's pages take
 * sign-ins from that school's tenant only.
 */
describe('tab tokens across a trust’s tenants', () => {
  let idp: TestIdentityProvider;
  const tenantB = randomUUID();

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
  });
  afterAll(() => idp.close());

  const validatorFor = (tenantIds: string[]) => {
    const port = new URL(idp.jwksUri).port;
    return new TabTokenValidator({
      issuer: 'https://login.example.test/{tenantid}/v2.0',
      jwksUri: `http://127.0.0.1:${port}/{tenantid}/keys`,
      audience: idp.audience,
      tenantIds,
      localIdentitySecret: undefined,
    });
  };
  const tokenFrom = (tenantId: string, issuerTenant = tenantId) => idp.token(OID, { tid: tenantId, issuer: `https://login.example.test/${issuerTenant}/v2.0` });

  it('accepts a user of either tenant, each against its own issuer', async () => {
    // A tenant id typed in capitals in the settings still matches Entra's lower-case `tid`.
    const validator = validatorFor([idp.tenantId, tenantB.toUpperCase()]);
    await expect(validator.validate(await tokenFrom(idp.tenantId))).resolves.toEqual({ ok: true, objectId: OID });
    await expect(validator.validate(await tokenFrom(tenantB))).resolves.toEqual({ ok: true, objectId: OID });
  });

  it('refuses a token whose issuer names another tenant than its tid, and a tenant outside the trust', async () => {
    const validator = validatorFor([idp.tenantId, tenantB]);
    await expect(validator.validate(await tokenFrom(tenantB, idp.tenantId))).resolves.toMatchObject({ ok: false, reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    await expect(validator.validate(await tokenFrom(randomUUID()))).resolves.toEqual({ ok: false, reason: 'wrong-tenant' });
    await expect(validator.validate(await idp.token(OID, { claims: { tid: 42 } }))).resolves.toEqual({ ok: false, reason: 'wrong-tenant' });
  });

  it('gives each school its own tenant, and the deployment every school’s', () => {
    const file = join(tmpdir(), `schools-${randomUUID()}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        schools: [
          { id: 'north', name: 'North Primary', domain: 'north.example', rolesFile: 'config/roles.local.json' },
          { id: 'south', name: 'South Primary', domain: 'south.example', rolesFile: 'config/roles.local.json', tenantId: tenantB },
        ],
      }),
    );
    const config = loadConfig({ SCHOOLS_FILE: file, MicrosoftAppTenantId: idp.tenantId });
    expect(config.tab.tenantIds).toEqual([idp.tenantId, tenantB]);
    expect(config.tab.authIssuer).toBe('https://login.microsoftonline.com/{tenantid}/v2.0');
    expect(config.tab.authJwksUri).toBe('https://login.microsoftonline.com/{tenantid}/discovery/v2.0/keys');
    expect(schoolConfigs(config).map((c) => [c.school.id, c.tab.tenantIds])).toEqual([
      ['north', [idp.tenantId]],
      ['south', [tenantB]],
    ]);
  });
});

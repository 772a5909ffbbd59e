import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, deploymentSignals, loadConfig, SETTINGS, AZURITE_TABLES_CONNECTION_STRING } from '../../app/config';

const TENANT = '11111111-2222-3333-4444-555555555555';
const APP_ID = '00000000-0000-0000-0000-000000000001';

/** What a correctly deployed single school sets (the secret is a placeholder, never a real one). */
const DEPLOYED = {
  WEBSITE_SITE_NAME: 'app-esafety',
  APP_PUBLIC_URL: 'https://esafety.example.org',
  MicrosoftAppId: APP_ID,
  MicrosoftAppPassword: 'placeholder-not-a-secret',
  MicrosoftAppTenantId: TENANT,
};

function problemsOf(env: Record<string, string>, options?: Parameters<typeof loadConfig>[1]): string[] {
  try {
    loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('when nothing is set, runs locally against Azurite with Graph in plan mode', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3978);
    expect(config.tables.connectionString).toBe(AZURITE_TABLES_CONNECTION_STRING);
    expect(config.graph.mode).toBe('plan');
    expect(config.roles.source).toBe('file');
    expect(config.bot.appId).toBe('');
  });

  it('when several settings are wrong, lists every one of them in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', GRAPH_MODE: 'maybe', SCHOOL_ID: 'Has Spaces' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/GRAPH_MODE/);
    expect(problems).toMatch(/SCHOOL_ID/);
    expect((error as Error).message).toMatch(/3 settings need attention/);
  });

  it('when Graph is live, requires the tenant, the client and a credential', () => {
    expect(() => loadConfig({ GRAPH_MODE: 'live' })).toThrow(/GRAPH_TENANT_ID[\s\S]*GRAPH_CLIENT_ID[\s\S]*SECRET_GRAPH_CLIENT_SECRET[\s\S]*SCHOOL_DOMAIN/);
  });

  it('when a bot app id is set without a password, refuses to start', () => {
    expect(() => loadConfig({ MicrosoftAppId: '00000000-0000-0000-0000-000000000001' })).toThrow(/MicrosoftAppPassword/);
  });

  it('documents every setting in .env.example', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const missing = SETTINGS.map((s) => s.name).filter((name) => !new RegExp(`^#?\\s*${name}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });

  it('never ships a value for a secret in .env.example', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    for (const setting of SETTINGS.filter((s) => s.secret)) {
      expect(example).toMatch(new RegExp(`^#?\\s*${setting.name}=\\s*$`, 'm'));
    }
  });
});

describe('deployed mode', () => {
  it('is local on a developer machine: nothing set, or a loopback APP_PUBLIC_URL', () => {
    expect(loadConfig({}).deployed).toBe(false);
    for (const url of ['http://localhost:3978', 'http://127.0.0.1:3978', 'http://[::1]:3978', 'http://tab.localhost:3978']) {
      expect(deploymentSignals({ APP_PUBLIC_URL: url })).toEqual([]);
    }
    // npm start sets the local identity key; that must keep working locally.
    expect(loadConfig({ SECRET_LOCAL_IDENTITY_KEY: 'k'.repeat(64) }).tab.localIdentitySecret).toBe('k'.repeat(64));
  });

  it.each([
    [{ WEBSITE_SITE_NAME: 'app-esafety' }, 'WEBSITE_SITE_NAME'],
    [{ WEBSITE_INSTANCE_ID: 'a1b2c3' }, 'WEBSITE_INSTANCE_ID'],
    [{ NODE_ENV: 'production' }, 'NODE_ENV=production'],
    [{ APP_PUBLIC_URL: 'https://esafety.example.org' }, 'APP_PUBLIC_URL'],
    [{ APP_PUBLIC_URL: 'not a url' }, 'APP_PUBLIC_URL'],
  ])('is deployed when %j is set', (env, signal) => {
    expect(deploymentSignals(env)).toEqual([signal]);
  });

  it('starts with bot authentication, the tenant and tab SSO, and accepts only that tenant', () => {
    const config = loadConfig(DEPLOYED);
    expect(config.deployed).toBe(true);
    expect(config.bot.allowedTenantIds).toEqual([TENANT]);
    expect(config.tab.authAudience).toBe(`api://esafety.example.org/${APP_ID}`);
  });

  it('accepts a user-assigned managed identity or a certificate instead of a password', () => {
    const { MicrosoftAppPassword: _password, ...withoutPassword } = DEPLOYED;
    expect(problemsOf({ ...withoutPassword, MicrosoftAppType: 'UserAssignedMSI' })).toEqual([]);
    const keyFile = join(mkdtempSync(join(tmpdir(), 'esafety-cert-')), 'bot.pem');
    writeFileSync(keyFile, '-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----\n');
    const config = loadConfig({ ...withoutPassword, MicrosoftAppCertificateThumbprint: 'AB12', MicrosoftAppCertificateKeyFile: keyFile });
    expect(config.bot.certificate?.thumbprint).toBe('AB12');
    expect(problemsOf({ ...withoutPassword, MicrosoftAppCertificateThumbprint: 'AB12' })).toEqual([
      expect.stringMatching(/MicrosoftAppCertificateThumbprint and MicrosoftAppCertificateKeyFile go together/),
      expect.stringMatching(/MicrosoftAppPassword is required/),
    ]);
  });

  it('refuses to start with bot authentication off, the local identity key set and no tab SSO, naming every problem', () => {
    const problems = problemsOf({ WEBSITE_INSTANCE_ID: 'a1b2c3', SECRET_LOCAL_IDENTITY_KEY: 'k'.repeat(64) });
    expect(problems).toEqual([
      expect.stringMatching(/^MicrosoftAppId is required .*accepts activities from anyone/),
      expect.stringMatching(/^MicrosoftAppTenantId is required/),
      expect.stringMatching(/^SECRET_LOCAL_IDENTITY_KEY must not be set/),
      expect.stringMatching(/^APP_PUBLIC_URL must be the app's public https origin/),
      expect.stringMatching(/^Tab SSO is not configured/),
    ]);
  });

  it('refuses an app id without any credential (the empty password that once switched authentication off silently)', () => {
    expect(problemsOf({ ...DEPLOYED, MicrosoftAppPassword: '' })).toEqual([expect.stringMatching(/^MicrosoftAppPassword is required/)]);
  });

  it('refuses the local identity key beside otherwise complete production settings', () => {
    expect(problemsOf({ ...DEPLOYED, SECRET_LOCAL_IDENTITY_KEY: 'k'.repeat(64) })).toEqual([expect.stringMatching(/^SECRET_LOCAL_IDENTITY_KEY must not be set/)]);
    expect(problemsOf({ ...DEPLOYED, WEBSITE_SITE_NAME: '', NODE_ENV: 'production', SECRET_LOCAL_IDENTITY_KEY: 'k' })).toHaveLength(1);
  });

  it('refuses a deployed server on plain http, or without APP_PUBLIC_URL', () => {
    expect(problemsOf({ ...DEPLOYED, APP_PUBLIC_URL: 'http://esafety.example.org' })).toEqual([expect.stringMatching(/^APP_PUBLIC_URL must be the app's public https origin/)]);
    expect(problemsOf({ ...DEPLOYED, APP_PUBLIC_URL: '' })).toEqual([expect.stringMatching(/^APP_PUBLIC_URL must be the app's public https origin/)]);
  });

  it("accepts the tenants of a trust's schools as well as the bot's own", () => {
    const dir = mkdtempSync(join(tmpdir(), 'esafety-trust-'));
    const other = 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE';
    const schoolsFile = join(dir, 'schools.json');
    writeFileSync(
      schoolsFile,
      JSON.stringify({
        schools: [
          { id: 'north', name: 'North Primary', domain: 'north.example', rolesFile: join(dir, 'r.json') },
          { id: 'south', name: 'South Primary', domain: 'south.example', rolesFile: join(dir, 'r.json'), tenantId: other },
          { id: 'east', name: 'East Primary', domain: 'east.example', rolesFile: join(dir, 'r.json'), tenantId: 'not-a-guid' },
        ],
      }),
    );
    expect(problemsOf({ ...DEPLOYED, SCHOOLS_FILE: schoolsFile })).toEqual([expect.stringMatching(/school 3 \("east"\): "tenantId" must be an Entra tenant id/)]);
    writeFileSync(schoolsFile, JSON.stringify({ schools: [{ id: 'south', name: 'South Primary', domain: 'south.example', rolesFile: join(dir, 'r.json'), tenantId: other }] }));
    expect(loadConfig({ ...DEPLOYED, SCHOOLS_FILE: schoolsFile }).bot.allowedTenantIds).toEqual([TENANT, other.toLowerCase()]);
  });

  it('lets command-line tools read a deployed .env without the server-only rules', () => {
    const config = loadConfig({ APP_PUBLIC_URL: 'https://esafety.example.org' }, { purpose: 'tool' });
    expect(config.deployed).toBe(true);
    expect(problemsOf({ APP_PUBLIC_URL: 'https://esafety.example.org' })).not.toEqual([]);
  });
});

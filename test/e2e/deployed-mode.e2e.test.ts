import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../app/config';
import { composeServices } from '../../app/compose';
import { createMemoryLogger } from '../../infra/logger';
import { startServer } from '../../app/server';
import { LoopbackConnector } from '../support/loopback-connector';
import { startTestApp, type TestApp } from '../support/test-app';
import { testTablesConnectionString, uniqueSchoolId } from '../support/tables';
import { messageActivity, newUser, TENANT_ID } from '../support/teams-activities';
import { channelToken, published, PUBLISHED_KID, serveBotFrameworkKeys } from '../support/bot-framework-tokens';

const teacher = newUser('Test Teacher');

/** A deployed school as App Service runs it: a platform variable, a public https URL, bot authentication, the tenant. */
const DEPLOYED = {
  WEBSITE_SITE_NAME: 'app-esafety-test',
  APP_PUBLIC_URL: 'https://esafety.example.test',
  MicrosoftAppId: randomUUID(),
  MicrosoftAppPassword: 'not-a-real-secret',
  MicrosoftAppType: 'SingleTenant',
  MicrosoftAppTenantId: TENANT_ID,
};

describe('a deployed server', () => {
  let app: TestApp;
  let rogue: LoopbackConnector;
  let botRuns: jest.SpyInstance;

  beforeAll(async () => {
    app = await startTestApp({ roles: { staff: [teacher] }, env: DEPLOYED });
    expect(app.services.config.deployed).toBe(true);
    rogue = new LoopbackConnector();
    await rogue.start();
    // The guard, not the bot, is under test: an outbound reply would need a real Entra token for the bot.
    botRuns = jest.spyOn(app.services.bot, 'run').mockResolvedValue(undefined);
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await rogue?.stop();
    await app?.close();
  });

  beforeEach(() => {
    botRuns.mockClear();
    // The test setup clears nock after each test; botbuilder keeps the keys once it has fetched them.
    serveBotFrameworkKeys(['msteams', 'webchat']);
  });

  /** Posts an activity signed by the Bot Framework for `signedServiceUrl` (the default: the real connector). */
  async function post(activity: Record<string, unknown>, signedServiceUrl?: string): Promise<number> {
    const token = channelToken(DEPLOYED.MicrosoftAppId, published.privateKey, PUBLISHED_KID, signedServiceUrl ?? app.connector.serviceUrl);
    const response = await fetch(`${app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(activity),
      signal: AbortSignal.timeout(10_000),
    });
    await response.text();
    return response.status;
  }

  const refusals = () => app.logLines.filter((l) => l.includes('bot.activity-refused')).map((l) => (JSON.parse(l) as { reason: string }).reason);

  it('does not have the local sign-in routes at all', async () => {
    for (const path of ['/tab/dev-login', `/tab/dev-login?as=${teacher.aadObjectId}`, '/tab/dev-roles']) {
      const response = await fetch(`${app.url}${path}`);
      expect([path, response.status]).toEqual([path, 404]);
      expect(await response.text()).not.toMatch(/local|SECRET|identity/i);
    }
  });

  it('serves the Teams SDK from the installed package', async () => {
    const response = await fetch(`${app.url}/tab/teams-js.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    const body = await response.text();
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'node_modules', '@microsoft', 'teams-js', 'package.json'), 'utf8')) as { version: string };
    expect(body).toContain(`"${version}"`);
    expect(body).toContain('microsoftTeams');
  });

  it('refuses an activity with no Bot Framework token', async () => {
    const response = await fetch(`${app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(messageActivity(teacher, '/report', app.connector.serviceUrl)) });
    expect(response.status).toBe(401);
    expect(botRuns).not.toHaveBeenCalled();
  });

  it("hands a signed Teams activity from the school's tenant to the bot", async () => {
    expect(await post(messageActivity(teacher, '/report', app.connector.serviceUrl))).toBe(200);
    expect(botRuns).toHaveBeenCalledTimes(1);
  });

  it('turns away a signed activity from another channel, another tenant or no tenant, without running the bot', async () => {
    const other = randomUUID();
    const activities = {
      channel: { ...messageActivity(teacher, '/report', app.connector.serviceUrl), channelId: 'webchat' },
      'other tenant': { ...messageActivity(teacher, '/report', app.connector.serviceUrl), channelData: { tenant: { id: other } }, conversation: { id: 'a:x', conversationType: 'personal', tenantId: other } },
      'no tenant': { ...messageActivity(teacher, '/report', app.connector.serviceUrl), channelData: {}, conversation: { id: 'a:x', conversationType: 'personal' } },
    };
    const before = refusals().length;
    for (const [why, activity] of Object.entries(activities)) expect([why, await post(activity)]).toEqual([why, 200]);
    expect(botRuns).not.toHaveBeenCalled();
    expect(refusals().slice(before)).toEqual(['channel', 'tenant', 'tenant']);
    expect(app.logLines.join('\n')).not.toContain(teacher.name);
  });

  it('never lets a sender choose where replies and alerts go: a service URL the token does not vouch for is refused', async () => {
    // Signed for the real connector, but the body names the sender's own endpoint.
    expect(await post(messageActivity(teacher, '/report', rogue.serviceUrl))).toBe(401);
    // No service URL in the body at all: botbuilder skips its own check then; the guard or the adapter must not.
    const { serviceUrl: _omitted, ...withoutServiceUrl } = messageActivity(teacher, '/report', app.connector.serviceUrl);
    const before = refusals().length;
    expect(await post(withoutServiceUrl)).toBe(200);
    expect(refusals().slice(before)).toEqual(['service-url']);
    expect(botRuns).not.toHaveBeenCalled();
    expect(rogue.sent).toEqual([]);
  });
});

describe('a deployed server whose settings somehow carry the local identity key', () => {
  it('still does not register the local sign-in routes (the second lock, after the config check)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esafety-deployed-'));
    writeFileSync(join(dir, 'roles.json'), JSON.stringify({ staff: [teacher.aadObjectId] }));
    // purpose 'tool' skips the start-up refusal, as no server would: this is what the routes do if that check were ever lost.
    const config = loadConfig(
      { ...DEPLOYED, PORT: '0', SCHOOL_ID: uniqueSchoolId(), ROLES_FILE: join(dir, 'roles.json'), TABLES_CONNECTION_STRING: testTablesConnectionString(), SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      { purpose: 'tool' },
    );
    expect(config.tab.localIdentitySecret).toBeDefined();
    const running = await startServer(composeServices(config, createMemoryLogger('warn')), { port: 0, host: '127.0.0.1', alertSweepMs: 3_600_000 });
    try {
      for (const path of [`/tab/dev-login?as=${teacher.aadObjectId}`, '/tab/dev-roles']) expect([path, (await fetch(`${running.url}${path}`)).status]).toEqual([path, 404]);
    } finally {
      await running.close();
    }
  });
});

describe('starting the real entry point deployed', () => {
  it('refuses to start without bot authentication and with the local identity key, listing every problem and no secret', () => {
    const root = join(__dirname, '..', '..');
    const key = randomBytes(32).toString('hex');
    // From an empty folder, so no developer's .env is read; only what App Service would set, and a leftover local key.
    const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'app', 'main.ts')], {
      cwd: mkdtempSync(join(tmpdir(), 'esafety-main-')),
      env: { PATH: process.env.PATH, WEBSITE_SITE_NAME: 'app-esafety-test', WEBSITE_INSTANCE_ID: 'a1b2c3', SECRET_LOCAL_IDENTITY_KEY: key, PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).not.toMatch(/server\.listening/);
    expect(result.stderr).toMatch(/cannot start because 5 settings need attention/);
    for (const name of ['MicrosoftAppId', 'MicrosoftAppTenantId', 'SECRET_LOCAL_IDENTITY_KEY', 'APP_PUBLIC_URL', 'Tab SSO']) expect(result.stderr).toContain(name);
    expect(result.stderr).not.toContain(key);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 40_000);
});

/**
 * Proves the deployment zip boots as App Service would run it, and stays closed:
 *
 *   npx tsx scripts/check-deploy-artefact.ts [--zip build/e-safety-for-teams.zip] [--node /path/to/node]
 *
 * 1. Unpacks the zip into an empty temporary folder (nothing from this checkout is reachable from there).
 * 2. Starts Azurite (Tables and Blobs, in memory) on free loopback ports.
 * 3. Starts `node dist/app/main.js` from the unpacked folder in deployed mode (NODE_ENV=production and an https
 *    APP_PUBLIC_URL) with test bot credentials and tab SSO, and only the settings given here (no .env, no
 *    inherited environment), and checks:
 *      - /healthz answers 200;
 *      - an activity POSTed to /api/messages without a token, and one with a forged token, get 401;
 *      - the local sign-in routes (/tab/dev-login, /tab/dev-roles) are not mounted (404);
 *      - the start-up log says deployed.
 * 4. Checks no development dependency (TypeScript, Jest, Azurite…) and no .env is packed.
 * 5. Starts it again deployed without MicrosoftAppId, and checks it refuses to start and names the setting.
 *
 * Exits 0 when every check passes, 1 otherwise. Everything runs on loopback; the fake credentials are never
 * sent anywhere (the unauthenticated activity is refused before any token is fetched).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startAzurite } from './azurite';

const ROOT = join(__dirname, '..');

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const zipPath = resolve(argument('zip', join(ROOT, 'build', 'e-safety-for-teams.zip')));
const nodeBinary = resolve(argument('node', process.execPath));

const TENANT = '11111111-2222-4333-8444-555555555555';
const APP_ID = '66666666-7777-4888-9999-000000000000';

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(dir: string, env: Record<string, string>): Running {
  let output = '';
  // Only what is given here: the developer's or CI's environment must not make the check pass.
  const child = spawn(nodeBinary, ['dist/app/main.js'], { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

async function waitForHealth(url: string, running: Running, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) throw new Error(`The app exited with code ${running.child.exitCode} before /healthz answered.`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return response.status;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`/healthz did not answer within ${timeoutMs / 1000} s.`);
}

async function stop(running: Running): Promise<void> {
  if (running.child.exitCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 12_000);
  await running.exited;
  clearTimeout(timer);
}

const activity = {
  type: 'message',
  id: 'check-1',
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/uk/',
  from: { id: '29:forged', aadObjectId: '00000000-0000-4000-8000-000000000001' },
  recipient: { id: `28:${APP_ID}` },
  conversation: { id: 'a:forged', conversationType: 'personal', tenantId: TENANT },
  channelData: { tenant: { id: TENANT } },
  text: '/report',
};

async function main(): Promise<void> {
  if (!existsSync(zipPath)) throw new Error(`No artefact at ${zipPath}: run npm run build:deploy first.`);
  const dir = mkdtempSync(join(tmpdir(), 'esafety-artefact-'));
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
    if (!ok) failures.push(what);
  };
  const azurite = await startAzurite();
  try {
    const unzip = spawnSync('unzip', ['-q', zipPath, '-d', dir], { stdio: 'inherit' });
    if (unzip.status !== 0) throw new Error('unzip failed.');
    // Production dependencies only: the test and build tools stay out of the zip.
    const devTools = ['typescript', 'jest', 'azurite', 'eslint', 'playwright-core', 'tsx'].filter((name) => existsSync(join(dir, 'node_modules', name)));
    check(devTools.length === 0, `no development dependency is packed${devTools.length ? ` (found ${devTools.join(', ')})` : ''}`);
    check(!existsSync(join(dir, '.env')) && existsSync(join(dir, 'tab', 'public', 'summary.html')) && existsSync(join(dir, 'aup')), 'the tab pages and AUP documents are packed, and no .env');

    // The school's roles, as a school without Graph roles would give them (outside the unpacked app).
    const rolesFile = `${dir}-roles.json`;
    writeFileSync(rolesFile, JSON.stringify({ staff: ['e5afe000-0000-4000-8000-000000000101'], dsl: ['e5afe000-0000-4000-8000-000000000103'] }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const settings: Record<string, string> = {
      NODE_ENV: 'production',
      PORT: String(port),
      APP_PUBLIC_URL: 'https://esafety-check.example.net',
      MicrosoftAppId: APP_ID,
      MicrosoftAppPassword: 'not-a-real-password-for-the-boot-check',
      MicrosoftAppType: 'SingleTenant',
      MicrosoftAppTenantId: TENANT,
      TABLES_CONNECTION_STRING: azurite.connectionString,
      SCHOOL_ID: 'artefact-check',
      SCHOOL_NAME: 'Artefact Check Primary',
      SCHOOL_DOMAIN: 'artefact-check.example',
      GRAPH_MODE: 'plan',
      ROLES_SOURCE: 'file',
      ROLES_FILE: rolesFile,
      LOG_LEVEL: 'info',
    };

    process.stdout.write(`Booting ${zipPath} with ${nodeBinary} (${spawnSync(nodeBinary, ['--version']).stdout.toString().trim()}) in ${dir}\n`);
    const app = start(dir, settings);
    let finished = false;
    try {
      const health = await waitForHealth(url, app, 45_000);
      check(health === 200, `/healthz answers 200 (got ${health})`);
      check(/"deployed":\s*true/.test(app.output()), 'the start-up log says the server runs deployed');

      const post = (headers: Record<string, string>) =>
        fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(activity) });
      const anonymous = await post({});
      check(anonymous.status === 401, `an activity without a token is refused with 401 (got ${anonymous.status})`);
      const forged = await post({ authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJmb3JnZWQifQ.' });
      check(forged.status === 401, `an activity with a forged token is refused with 401 (got ${forged.status})`);
      for (const path of ['/tab/dev-login', '/tab/dev-roles']) {
        const response = await fetch(`${url}${path}`);
        check(response.status === 404, `${path} is not mounted (got ${response.status})`);
      }
      const after = await fetch(`${url}/healthz`);
      check(after.status === 200, `/healthz still answers after the refused activities (got ${after.status})`);
      finished = true;
    } finally {
      await stop(app);
      if (!finished || failures.length > 0) process.stdout.write(`--- the app's output ---\n${app.output()}\n`);
    }

    // Without bot authentication, deployed mode must refuse to start.
    const { MicrosoftAppId: _appId, MicrosoftAppPassword: _password, ...withoutBotAuth } = settings;
    const refused = start(dir, { ...withoutBotAuth, PORT: String(await freePort()) });
    const timer = setTimeout(() => refused.child.kill('SIGKILL'), 30_000);
    const code = await refused.exited;
    clearTimeout(timer);
    check(code !== 0 && code !== null && /MicrosoftAppId/.test(refused.output()), `deployed without MicrosoftAppId it refuses to start and says why (exit ${code})`);
  } finally {
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-roles.json`, { force: true });
  }
  if (failures.length > 0) throw new Error(`${failures.length} check(s) failed.`);
  process.stdout.write('The deployment artefact boots deployed and refuses unauthenticated activities.\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`check-deploy-artefact: ${(error as Error).message}\n`);
  process.exit(1);
});

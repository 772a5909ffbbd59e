import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { deploymentSignals } from '../app/config';
import { startAzurite, azuriteConnectionString, type AzuriteTables } from './azurite';

/**
 * `npm start`: everything a person needs to try the app with no Microsoft 365 tenant.
 * Azurite (data kept in .azurite/), the server, and the Microsoft 365 Agents Playground pointed at it.
 */
const root = join(__dirname, '..');
// The server reads .env too; read it here first so that the port and "deployed" are decided from the same settings.
if (existsSync(join(root, '.env'))) process.loadEnvFile(join(root, '.env'));
const AZURITE_PORT = 10002;
/** Azurite's usual Blob port, for evidence attachments. */
const AZURITE_BLOB_PORT = 10000;
const PORT = Number(process.env.PORT ?? 3978);
const PLAYGROUND_PORT = Number(process.env.PLAYGROUND_PORT ?? 56150);
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.end(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) throw new Error('The server stopped during start-up; its message is above.');
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`The server did not answer ${url} within a minute.`);
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  let azurite: AzuriteTables | undefined;
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await azurite?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  if (await isListening(AZURITE_PORT)) {
    console.log(`Using the Azurite already listening on ${AZURITE_PORT}.`);
  } else {
    azurite = await startAzurite({ port: AZURITE_PORT, blobPort: AZURITE_BLOB_PORT, location: join(root, '.azurite') });
    console.log(`Azurite Table service on 127.0.0.1:${AZURITE_PORT} and Blob service on ${AZURITE_BLOB_PORT}, data in .azurite/`);
  }

  const deployedBecause = deploymentSignals(process.env);
  if (deployedBecause.length > 0) {
    // For example APP_PUBLIC_URL set to a dev tunnel, to try the app in real Teams: then the server runs as deployed
    // (bot authentication, tab SSO) and has no "open as"; it says which settings it still needs.
    console.log(`Deployed mode (${deployedBecause.join(', ')} set): Teams sign-in only, no local "open as". Unset ${deployedBecause.join(' and ')} in .env for plain local development.`);
  }
  const env = {
    ...process.env,
    // A fresh key each run lets the tab pages sign in as any local role outside Teams; never set when deployed.
    ...(deployedBecause.length === 0 ? { SECRET_LOCAL_IDENTITY_KEY: process.env.SECRET_LOCAL_IDENTITY_KEY ?? randomBytes(32).toString('hex') } : {}),
    PORT: String(PORT),
    TABLES_CONNECTION_STRING: process.env.TABLES_CONNECTION_STRING ?? azuriteConnectionString(AZURITE_PORT, AZURITE_BLOB_PORT),
    ROLES_FILE: process.env.ROLES_FILE ?? join(root, 'config', 'roles.local.json'),
  };
  const server = spawn(bin('tsx'), [join(root, 'app', 'main.ts')], { env, stdio: 'inherit' });
  children.push(server);
  await waitForHealth(`http://127.0.0.1:${PORT}/healthz`, server);

  const playground = spawn(
    bin('agentsplayground'),
    ['-e', `http://127.0.0.1:${PORT}/api/messages`, '-c', 'msteams', '-p', String(PLAYGROUND_PORT), '--disable-telemetry'],
    {
      // Without a browser launcher on the machine the Playground crashes trying to open one; its log goes to .local/.
      env: { ...env, TEAMSAPPTESTER_BROWSER: 'none', M365_AGENTS_PLAYGROUND_LOGFILE: join(root, '.local', 'agents-playground.log') },
      stdio: 'inherit',
      cwd: root,
    },
  );
  children.push(playground);
  console.log(
    [
      '',
      'E-Safety for Teams is running.',
      `  Playground:   http://localhost:${PLAYGROUND_PORT}  (type /report, /myreports, /aup)`,
      `  Summary tab:  http://localhost:${PORT}/tab/summary.html  (choose a local role to open it as)`,
      `  Triage tab:   http://localhost:${PORT}/tab/incidents.html`,
      `  Bot endpoint: http://127.0.0.1:${PORT}/api/messages`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  server.once('exit', (code) => {
    console.error(`The server exited (code ${code}).`);
    void stop();
  });
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});

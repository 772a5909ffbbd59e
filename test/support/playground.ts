import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/azurite';

/** The repository root: the Playground reads `.m365agentsplayground.yml` from here. */
const root = join(__dirname, '..', '..');

export interface RunningPlayground {
  /** The web UI, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** The Playground's own log (every activity it sent and received); worth reading when a test fails. */
  logFile: string;
  /** What the process printed so far (stdout and stderr). */
  output(): string;
  /** Stops the Playground's whole process group; safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartPlaygroundOptions {
  /** The bot's `/api/messages` URL. */
  botEndpoint: string;
  /** How long to wait for the UI to answer. */
  timeoutMs?: number;
}

/**
 * Starts the Microsoft 365 Agents Playground (docs/agents-playground.md) as a child process in its own
 * process group, on a free port, with the repository's `.m365agentsplayground.yml`, no browser, no
 * telemetry and its log under the OS temp folder. Resolves once `GET /_debug/ping` answers.
 */
export async function startPlayground(options: StartPlaygroundOptions): Promise<RunningPlayground> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const requestedPort = await freePort();
  const logFile = join(mkdtempSync(join(tmpdir(), 'esafety-playground-')), 'agents-playground.log');

  // Settings a developer may have exported for their own Playground would change what this test sees.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(M365_AGENTS_PLAYGROUND_|TEAMSAPPTESTER_|TEAMS_APP_TEST_TOOL_)|^(BOT_ENDPOINT|DEFAULT_CHANNEL_ID)$/.test(key)),
  );
  Object.assign(env, {
    TEAMSAPPTESTER_BROWSER: 'none',
    M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
    M365_AGENTS_PLAYGROUND_CONFIG_PATH: join(root, '.m365agentsplayground.yml'),
  });

  const child = spawn(
    join(root, 'node_modules', '.bin', 'agentsplayground'),
    ['-e', options.botEndpoint, '-c', 'msteams', '-p', String(requestedPort), '--disable-telemetry'],
    { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));

  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      /* the group is already gone */
    }
  };
  // The Playground runs in its own process group, so it would outlive a test runner that dies before stop().
  const killOnExit = () => signalGroup('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5_000)))]);
    clearTimeout(timer);
    if (!killed) {
      signalGroup('SIGKILL');
      await exited;
    }
  };

  const fail = async (reason: string): Promise<never> => {
    await stop();
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8').slice(-2_000);
    } catch {
      /* no log yet */
    }
    throw new Error(`${reason}\n--- Playground output ---\n${output.slice(-2_000)}\n--- ${logFile} ---\n${log}`);
  };

  // The Playground moves to another port if the one asked for was taken in the meantime, and says so.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) return fail(`The Agents Playground could not be started: ${spawnError.message}`);
    if (child.exitCode !== null) return fail(`The Agents Playground exited with code ${child.exitCode} before it listened.`);
    const port = Number(/Listening on (\d+)/.exec(output)?.[1] ?? 0);
    if (port && (await answersPing(port))) {
      return { url: `http://127.0.0.1:${port}`, port, logFile, output: () => output, stop };
    }
    if (Date.now() > deadline) return fail(`The Agents Playground did not answer within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function answersPing(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/_debug/ping`, { signal: AbortSignal.timeout(1_000) });
    return response.ok && (await response.text()).includes('pong');
  } catch {
    return false;
  }
}

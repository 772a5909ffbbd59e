import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** A running Azurite Table service started from the npm devDependency. */
export interface AzuriteTables {
  port: number;
  connectionString: string;
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Folder for Azurite's data; omit to keep everything in memory. */
  location?: string;
  /** Print Azurite's own access log. */
  verbose?: boolean;
}

export function azuriteConnectionString(port: number): string {
  return (
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
    'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
    `TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode} before it listened on ${port}.`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.end(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Azurite did not listen on port ${port} within ${timeoutMs} ms.`);
}

/** Starts `azurite-table` as a child process and waits until it accepts connections. */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteTables> {
  const port = options.port || (await freePort());
  const bin = join(__dirname, '..', 'node_modules', 'azurite', 'dist', 'src', 'table', 'main.js');
  const args = [bin, '--tableHost', '127.0.0.1', '--tablePort', String(port), '--skipApiVersionCheck', '--loose', '--disableTelemetry'];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }
  if (!options.verbose) args.push('--silent');
  const child = spawn(process.execPath, args, { stdio: options.verbose ? 'inherit' : 'ignore' });
  await waitForPort(port, child, 20_000);
  return {
    port,
    connectionString: azuriteConnectionString(port),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        // Azurite flushes its on-disk store only on SIGINT; SIGTERM would lose the last few seconds of writes.
        child.kill('SIGINT');
      }),
  };
}

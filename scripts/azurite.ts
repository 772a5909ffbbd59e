import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** A running Azurite (Table service, and the Blob service beside it) started from the npm devDependency. */
export interface AzuriteTables {
  port: number;
  /** The Blob service's port (evidence attachments). */
  blobPort: number;
  /** Reaches both services: TableEndpoint and BlobEndpoint. */
  connectionString: string;
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** 0 picks a free port. */
  port?: number;
  /** The Blob service's port; 0 picks a free one. */
  blobPort?: number;
  /** Folder for Azurite's data; omit to keep everything in memory. */
  location?: string;
  /** Print Azurite's own access log. */
  verbose?: boolean;
}

/** Azurite's well-known development account, with the Table endpoint and (when given) the Blob endpoint. */
export function azuriteConnectionString(port: number, blobPort?: number): string {
  return (
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
    'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
    `TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;` +
    (blobPort ? `BlobEndpoint=http://127.0.0.1:${blobPort}/devstoreaccount1;` : '')
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

function spawnService(service: 'table' | 'blob', port: number, options: StartAzuriteOptions): ChildProcess {
  const bin = join(__dirname, '..', 'node_modules', 'azurite', 'dist', 'src', service, 'main.js');
  const args = [bin, `--${service}Host`, '127.0.0.1', `--${service}Port`, String(port), '--skipApiVersionCheck', '--loose', '--disableTelemetry'];
  if (options.location) {
    // Each service keeps its own metadata file in the folder.
    mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }
  if (!options.verbose) args.push('--silent');
  return spawn(process.execPath, args, { stdio: options.verbose ? 'inherit' : 'ignore' });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    // Azurite flushes its on-disk store only on SIGINT; SIGTERM would lose the last few seconds of writes.
    child.kill('SIGINT');
  });
}

/** Starts `azurite-table` and `azurite-blob` as child processes and waits until both accept connections. */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteTables> {
  const port = options.port || (await freePort());
  const blobPort = options.blobPort || (await freePort());
  const table = spawnService('table', port, options);
  const blob = spawnService('blob', blobPort, options);
  try {
    await Promise.all([waitForPort(port, table, 20_000), waitForPort(blobPort, blob, 20_000)]);
  } catch (error) {
    await Promise.all([stopChild(table), stopChild(blob)]);
    throw error;
  }
  return {
    port,
    blobPort,
    connectionString: azuriteConnectionString(port, blobPort),
    stop: async () => {
      await Promise.all([stopChild(table), stopChild(blob)]);
    },
  };
}

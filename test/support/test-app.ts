import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../app/config';
import { composeServices, type AppServices, type ComposeOverrides } from '../../app/compose';
import { createMemoryLogger } from '../../app/logger';
import { startServer, type RunningServer } from '../../app/server';
import type { Role } from '../../school/roles';
import { LoopbackConnector } from './loopback-connector';
import { testTablesConnectionString, uniqueSchoolId } from './tables';
import type { TeamsUser } from './teams-activities';

export interface TestApp {
  url: string;
  schoolId: string;
  services: AppServices;
  connector: LoopbackConnector;
  logLines: string[];
  /** POSTs an activity to /api/messages as the Teams channel would, and returns the HTTP status and JSON body. */
  post(activity: object): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

/** Starts the real server in-process on port 0, against the test Azurite, with roles from a temporary roles file. */
export async function startTestApp(options: {
  roles: Partial<Record<Role, TeamsUser[]>>;
  env?: Record<string, string>;
  overrides?: ComposeOverrides;
  connectionString?: string;
}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'esafety-test-'));
  const rolesFile = join(dir, 'roles.json');
  writeFileSync(rolesFile, JSON.stringify(Object.fromEntries(Object.entries(options.roles).map(([role, users]) => [role, users!.map((u) => u.aadObjectId)]))));
  const schoolId = uniqueSchoolId();
  const config = loadConfig({
    PORT: '0',
    SCHOOL_ID: schoolId,
    ROLES_FILE: rolesFile,
    TABLES_CONNECTION_STRING: options.connectionString ?? testTablesConnectionString(),
    ...options.env,
  });
  const logger = createMemoryLogger('debug');
  const services = composeServices(config, logger, options.overrides);
  const connector = new LoopbackConnector();
  await connector.start();
  const running: RunningServer = await startServer(services, { port: 0, host: '127.0.0.1', alertSweepMs: 3_600_000 });
  return {
    url: running.url,
    schoolId,
    services,
    connector,
    logLines: logger.lines,
    post: async (activity) => {
      const response = await fetch(`${running.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
    close: async () => {
      await running.close();
      await connector.stop();
    },
  };
}

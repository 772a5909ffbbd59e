import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../app/config';
import { composeDeployment, composeServices, type AppServices, type ComposeOverrides } from '../../app/compose';
import { createMemoryLogger } from '../../infra/logger';
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

/** A deployment serving several schools of a trust. */
export interface TestTrust {
  url: string;
  schools: { id: string; name: string; services: AppServices }[];
  connector: LoopbackConnector;
  logLines: string[];
  post(activity: object): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

/** Starts the real server for a trust: a SCHOOLS_FILE with each school's own roles file, one storage account. */
export async function startTestTrust(options: {
  schools: { name: string; domain: string; roles: Partial<Record<Role, TeamsUser[]>> }[];
  env?: Record<string, string>;
  overrides?: ComposeOverrides;
}): Promise<TestTrust> {
  const dir = mkdtempSync(join(tmpdir(), 'esafety-trust-'));
  const schools = options.schools.map((school, i) => {
    const rolesFile = join(dir, `roles-${i}.json`);
    writeFileSync(rolesFile, JSON.stringify(Object.fromEntries(Object.entries(school.roles).map(([role, users]) => [role, users!.map((u) => u.aadObjectId)]))));
    return { id: uniqueSchoolId(`trust${i}`), name: school.name, domain: school.domain, rolesFile };
  });
  const schoolsFile = join(dir, 'schools.json');
  writeFileSync(schoolsFile, JSON.stringify({ schools }));
  const config = loadConfig({ PORT: '0', SCHOOLS_FILE: schoolsFile, TABLES_CONNECTION_STRING: testTablesConnectionString(), ...options.env });
  const logger = createMemoryLogger('debug');
  const deployment = composeDeployment(config, logger, options.overrides);
  const connector = new LoopbackConnector();
  await connector.start();
  const running = await startServer(deployment, { port: 0, host: '127.0.0.1', alertSweepMs: 3_600_000 });
  return {
    url: running.url,
    schools: deployment.schools.map((services) => ({ id: services.config.school.id, name: services.config.school.name, services })),
    connector,
    logLines: logger.lines,
    post: async (activity) => {
      const response = await fetch(`${running.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
    close: async () => {
      await running.close();
      await connector.stop();
    },
  };
}

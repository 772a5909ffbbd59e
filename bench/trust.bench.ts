import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeDeployment } from '../app/compose';
import { loadConfig } from '../app/config';
import { createLogger } from '../infra/logger';
import { startServer } from '../app/server';
import { PupilRegisterStore, type PupilRecord } from '../records/pupil-register-store';
import { StorageRoundTripCounter } from '../records/storage-round-trips';
import { Tables } from '../records/tables';
import { startAzurite } from '../scripts/azurite';
import { LoopbackConnector } from '../test/support/loopback-connector';
import { startTestIdentityProvider } from '../test/support/tab-auth';
import { cardActionInvoke, installActivity, newUser, type TeamsUser } from '../test/support/teams-activities';
import { formatMs, percentile } from './bench-support';

const PUPILS_PER_SCHOOL = 300;
const STAFF_PER_SCHOOL = 40;
const REQUESTS_PER_KIND = 50;

interface School {
  id: string;
  staff: TeamsUser[];
  dsl: TeamsUser;
  coordinator: TeamsUser;
  governor: TeamsUser;
}

/**
 * A trust on one deployment: for 1, 10 and 50 schools (each 300 pupils and 40 staff), the same number of reports,
 * tab calls (the DSL's incident list) and governors' summaries, spread over the schools. Prints p50, p95 and the
 * storage round trips per request (counted in the TableClient pipeline): they must not grow with the schools.
 */
async function main(): Promise<void> {
  const azurite = await startAzurite();
  const idp = await startTestIdentityProvider();
  const connector = new LoopbackConnector();
  await connector.start();
  const rows: string[] = [];
  try {
    for (const count of [1, 10, 50]) rows.push(...(await runTrust(count, azurite.connectionString, idp, connector)));
  } finally {
    await connector.stop();
    await idp.close();
    await azurite.stop();
  }
  console.log(`schools  request      p50          p95          storage round trips per request`);
  for (const row of rows) console.log(row);
}

async function runTrust(count: number, connectionString: string, idp: Awaited<ReturnType<typeof startTestIdentityProvider>>, connector: LoopbackConnector): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'esafety-trust-bench-'));
  const run = randomUUID().slice(0, 6);
  const schools: School[] = Array.from({ length: count }, (_, i) => {
    const staff = Array.from({ length: STAFF_PER_SCHOOL }, (_, n) => newUser(`Staff ${i}-${n}`));
    return { id: `bench-${run}-${i}`, staff, dsl: staff[0]!, coordinator: staff[1]!, governor: newUser(`Governor ${i}`) };
  });
  const entries = schools.map((school, i) => {
    const rolesFile = join(dir, `roles-${i}.json`);
    const ids = (users: TeamsUser[]) => users.map((u) => u.aadObjectId);
    writeFileSync(rolesFile, JSON.stringify({ staff: ids(school.staff), dsl: ids([school.dsl]), coordinator: ids([school.coordinator]), governor: ids([school.governor]) }));
    return { id: school.id, name: `Bench School ${i}`, domain: `school${i}.example`, rolesFile };
  });
  const schoolsFile = join(dir, 'schools.json');
  writeFileSync(schoolsFile, JSON.stringify({ schools: entries }));
  const counter = new StorageRoundTripCounter();
  const tables = new Tables({ connectionString, policies: [counter.policy] });
  const config = loadConfig({ PORT: '0', SCHOOLS_FILE: schoolsFile, TABLES_CONNECTION_STRING: connectionString, ...idp.env, LOG_LEVEL: 'error' });
  const deployment = composeDeployment(config, createLogger({ level: 'error' }), { tables });
  const server = await startServer(deployment, { port: 0, host: '127.0.0.1', alertSweepMs: 3_600_000 });
  try {
    const register = new PupilRegisterStore(tables);
    const now = new Date().toISOString();
    for (const school of schools) {
      const pupils: PupilRecord[] = Array.from({ length: PUPILS_PER_SCHOOL }, (_, n) => ({
        externalId: `P${n}`,
        forename: `Pupil${n}`,
        surname: 'Bench',
        cohort: '2020',
        yearGroup: `Year ${1 + (n % 6)}`,
        userPrincipalName: `p${n}@${school.id}.example`,
        status: 'active',
        groups: [],
        createdAt: now,
        updatedAt: now,
      }));
      await register.savePupils(school.id, pupils);
    }
    const post = (activity: object) => fetch(`${server.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) }).then((r) => r.text());
    for (const school of schools) for (const person of [school.dsl, school.coordinator]) await post(installActivity(person, connector.serviceUrl));
    // Each wave of ten goes to one school (its busy morning), the waves rotating through the trust: every school
    // sees the same load whatever the trust's size, so any growth in the figures would come from the number of schools.
    const pick = (i: number) => schools[Math.floor(i / 10) % schools.length]!;

    // Warm-up: one of each, so tables exist and caches hold, as on a server that has been running.
    await post(cardActionInvoke(pick(0).staff[5]!, 'submitIncident', form(0), connector.serviceUrl));
    await tab(server.url, idp, pick(0).dsl, '/api/incidents');
    await tab(server.url, idp, pick(0).governor, '/api/summary');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const kinds: [string, (i: number) => Promise<unknown>][] = [
      ['report', (i) => post(cardActionInvoke(pick(i).staff[2 + (i % 30)]!, 'submitIncident', form(i), connector.serviceUrl))],
      ['tab incidents', (i) => tab(server.url, idp, pick(i).dsl, '/api/incidents')],
      ['summary', (i) => tab(server.url, idp, pick(i).governor, '/api/summary')],
    ];
    const rows: string[] = [];
    for (const [name, call] of kinds) {
      const before = counter.snapshot();
      const latencies: number[] = [];
      // Ten at a time, as a busy morning.
      for (let i = 0; i < REQUESTS_PER_KIND; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, async (_, j) => {
            const started = performance.now();
            await call(i + j);
            latencies.push(performance.now() - started);
          }),
        );
      }
      // Alerts go out after the report's answer: let them land before counting.
      if (name === 'report') await new Promise((resolve) => setTimeout(resolve, 500));
      const trips = counter.since(before).total / REQUESTS_PER_KIND;
      rows.push(`${String(count).padStart(7)}  ${name.padEnd(13)}${formatMs(percentile(latencies, 50)).padStart(10)}   ${formatMs(percentile(latencies, 95)).padStart(10)}   ${trips.toFixed(2)}`);
    }
    return rows;
  } finally {
    await server.close();
  }
}

function form(i: number): Record<string, string> {
  return {
    submissionId: randomUUID(),
    occurredOn: new Date().toISOString().slice(0, 10),
    occurredAt: '10:00',
    involved: `pupil:P${i % PUPILS_PER_SCHOOL}`,
    location: 'Room 3',
    incidentType: 'inappropriate-website',
    description: `Trust benchmark concern ${i}, with enough words to be valid.`,
    actionTaken: '',
    childProtection: 'false',
  };
}

async function tab(url: string, idp: Awaited<ReturnType<typeof startTestIdentityProvider>>, user: TeamsUser, path: string): Promise<number> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${await idp.token(user.aadObjectId)}` } });
  await response.text();
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}.`);
  return response.status;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

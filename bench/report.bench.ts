import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../app/config';
import { composeServices } from '../app/compose';
import { createLogger } from '../infra/logger';
import { startServer } from '../app/server';
import { PupilRegisterStore, type PupilRecord } from '../records/pupil-register-store';
import { StorageRoundTripCounter } from '../records/storage-round-trips';
import { Tables } from '../records/tables';
import { startAzurite } from '../scripts/azurite';
import { LoopbackConnector } from '../test/support/loopback-connector';
import { cardActionInvoke, installActivity, newUser } from '../test/support/teams-activities';
import { formatMs, percentile } from './bench-support';

/**
 * 100 concurrent /report submissions over HTTP on loopback against a real Azurite, each naming a pupil from a
 * 300-pupil register, with a coordinator and a DSL who have talked to the bot so every alert is delivered.
 * Prints p50/p95 latency and the storage round trips per report (counted in the TableClient pipeline, so the
 * count is the same against real Azure Tables), alerts included; then replays every submission to show that
 * duplicates store nothing new.
 */
async function main(): Promise<void> {
  const concurrency = Number(process.argv[2] ?? 100);
  const azurite = await startAzurite();
  const connector = new LoopbackConnector();
  await connector.start();
  const teachers = Array.from({ length: 10 }, (_, i) => newUser(`Bench Teacher ${i}`));
  const coordinator = newUser('Bench Coordinator');
  const dsl = newUser('Bench DSL');
  const dir = mkdtempSync(join(tmpdir(), 'esafety-bench-'));
  writeFileSync(
    join(dir, 'roles.json'),
    JSON.stringify({ staff: [...teachers, coordinator, dsl].map((t) => t.aadObjectId), coordinator: [coordinator.aadObjectId], dsl: [dsl.aadObjectId] }),
  );
  const config = loadConfig({ PORT: '0', SCHOOL_ID: 'bench-school', ROLES_FILE: join(dir, 'roles.json'), TABLES_CONNECTION_STRING: azurite.connectionString });
  const counter = new StorageRoundTripCounter();
  const tables = new Tables({ connectionString: azurite.connectionString, policies: [counter.policy] });
  const services = composeServices(config, createLogger({ level: 'error' }), { tables });
  const server = await startServer(services, { port: 0, host: '127.0.0.1' });

  const now = new Date().toISOString();
  const pupils: PupilRecord[] = Array.from({ length: 300 }, (_, i) => ({
    externalId: `P${String(i).padStart(4, '0')}`,
    forename: `Pupil${i}`,
    surname: 'Bench',
    cohort: '2020',
    yearGroup: `Year ${1 + (i % 6)}`,
    registrationGroup: `${1 + (i % 6)}A`,
    userPrincipalName: `pupil${i}@bench.example`,
    status: 'active',
    groups: [],
    createdAt: now,
    updatedAt: now,
  }));
  await new PupilRegisterStore(tables).savePupils('bench-school', pupils);

  const post = async (activity: object): Promise<{ ms: number; reference: string | undefined }> => {
    const started = performance.now();
    const response = await fetch(`${server.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    const text = await response.text();
    return { ms: performance.now() - started, reference: /ES-\d{4}-\d{4,}/.exec(text)?.[0] };
  };
  // The coordinator and the DSL have talked to the bot, so their alerts go out at once.
  for (const person of [coordinator, dsl]) await post(installActivity(person, connector.serviceUrl));

  const today = new Date().toISOString().slice(0, 10);
  const submissions = Array.from({ length: concurrency }, (_, i) => ({
    user: teachers[i % teachers.length]!,
    data: {
      submissionId: randomUUID(),
      occurredOn: today,
      occurredAt: '10:00',
      involved: `pupil:${pupils[i % pupils.length]!.externalId}`,
      location: 'Room 1',
      incidentType: i % 7 === 0 ? 'cyberbullying' : 'inappropriate-website',
      description: `Benchmark concern number ${i} with enough words to pass validation.`,
      actionTaken: '',
      childProtection: i % 10 === 0 ? 'true' : 'false',
    },
  }));

  // One warm-up request creates the tables, as a running server would have done long before.
  await post(cardActionInvoke(teachers[0]!, 'submitIncident', { ...submissions[0]!.data, submissionId: randomUUID() }, connector.serviceUrl));
  await waitUntil(() => alertMessages(connector).length >= 2, 10_000);
  const alertsBefore = alertMessages(connector).length;

  const before = counter.snapshot();
  const first = await Promise.all(submissions.map((s) => post(cardActionInvoke(s.user, 'submitIncident', s.data, connector.serviceUrl))));
  const references = first.map((r) => r.reference);
  const expectedAlerts = submissions.reduce((n, s) => n + (s.data.childProtection === 'true' ? 2 : 1), 0);
  const alertsDelivered = await waitUntil(() => alertMessages(connector).length - alertsBefore >= expectedAlerts, 30_000);
  // Alert rows settle (delivered) just after the message goes out.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const used = counter.since(before);

  const replay = await Promise.all(submissions.map((s) => post(cardActionInvoke(s.user, 'submitIncident', s.data, connector.serviceUrl))));
  const latencies = first.map((r) => r.ms);
  const stored = (await services.report.incidents.listIncidents('bench-school')).filter((i) => submissions.some((s) => s.data.submissionId === i.submissionId));
  const replayMatches = replay.every((r, i) => r.reference === references[i]);
  const pending = (await Promise.all(stored.map((i) => services.report.incidents.listAlertsForIncident('bench-school', i.reference)))).flat().filter((a) => a.status !== 'delivered');

  console.log(`submissions:              ${concurrency} concurrent, each naming a pupil from a 300-pupil register`);
  console.log(`p50 latency:              ${formatMs(percentile(latencies, 50))}`);
  console.log(`p95 latency:              ${formatMs(percentile(latencies, 95))} (target < 150 ms)`);
  console.log(`max latency:              ${formatMs(Math.max(...latencies))}`);
  console.log(`storage round trips:      ${used.total} for ${concurrency} reports = ${(used.total / concurrency).toFixed(2)} per report, alerts included (target <= 6)`);
  console.log(`  by method:              ${Object.entries(used.byMethod).map(([m, n]) => `${m} ${n}`).join(', ')} (${used.batches} entity-group transactions)`);
  console.log(`references returned:      ${references.filter(Boolean).length}`);
  console.log(`distinct references:      ${new Set(references.filter(Boolean)).size}`);
  console.log(`incidents stored:         ${stored.length} (expected ${concurrency}, each exactly once)`);
  console.log(`alerts delivered:         ${alertMessages(connector).length - alertsBefore} of ${expectedAlerts}${alertsDelivered ? '' : ' (timed out waiting)'}; alert rows not delivered: ${pending.length}`);
  console.log(`replayed submissions:     ${replay.length}, same reference every time: ${replayMatches}`);
  console.log(`replay p95 latency:       ${formatMs(percentile(replay.map((r) => r.ms), 95))}`);

  await server.close();
  await connector.stop();
  await azurite.stop();
  const ok =
    stored.length === concurrency &&
    new Set(references).size === concurrency &&
    replayMatches &&
    alertMessages(connector).length - alertsBefore === expectedAlerts &&
    pending.length === 0 &&
    used.total / concurrency <= 6;
  process.exitCode = ok ? 0 : 1;
}

function alertMessages(connector: LoopbackConnector): unknown[] {
  return connector.sent.filter((s) => /concern ES-\d{4}-\d+/.test(String(s.activity.text ?? '')));
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

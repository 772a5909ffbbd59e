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
import { messageActivity, newUser } from '../test/support/teams-activities';
import { formatMs, percentile } from './bench-support';

/**
 * The report card and its pupil search for a school of N pupils (default 2,000), over HTTP on loopback against a
 * real Azurite. Prints the card's size against Teams' 28 KB limit, and the storage round trips and latency of
 * opening the card and of each typeahead search (counted in the TableClient pipeline, as against Azure Tables).
 */
async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 2000);
  const azurite = await startAzurite();
  const connector = new LoopbackConnector();
  await connector.start();
  const teacher = newUser('Bench Teacher');
  const dir = mkdtempSync(join(tmpdir(), 'esafety-bench-'));
  writeFileSync(join(dir, 'roles.json'), JSON.stringify({ staff: [teacher.aadObjectId] }));
  const config = loadConfig({ PORT: '0', SCHOOL_ID: 'bench-school', ROLES_FILE: join(dir, 'roles.json'), TABLES_CONNECTION_STRING: azurite.connectionString });
  const counter = new StorageRoundTripCounter();
  const tables = new Tables({ connectionString: azurite.connectionString, policies: [counter.policy] });
  const services = composeServices(config, createLogger({ level: 'error' }), { tables });
  const server = await startServer(services, { port: 0, host: '127.0.0.1' });

  const forenames = ['Amelia', 'Oliver', 'Isla', 'Noah', 'Ava', 'Leo', 'Mia', 'Arthur', 'Ivy', 'Muhammad'];
  const surnames = ['Holloway', 'Patel', 'Nguyen', 'Okafor', 'Williams', 'Kowalski', 'Murphy', 'Evans', 'Hughes', 'Begum'];
  const now = new Date().toISOString();
  const pupils: PupilRecord[] = Array.from({ length: size }, (_, i) => ({
    externalId: `P${String(i).padStart(6, '0')}`,
    forename: forenames[i % 10]!,
    surname: `${surnames[Math.floor(i / 10) % 10]}${String.fromCharCode(97 + (i % 26))}`,
    cohort: '2020',
    yearGroup: String(1 + (i % 6)),
    registrationGroup: `${1 + (i % 6)}A`,
    userPrincipalName: `pupil${i}@bench.example`,
    status: 'active',
    groups: [],
    createdAt: now,
    updatedAt: now,
  }));
  await new PupilRegisterStore(tables).savePupils('bench-school', pupils);

  const post = async (activity: object): Promise<{ ms: number; body: string }> => {
    const started = performance.now();
    const response = await fetch(`${server.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    return { body: await response.text(), ms: performance.now() - started };
  };
  const search = (queryText: string) => ({ ...messageActivity(teacher, '', connector.serviceUrl), type: 'invoke', name: 'application/search', value: { queryText, queryOptions: { skip: 0, top: 15 }, dataset: 'pupils' } });

  // Warm-up: the tables exist on a running server long before anyone reports.
  await post(search('warm'));

  const openBefore = counter.snapshot();
  const sentBefore = connector.sent.length;
  const opened = await post(messageActivity(teacher, '/report', connector.serviceUrl));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const openUsed = counter.since(openBefore);
  const card = connector.sent.slice(sentBefore).find((s) => s.activity.attachments)?.activity.attachments?.[0]?.content;
  const cardBytes = Buffer.byteLength(JSON.stringify(card ?? {}), 'utf8');

  const queries = ['ho', 'hol', 'holl', 'hollo', 'hollow', 'pa', 'pat', 'ng', 'oka', 'amelia h', 'ivy beg', 'zz'];
  const searchBefore = counter.snapshot();
  const answers = [];
  for (const q of queries) answers.push(await post(search(q)));
  const searchUsed = counter.since(searchBefore);
  const resultCounts = answers.map((a) => ((JSON.parse(a.body) as { value?: { results?: unknown[] } }).value?.results ?? []).length);

  console.log(`register:                 ${size} pupils on the roll`);
  console.log(`/report card:             ${cardBytes} bytes (Teams' limit 28 KB; kept under 28,000), lists ${JSON.stringify(card ?? {}).match(/"pupil:/g)?.length ?? 0} pupils`);
  console.log(`/report round trips:      ${openUsed.total} (${Object.entries(openUsed.byMethod).map(([m, n]) => `${m} ${n}`).join(', ')}), ${formatMs(opened.ms)}`);
  console.log(`searches:                 ${queries.length}, results ${resultCounts.join(', ')} (at most 15 each)`);
  console.log(`search round trips:       ${searchUsed.total} = ${(searchUsed.total / queries.length).toFixed(2)} per search, its audit line included`);
  console.log(`search p50 / p95:         ${formatMs(percentile(answers.map((a) => a.ms), 50))} / ${formatMs(percentile(answers.map((a) => a.ms), 95))}`);

  await server.close();
  await connector.stop();
  await azurite.stop();
  process.exitCode = cardBytes < 28_000 && resultCounts.every((n) => n <= 15) && searchUsed.total / queries.length <= 3 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

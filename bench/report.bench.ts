import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../app/config';
import { composeServices } from '../app/compose';
import { createLogger } from '../app/logger';
import { startServer } from '../app/server';
import { startAzurite } from '../scripts/azurite';
import { LoopbackConnector } from '../test/support/loopback-connector';
import { cardActionInvoke, newUser } from '../test/support/teams-activities';
import { formatMs, percentile } from './bench-support';

/**
 * 100 concurrent /report submissions over HTTP on loopback against a real Azurite.
 * Prints p50/p95 latency and how many incidents were stored; then replays every submission to show
 * that duplicates store nothing new.
 */
async function main(): Promise<void> {
  const concurrency = Number(process.argv[2] ?? 100);
  const azurite = await startAzurite();
  const connector = new LoopbackConnector();
  await connector.start();
  const teachers = Array.from({ length: 10 }, (_, i) => newUser(`Bench Teacher ${i}`));
  const dir = mkdtempSync(join(tmpdir(), 'esafety-bench-'));
  writeFileSync(join(dir, 'roles.json'), JSON.stringify({ staff: teachers.map((t) => t.aadObjectId), coordinator: [teachers[0]!.aadObjectId] }));
  const config = loadConfig({ PORT: '0', SCHOOL_ID: 'bench-school', ROLES_FILE: join(dir, 'roles.json'), TABLES_CONNECTION_STRING: azurite.connectionString });
  const services = composeServices(config, createLogger({ level: 'error' }));
  const server = await startServer(services, { port: 0, host: '127.0.0.1' });

  const today = new Date().toISOString().slice(0, 10);
  const submissions = Array.from({ length: concurrency }, (_, i) => ({
    user: teachers[i % teachers.length]!,
    data: {
      submissionId: randomUUID(),
      occurredOn: today,
      occurredAt: '10:00',
      involved: 'pupil-unlisted',
      location: 'Room 1',
      incidentType: i % 7 === 0 ? 'cyberbullying' : 'inappropriate-website',
      description: `Benchmark concern number ${i} with enough words to pass validation.`,
      actionTaken: '',
      childProtection: 'false',
    },
  }));

  const post = async (activity: object): Promise<{ ms: number; reference: string | undefined }> => {
    const started = performance.now();
    const response = await fetch(`${server.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    const text = await response.text();
    return { ms: performance.now() - started, reference: /ES-\d{4}-\d{4,}/.exec(text)?.[0] };
  };

  // One warm-up request creates the tables, as a running server would have done long before.
  await post(cardActionInvoke(teachers[0]!, 'submitIncident', { ...submissions[0]!.data, submissionId: randomUUID() }, connector.serviceUrl));

  const first = await Promise.all(submissions.map((s) => post(cardActionInvoke(s.user, 'submitIncident', s.data, connector.serviceUrl))));
  const replay = await Promise.all(submissions.map((s) => post(cardActionInvoke(s.user, 'submitIncident', s.data, connector.serviceUrl))));

  const latencies = first.map((r) => r.ms);
  const references = first.map((r) => r.reference);
  const stored = (await services.report.incidents.listIncidents('bench-school')).filter((i) => submissions.some((s) => s.data.submissionId === i.submissionId));
  const replayMatches = replay.every((r, i) => r.reference === references[i]);

  console.log(`submissions:          ${concurrency} concurrent`);
  console.log(`p50 latency:          ${formatMs(percentile(latencies, 50))}`);
  console.log(`p95 latency:          ${formatMs(percentile(latencies, 95))} (target < 150 ms)`);
  console.log(`max latency:          ${formatMs(Math.max(...latencies))}`);
  console.log(`references returned:  ${references.filter(Boolean).length}`);
  console.log(`distinct references:  ${new Set(references.filter(Boolean)).size}`);
  console.log(`incidents stored:     ${stored.length} (expected ${concurrency}, each exactly once)`);
  console.log(`replayed submissions: ${replay.length}, same reference every time: ${replayMatches}`);
  console.log(`replay p95 latency:   ${formatMs(percentile(replay.map((r) => r.ms), 95))}`);

  await server.close();
  await connector.stop();
  await azurite.stop();
  const ok = stored.length === concurrency && new Set(references).size === concurrency && replayMatches;
  process.exitCode = ok ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

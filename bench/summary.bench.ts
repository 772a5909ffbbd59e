/**
 * GET /api/summary over 10,000 incidents spread over 5 years, against a private Azurite.
 * Run: npm run bench:summary. Prints p50/p95 (target: p95 < 300 ms).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../app/config';
import { composeServices } from '../app/compose';
import { createMemoryLogger } from '../infra/logger';
import { startServer } from '../app/server';
import { IncidentAggregateStore } from '../records/incident-aggregate-store';
import { IncidentStore, type IncidentRecord } from '../records/incident-store';
import { startAzurite } from '../scripts/azurite';
import { INCIDENT_TYPE_IDS, fourCOf } from '../school/incident-types';
import { addIncident, emptyMonth, monthOf, type MonthCounters } from '../school/incident-summary';
import { issueLocalIdentity } from '../tab/server/tab-tokens';

const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 10_000);
const REQUESTS = 200;

async function main(): Promise<void> {
  const azurite = await startAzurite();
  const governor = randomUUID();
  const dir = mkdtempSync(join(tmpdir(), 'esafety-bench-'));
  writeFileSync(join(dir, 'roles.json'), JSON.stringify({ governor: [governor] }));
  const secret = 'bench-local-identity-secret-0123456789';
  const config = loadConfig({ PORT: '0', SCHOOL_ID: 'bench-school', ROLES_FILE: join(dir, 'roles.json'), TABLES_CONNECTION_STRING: azurite.connectionString, SECRET_LOCAL_IDENTITY_KEY: secret });
  const services = composeServices(config, createMemoryLogger('warn'));
  const incidents = new IncidentStore(services.tables);
  const months = new Map<string, MonthCounters>();
  const now = Date.now();
  const started = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < INCIDENTS) {
      const i = next++;
      const at = new Date(now - Math.floor(Math.random() * 5 * 365) * 86_400_000).toISOString();
      const type = INCIDENT_TYPE_IDS[i % INCIDENT_TYPE_IDS.length]!;
      const record: IncidentRecord = {
        schoolId: 'bench-school', reference: `ES-B-${String(i).padStart(5, '0')}`, type, fourC: fourCOf(type), audience: 'standard', childProtection: false, subject: 'pupil',
        occurredOn: at.slice(0, 10), occurredAt: undefined, involved: [{ kind: 'pupil-unlisted' }], yearGroups: [`Year ${(i % 6) + 1}`], location: 'x', description: 'x', actionTaken: 'x',
        status: 'open', reporterId: governor, submissionId: randomUUID(), createdAt: at, updatedAt: at, eventCount: 1,
      };
      await incidents.createIncident(record, { at, actorId: governor, kind: 'reported', what: 'Reported', why: '' }, []);
      const key = monthOf(record.occurredOn);
      months.set(key, addIncident(months.get(key) ?? emptyMonth(key), record));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  await new IncidentAggregateStore(services.tables).replaceAll('bench-school', [...months.values()]);
  console.log(`seeded ${INCIDENTS} incidents over ${months.size} months in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const running = await startServer(services, { port: 0, host: '127.0.0.1' });
  const token = await issueLocalIdentity(secret, governor, new Date());
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const response = await fetch(`${running.url}/api/summary`, { headers: { authorization: `Bearer ${token}` } });
    await response.text();
    if (response.status !== 200) throw new Error(`GET /api/summary answered ${response.status}`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number): string => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(1);
  console.log(`GET /api/summary x${REQUESTS}: p50 ${pct(50)} ms, p95 ${pct(95)} ms (target p95 < 300 ms)`);
  await running.close();
  await azurite.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

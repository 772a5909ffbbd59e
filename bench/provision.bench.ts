import { pupilProvisioningSettings } from '../test/support/school-settings';
import { spawn, type ChildProcess } from 'node:child_process';
import { createLogger } from '../infra/logger';
import { MAX_BATCH_SIZE, type GraphBatchStats } from '../graph/graph-batch';
import { createStaticTokenCredential } from '../graph/graph-credentials';
import { createGraphGateway, type GraphGateway } from '../graph/graph-gateway';
import { AuditStore } from '../records/audit-store';
import { ProvisioningRunStore } from '../records/provisioning-run-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { Tables } from '../records/tables';
import type { RollPupil, YearGroup } from '../school/pupil-roll';
import { startAzurite } from '../scripts/azurite';
import { renderCredentialSlips } from '../usecases/credential-slips';
import { applyProvisioning, type ProvisioningDependencies } from '../usecases/provision-pupils';
import { formatMs } from './bench-support';
import { costOf, GRAPH_BUDGETS, GraphPacer } from '../graph/graph-pacing';
import type { FakeHttpRequest, FakeHttpResponse } from '../test/support/graph-fake';

/**
 * Provisions 1,000 pupils against the Graph fake's loopback HTTP server (20 ms per answer, 5% of inner
 * requests throttled with 429 + Retry-After) and a private Azurite, then runs apply again. The fake runs in a
 * child process (this file, with --serve-fake), as Graph would be remote: the RSS printed is provisioning's own.
 *
 *   npx tsx bench/provision.bench.ts [pupils=1000] [--retry-after SECONDS=1] [--concurrency N=4]
 *
 * Batched minimum: every gateway operation the run calls is one batched send, and each must at least send
 * its distinct requests (first attempts = inner requests − retries) in batches of 20, so the minimum is the
 * sum over operations of ceil(first attempts / 20). Round trips above it come from retries and part-full batches.
 * Ideal wall time: round trips × latency ÷ concurrency. Retry-After waits are the server's to impose, so they
 * are measured and printed beside it.
 *
 * Peak RSS is this process's alone, and most of it is there before provisioning starts (printed): Node, tsx's
 * loader threads (about 26 MB that `node dist/…` in production does not have) and the modules. Heap snapshots of a
 * 1,000-pupil run found at most about 9 MB of live data above that (each pupil's working state, and writes in
 * flight), and nothing left behind once the run returns; the rest of the growth is garbage that V8 lets build up
 * to a few times the live heap before a full collection, so the figure moves by ±20 MB with the machine's load.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const at = args.indexOf(name);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const count = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) ?? 1000);
  const retryAfterSeconds = option('--retry-after', 1);
  const concurrency = option('--concurrency', 4);
  const latencyMs = 20;
  // By default the fake enforces Graph's documented quotas (see quotaBudgets); --random-throttle answers 5% with 429 instead.
  const randomThrottle = args.includes('--random-throttle');
  const timeScale = option('--time-scale', 0.2);
  const budgets = quotaBudgets(timeScale);

  const azurite = await startAzurite();
  const fake = await startFakeGraph(
    { latencyMs, throttleRate: randomThrottle ? 0.05 : 0, throttleStatus: 429, retryAfterSeconds, seed: 2026, checkContract: false },
    count * 2,
    randomThrottle ? undefined : budgets,
  );
  let sleptMs = 0;
  const pacer = new GraphPacer({ budgets });
  const gateway = createGraphGateway({
    authProvider: createStaticTokenCredential('bench-token'),
    baseUrl: fake.baseUrl,
    concurrency,
    pacer,
    sleep: async (ms) => {
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, ms));
      sleptMs += performance.now() - started;
    },
  });
  const operations: OperationFigures[] = [];
  const tables = new Tables({ connectionString: azurite.connectionString });
  let warnings = 0;
  const deps: ProvisioningDependencies = {
    schoolId: 'bench-school',
    register: new PupilRegisterStore(tables),
    audit: new AuditStore(tables),
    runs: new ProvisioningRunStore(tables),
    gateway: measure(gateway, operations),
    settings: pupilProvisioningSettings('bench.example'),
    actorId: 'bench',
    clock: () => new Date(),
    logger: createLogger({ level: 'warn', write: () => void (warnings += 1) }),
  };
  const pupils = buildPupils(count);
  // Warm up storage (table creation) so the run measures provisioning, not first-use set-up.
  await deps.register.listPupils(deps.schoolId);
  await deps.audit.appendAudit(deps.schoolId, { actorId: 'bench', action: 'bench.start', target: 'bench', outcome: 'succeeded' });
  await deps.runs?.listRuns(deps.schoolId);
  // What the process holds before provisioning starts: Node, the TypeScript loader this bench runs under, and the modules.
  const baselineRssMb = process.memoryUsage().rss / 1048576;

  let slipsHtmlBytes = 0;
  const phases: { phase: string; at: number; rssMb: number }[] = [];
  const started = performance.now();
  const result = await applyProvisioning(deps, {
    roll: { pupils, rejected: [] },
    academicYearStart: 2026,
    onProgress: (p) => phases.push({ phase: p.phase, at: performance.now(), rssMb: process.memoryUsage().rss / 1048576 }),
    deliverSlips: async (slips) => {
      slipsHtmlBytes = Buffer.byteLength(renderCredentialSlips(slips, { schoolName: 'Bench Primary' }));
    },
  });
  const wallMs = performance.now() - started;
  const firstRunRssMb = (process.resourceUsage().maxRSS * 1024) / (1024 * 1024);
  const stats: GraphBatchStats = { ...gateway.stats };
  const firstRunOperations = [...operations];

  // The fake counts the quota units it answered; only the totals cross to this process, so the figures below are provisioning's.
  const afterFirst = await fake.snapshot(false);
  const mutatingBefore = afterFirst.mutatingRequests;
  const floor = quotaFloorMs(afterFirst.units, budgets);
  const rerunStarted = performance.now();
  const rerun = await applyProvisioning(deps, { roll: { pupils, rejected: [] }, academicYearStart: 2026, deliverSlips: async () => undefined });
  const rerunMs = performance.now() - rerunStarted;
  // Taken before the tenant's users are fetched for the checks below, which are the benchmark's, not provisioning's.
  const rssMb = (process.resourceUsage().maxRSS * 1024) / (1024 * 1024);
  const tenant = await fake.snapshot(true);
  const rerunMutating = tenant.mutatingRequests - mutatingBefore;

  const byEmployeeId = new Map<string, number>();
  for (const user of tenant.users) byEmployeeId.set(user.employeeId, (byEmployeeId.get(user.employeeId) ?? 0) + 1);
  const duplicates = [...byEmployeeId.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const register = new Map((await deps.register.listPupils(deps.schoolId)).map((r) => [r.externalId, r]));
  const userByEmployeeId = new Map(tenant.users.map((u) => [u.employeeId, u]));
  const lost = pupils.filter((p) => {
    const user = userByEmployeeId.get(p.externalId);
    const record = register.get(p.externalId);
    return !user || record?.status !== 'active' || record.userId !== user.id || !user.licensedWithoutExchange || user.groups !== 2 || user.policies !== 2;
  }).length;

  const minimum = firstRunOperations.reduce((sum, op) => sum + op.minimum, 0);
  const idealMs = (stats.roundTrips * latencyMs) / concurrency;

  console.log(
    randomThrottle
      ? `pupils:                 ${count} (concurrency ${concurrency}, ${latencyMs} ms latency, 5% of inner requests answered 429 with Retry-After: ${retryAfterSeconds})`
      : `pupils:                 ${count} (concurrency ${concurrency}, ${latencyMs} ms latency, the fake enforcing Graph's documented quotas with windows x${timeScale})`,
  );
  const throttleShare = stats.throttled / Math.max(1, stats.innerRequests);
  console.log(`429 share:              ${(throttleShare * 100).toFixed(2)}% of ${stats.innerRequests} inner requests (${stats.throttled} answered 429; target <= 1%)`);
  console.log(`quota floor:            ${formatMs(floor.ms)} (${floor.budget}); wall / floor: ${floor.ms > 0 ? (wallMs / floor.ms).toFixed(2) : 'n/a'}x (target <= 1.3x); batches waited on their own budget ${formatMs(pacer.waitedMs)} in all`);
  console.log('per gateway operation (one batched send each):');
  for (const op of firstRunOperations) {
    console.log(`  ${op.name.padEnd(28)} requests ${String(op.firstAttempts).padStart(5)}  minimum ${String(op.minimum).padStart(3)}  round trips ${String(op.roundTrips).padStart(3)}  retries ${String(op.retries).padStart(3)}  ${formatMs(op.ms)}`);
  }
  console.log('per phase of the run (wall time, RSS at its end):');
  phases.forEach((p, i) => {
    const next = phases[i + 1];
    if (next) console.log(`  ${p.phase.padEnd(12)} ${formatMs(next.at - p.at).padStart(10)}  ${next.rssMb.toFixed(0)} MB`);
  });
  console.log(`round trips:            ${stats.roundTrips} ($batch posts; ${stats.innerRequests} inner requests, ${stats.retries} retried, ${stats.throttled} throttled)`);
  console.log(`batched minimum:        ${minimum} (sum over operations of ceil(first attempts / ${MAX_BATCH_SIZE}))`);
  console.log(`ratio:                  ${(stats.roundTrips / minimum).toFixed(2)}x (target <= 1.2x)`);
  console.log(`wall time:              ${formatMs(wallMs)}`);
  console.log(`ideal (trips x latency / concurrency): ${formatMs(idealMs)}`);
  console.log(`wall / ideal:           ${(wallMs / idealMs).toFixed(2)}x (target <= 1.5x)`);
  console.log(`  of which Retry-After waits: ${formatMs(sleptMs)}; wall time without them: ${formatMs(wallMs - sleptMs)} = ${((wallMs - sleptMs) / idealMs).toFixed(2)}x ideal`);
  console.log(`  time inside Graph calls:    ${formatMs(firstRunOperations.reduce((s, op) => s + op.ms, 0))}; the rest is Azure Tables (register, audit) and CPU`);
  console.log(`peak RSS:               ${firstRunRssMb.toFixed(1)} MB during the run, ${rssMb.toFixed(1)} MB after the re-run (target < 200 MB; this process only: the fake tenant and Azurite run in children)`);
  console.log(`  of which before the run: ${baselineRssMb.toFixed(1)} MB (Node, tsx's loader and the loaded modules)`);
  console.log(`slips:                  ${result.slipsIssued} (${(slipsHtmlBytes / 1024).toFixed(0)} KiB of HTML)`);
  console.log(`outcome:                ${result.summary.create} created, ${result.summary.failed} failed${result.interrupted ? `, interrupted: ${result.interrupted}` : ''}`);
  console.log(`duplicates:             ${duplicates}`);
  console.log(`lost pupils:            ${lost}`);
  console.log(`re-run:                 ${rerun.summary.unchanged} unchanged, ${rerunMutating} mutating requests, ${formatMs(rerunMs)}`);
  console.log(`warnings logged:        ${warnings}`);

  await fake.close();
  await azurite.stop();
  process.exitCode = duplicates === 0 && lost === 0 && result.summary.failed === 0 && rerunMutating === 0 ? 0 : 1;
}

/** What the parent needs to know about the fake tenant after a run. */
interface TenantSnapshot {
  /** Present when asked for: the checks after the re-run. */
  users: { id: string; employeeId: string; licensedWithoutExchange: boolean; groups: number; policies: number }[];
  mutatingRequests: number;
  /** Quota units (costOf) of every inner request the fake answered (not the ones refused with 429), for the quota floor. */
  units: Record<string, number>;
}

interface FakeGraphProcess {
  baseUrl: string;
  snapshot(withUsers: boolean): Promise<TenantSnapshot>;
  close(): Promise<void>;
}

/** Starts this file as a child process serving the Graph fake on loopback. */
async function startFakeGraph(options: Record<string, unknown>, seats: number, quotas?: QuotaBudgets): Promise<FakeGraphProcess> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, __filename, '--serve-fake', JSON.stringify({ options, seats, quotas })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(): Promise<T> => new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) => reject(new Error(`The Graph fake exited (${code}).`)));
  });
  const { baseUrl } = await next<{ baseUrl: string }>();
  return {
    baseUrl,
    snapshot: (withUsers) => {
      const answer = next<TenantSnapshot>();
      child.send(withUsers ? 'snapshot-users' : 'snapshot');
      return answer;
    },
    close: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.send('close');
    }),
  };
}

/** The child: the fake tenant on 127.0.0.1:0, answering the parent's questions over IPC. */
async function serveFake(argument: string): Promise<void> {
  const { GraphFake } = await import('../test/support/graph-fake');
  const { options, seats, quotas } = JSON.parse(argument) as { options: ConstructorParameters<typeof GraphFake>[0]; seats: number; quotas?: QuotaBudgets };
  const fake = new GraphFake(options);
  if (quotas) enforceQuotas(fake, quotas);
  const { sku } = fake.seedSchool();
  sku.enabledUnits = seats;
  const exchange = sku.servicePlans.find((p) => p.servicePlanName === 'EXCHANGE_S_STANDARD')?.servicePlanId;
  const server = await fake.listen();
  process.on('message', (message) => {
    if (message === 'close') void server.close().then(() => process.exit(0));
    if (message !== 'snapshot' && message !== 'snapshot-users') return;
    const units: Record<string, number> = {};
    for (const r of fake.innerRequests()) for (const [key, n] of costOf(r)) units[key] = (units[key] ?? 0) + n;
    const snapshot: TenantSnapshot = {
      users: message !== 'snapshot-users' ? [] : [...fake.users.values()].map((u) => ({
        id: u.id,
        employeeId: u.employeeId ?? '',
        licensedWithoutExchange: u.assignedLicenses.length === 1 && u.assignedLicenses[0]?.skuId === sku.skuId && u.assignedLicenses[0]?.disabledPlans.join() === exchange,
        groups: [...fake.groups.values()].filter((g) => g.members.has(u.id)).length,
        policies: fake.directPolicyAssignments.get(u.id)?.size ?? 0,
      })),
      mutatingRequests: fake.innerRequests().filter((r) => r.method !== 'GET').length,
      units,
    };
    process.send?.(snapshot);
  });
  process.send?.({ baseUrl: server.baseUrl });
}

type QuotaBudgets = Record<keyof typeof GRAPH_BUDGETS, { limit: number; windowMs: number }>;

/** Graph's documented quotas (graph/graph-pacing.ts), with every window scaled by `timeScale` so a run takes a minute, not minutes. */
function quotaBudgets(timeScale: number): QuotaBudgets {
  return Object.fromEntries(Object.entries(GRAPH_BUDGETS).map(([key, b]) => [key, { limit: b.limit, windowMs: Math.round(b.windowMs * timeScale) }])) as QuotaBudgets;
}

/**
 * A stand-in for Graph's throttling: each $batch is charged to sliding windows per budget (costOf), and a batch that
 * would pass any of them is answered 429 with the Retry-After that frees room, as the service does.
 */
function enforceQuotas(fake: { respond(request: FakeHttpRequest): Promise<FakeHttpResponse>; throttledByQuota?: number }, quotas: QuotaBudgets): void {
  const windows = new Map<string, number[]>();
  const budgetOf = (key: string) => Object.entries(GRAPH_BUDGETS).find(([, b]) => b.name === key.split(':')[0])?.[0] as keyof QuotaBudgets | undefined;
  const original = fake.respond.bind(fake);
  fake.respond = async (request) => {
    const inner = (request.body as { requests?: { method: string; url: string }[] } | undefined)?.requests;
    if (request.method === 'POST' && request.url.endsWith('/$batch') && inner) {
      const now = Date.now();
      const total = new Map<string, number>();
      for (const r of inner) for (const [key, units] of costOf(r)) total.set(key, (total.get(key) ?? 0) + units);
      let retryAtMs = 0;
      for (const [key, units] of total) {
        const name = budgetOf(key);
        if (!name) continue;
        const { limit, windowMs } = quotas[name];
        const spent = (windows.get(key) ?? []).filter((t) => t > now - windowMs);
        windows.set(key, spent);
        if (spent.length + units > limit) retryAtMs = Math.max(retryAtMs, (spent[spent.length + units - limit - 1] ?? now) + windowMs);
      }
      if (retryAtMs > 0) {
        return { status: 429, headers: { 'content-type': 'application/json', 'retry-after': String(Math.max(1, Math.ceil((retryAtMs - now) / 1000))) }, body: { error: { code: 'TooManyRequests', message: 'Quota exceeded (bench stand-in).' } } };
      }
      for (const [key, units] of total) for (let i = 0; i < units; i++) windows.get(key)?.push(now);
    }
    return original(request);
  };
}

/** The least wall time the quotas allow for these units (budget key → units spent): for each budget, full windows waited before the last unit. */
function quotaFloorMs(total: Readonly<Record<string, number>>, quotas: QuotaBudgets): { ms: number; budget: string } {
  let floor = { ms: 0, budget: 'none' };
  for (const [key, units] of Object.entries(total)) {
    const name = Object.entries(GRAPH_BUDGETS).find(([, b]) => b.name === key.split(':')[0])?.[0] as keyof QuotaBudgets | undefined;
    if (!name) continue;
    const ms = Math.max(0, Math.ceil(units / quotas[name].limit) - 1) * quotas[name].windowMs;
    if (ms > floor.ms) floor = { ms, budget: key };
  }
  return floor;
}

interface OperationFigures {
  name: string;
  firstAttempts: number;
  minimum: number;
  roundTrips: number;
  retries: number;
  ms: number;
}

/** Wraps each gateway method to record the stats it added: one entry per batched operation. */
function measure(gateway: GraphGateway, operations: OperationFigures[]): GraphGateway {
  return new Proxy(gateway, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'constructor') return value;
      return async (...args: unknown[]) => {
        const before = { ...target.stats };
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          const after = target.stats;
          const firstAttempts = after.innerRequests - before.innerRequests - (after.retries - before.retries);
          operations.push({
            name: String(property),
            firstAttempts,
            minimum: Math.ceil(firstAttempts / MAX_BATCH_SIZE),
            roundTrips: after.roundTrips - before.roundTrips,
            retries: after.retries - before.retries,
            ms: performance.now() - started,
          });
        }
      };
    },
  });
}

const UPN_LETTERS = 'ABCDEFGHJKLMNPQRTUVWXYZ';
const FORENAMES = ['Amelia', 'Zoë', 'Łukasz', 'Saoirse', 'Mary-Jane', 'Oliver', 'Isla', 'Noah', 'Ava', 'Leo', 'Freya', 'Arthur', 'Ivy', 'Theo', 'Rosie', 'Finn', 'Elsie', 'Jude', 'Maeve', 'Ezra'];
const SURNAMES = ["O'Brien", 'Smith', 'Nguyen', 'Kowalczyk-Fern', 'Ahmed', 'de la Cruz', 'Jones', 'Patel', 'Straßmann', 'Evans', 'Brown', 'Murphy', 'Wilson'];
const YEARS: YearGroup[] = ['R', '1', '2', '3', '4', '5', '6'];

function buildPupils(count: number): RollPupil[] {
  return Array.from({ length: count }, (_, n) => {
    const digits = `998${String(n).padStart(9, '0')}`;
    let sum = 0;
    for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (i + 2);
    const upn = `${UPN_LETTERS[sum % 23]}${digits}`;
    const yearGroup = YEARS[n % YEARS.length] as YearGroup;
    return {
      row: n + 2,
      externalId: upn,
      upn,
      forename: FORENAMES[n % FORENAMES.length] as string,
      surname: SURNAMES[Math.floor(n / FORENAMES.length) % SURNAMES.length] as string,
      yearGroup,
      registrationGroup: `${yearGroup}${'ABCD'[n % 4]}`,
    };
  });
}

const serveAt = process.argv.indexOf('--serve-fake');
(serveAt >= 0 ? serveFake(process.argv[serveAt + 1] as string) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

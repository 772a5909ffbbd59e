/**
 * The measured process of `npm run bench:provision`. bench/provision.bench.ts compiles this file and the product
 * with tsc (bench/tsconfig.provision.json) and runs the JavaScript with plain `node`, no loader and no flags, as
 * App Service runs `node dist/app/main.js`. So the peak RSS it reports is the compiled product's, under plain
 * node. The Graph stand-in and Azurite run in other processes, and the benchmark's own checks run in the parent.
 *
 * Protocol (IPC): the parent sends a RunRequest; this process provisions the roll, sends a `first-run` report,
 * waits for `rerun`, applies the same roll again, sends `done` and exits.
 */
import { loadConfig, pupilProvisioningSettingsOf } from '../app/config';
import { MAX_BATCH_SIZE, type GraphBatchStats } from '../graph/graph-batch';
import { createStaticTokenCredential } from '../graph/graph-credentials';
import { createGraphGateway, type GraphGateway } from '../graph/graph-gateway';
import { GraphPacer, type GRAPH_BUDGETS } from '../graph/graph-pacing';
import { createLogger } from '../infra/logger';
import { AuditStore } from '../records/audit-store';
import { ProvisioningRunStore } from '../records/provisioning-run-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { Tables } from '../records/tables';
import { renderCredentialSlips } from '../usecases/credential-slips';
import { applyProvisioning, type ProvisioningDependencies } from '../usecases/provision-pupils';
import { buildPupils } from './bench-pupils';

export type QuotaBudgets = Record<keyof typeof GRAPH_BUDGETS, { limit: number; windowMs: number }>;

export interface RunRequest {
  schoolId: string;
  count: number;
  concurrency: number;
  azuriteConnectionString: string;
  graphBaseUrl: string;
  budgets: QuotaBudgets;
  /** Load what `node dist/app/main.js` loads (the composition root and the restify server) first, without starting it: the Admin page's apply runs in that process. */
  withServerModules: boolean;
}

export interface OperationFigures {
  name: string;
  firstAttempts: number;
  minimum: number;
  roundTrips: number;
  retries: number;
  ms: number;
}

/** Memory of this process, in MB: the kernel's high-water mark and the highest of the samples taken every 50 ms. */
export interface RssFigures {
  maxRssMb: number;
  sampledPeakMb: number;
}

export interface FirstRunReport {
  type: 'first-run';
  node: string;
  execArgv: string[];
  baselineRssMb: number;
  wallMs: number;
  sleptMs: number;
  pacerWaitedMs: number;
  stats: GraphBatchStats;
  operations: OperationFigures[];
  phases: { phase: string; at: number; rssMb: number }[];
  slipsIssued: number;
  slipsHtmlBytes: number;
  created: number;
  failed: number;
  interrupted?: string;
  rss: RssFigures;
}

export interface DoneReport {
  type: 'done';
  rerunUnchanged: number;
  rerunMs: number;
  warnings: number;
  rss: RssFigures;
}

const mb = (bytes: number) => bytes / 1048576;

/** Samples this process's RSS every 50 ms (the timer does not keep the process alive). */
function startSampler(): { peakMb(): number } {
  let peak = process.memoryUsage.rss();
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  setInterval(sample, 50).unref();
  return {
    peakMb: () => {
      sample();
      return mb(peak);
    },
  };
}

function rssFigures(sampler: { peakMb(): number }): RssFigures {
  // maxRSS is in kilobytes (https://nodejs.org/api/process.html#processresourceusage).
  return { maxRssMb: process.resourceUsage().maxRSS / 1024, sampledPeakMb: sampler.peakMb() };
}

function send(message: FirstRunReport | DoneReport): Promise<void> {
  return new Promise((resolve, reject) => process.send?.(message, (error: Error | null) => (error ? reject(error) : resolve())));
}

function nextMessage<T>(): Promise<T> {
  return new Promise((resolve) => process.once('message', (message) => resolve(message as T)));
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

async function run(): Promise<void> {
  const sampler = startSampler();
  const request = await nextMessage<RunRequest>();
  if (request.withServerModules) {
    await import('../app/compose');
    await import('../app/server');
  }
  let sleptMs = 0;
  const pacer = new GraphPacer({ budgets: request.budgets });
  const gateway = createGraphGateway({
    authProvider: createStaticTokenCredential('bench-token'),
    baseUrl: request.graphBaseUrl,
    concurrency: request.concurrency,
    pacer,
    sleep: async (ms) => {
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, ms));
      sleptMs += performance.now() - started;
    },
  });
  const operations: OperationFigures[] = [];
  const tables = new Tables({ connectionString: request.azuriteConnectionString });
  let warnings = 0;
  const defaults = loadConfig({});
  const deps: ProvisioningDependencies = {
    schoolId: request.schoolId,
    register: new PupilRegisterStore(tables),
    audit: new AuditStore(tables),
    runs: new ProvisioningRunStore(tables),
    gateway: measure(gateway, operations),
    settings: pupilProvisioningSettingsOf({ school: { ...defaults.school, domain: 'bench.example' }, pupils: defaults.pupils }),
    actorId: 'bench',
    clock: () => new Date(),
    logger: createLogger({ level: 'warn', write: () => void (warnings += 1) }),
  };
  const pupils = buildPupils(request.count);
  // Warm up storage (table creation) so the run measures provisioning, not first-use set-up.
  await deps.register.listPupils(deps.schoolId);
  await deps.audit.appendAudit(deps.schoolId, { actorId: 'bench', action: 'bench.start', target: 'bench', outcome: 'succeeded' });
  await deps.runs?.listRuns(deps.schoolId);
  const baselineRssMb = mb(process.memoryUsage.rss());

  let slipsHtmlBytes = 0;
  const phases: FirstRunReport['phases'] = [];
  const started = performance.now();
  const result = await applyProvisioning(deps, {
    roll: { pupils, rejected: [] },
    academicYearStart: 2026,
    onProgress: (p) => phases.push({ phase: p.phase, at: performance.now(), rssMb: mb(process.memoryUsage.rss()) }),
    deliverSlips: async (slips) => {
      slipsHtmlBytes = Buffer.byteLength(renderCredentialSlips(slips, { schoolName: 'Bench Primary' }));
    },
  });
  const wallMs = performance.now() - started;
  const firstRss = rssFigures(sampler);
  await send({
    type: 'first-run',
    node: process.version,
    execArgv: process.execArgv,
    baselineRssMb,
    wallMs,
    sleptMs,
    pacerWaitedMs: pacer.waitedMs,
    stats: { ...gateway.stats },
    operations: [...operations],
    phases,
    slipsIssued: result.slipsIssued,
    slipsHtmlBytes,
    created: result.summary.create,
    failed: result.summary.failed,
    ...(result.interrupted ? { interrupted: String(result.interrupted) } : {}),
    rss: firstRss,
  });

  await nextMessage<'rerun'>();
  const rerunStarted = performance.now();
  const rerun = await applyProvisioning(deps, { roll: { pupils, rejected: [] }, academicYearStart: 2026, deliverSlips: async () => undefined });
  const rerunMs = performance.now() - rerunStarted;
  await send({ type: 'done', rerunUnchanged: rerun.summary.unchanged, rerunMs, warnings, rss: rssFigures(sampler) });
  process.disconnect?.();
}

run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

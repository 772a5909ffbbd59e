import restify, { type Request, type RequestHandler, type Response, type Server } from 'restify';
import type { AppServices, Deployment } from './compose';
import { SchoolRouter } from './school-router';
import { deliverPendingAlerts } from '../usecases/deliver-alerts';
import { routeBodyPolicy } from '../tab/server/api-responses';
import { createBodyReader, type BodyTimeouts } from './http-body';
import { guardBotResponse, installSafeErrors } from './http-errors';
import { installSecurityHeaders } from './http-headers';
import { installHeaderDeadline } from './http-deadlines';

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** How long a client may take to send a request; slow or stalled ones are cut off instead of held open. */
export interface HttpTimeouts {
  /** The request line and headers (node's `headersTimeout`). */
  headersMs: number;
  /** The whole request, headers and body (node's `requestTimeout`); the answer may stream for longer. */
  requestMs: number;
  /** The body: the longest gap between two pieces, and the longest it may take in all. */
  body: BodyTimeouts;
}

/** Generous for a school's slowest connection (a 4 MB roll at 1 Mbit/s takes about 32 s), short for a drip. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 20_000, requestMs: 120_000, body: { idleMs: 15_000, totalMs: 90_000 } };

type Method = 'get' | 'post' | 'put' | 'del' | 'patch';
const METHODS: readonly Method[] = ['get', 'post', 'put', 'del', 'patch'];

/**
 * Builds the restify server: the bot endpoint, health, and each feature's routes (the tab and its API among them).
 * Given several schools (a trust), each request is handled by the school of the person making it.
 */
export function createServer(input: AppServices | Deployment, timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS): Server {
  const deployment = 'router' in input ? input : undefined;
  const schools = deployment ? deployment.schools : [input as AppServices];
  const primary = schools[0]!;
  const server = restify.createServer({ name: 'e-safety-for-teams', handleUncaughtExceptions: false });
  server.server.headersTimeout = timeouts.headersMs;
  server.server.requestTimeout = Math.max(timeouts.requestMs, timeouts.headersMs);
  installHeaderDeadline(server.server, timeouts.headersMs);
  installSecurityHeaders(server, { deployed: primary.config.deployed });
  installSafeErrors(server, primary.logger);
  // CloudAdapter reads the parsed activity from req.body, so the body reader must come first. It counts the
  // bytes once decompressed and stops at each route's limit (app/http-body.ts).
  server.use(createBodyReader({ policyFor: routeBodyPolicy, timeouts: timeouts.body, logger: primary.logger }));

  if (schools.length === 1) {
    server.post('/api/messages', async (req, res) => {
      await primary.adapter.process(req, guardBotResponse(req, res), (context) => primary.bot.run(context));
    });
    for (const feature of primary.features) feature.routes?.(server);
  } else {
    registerTrustRoutes(server, deployment!.router);
  }

  server.get('/healthz', async (_req, res) => {
    const storage = await primary.tables.ping();
    res.json(storage ? 200 : 503, { status: storage ? 'ok' : 'degraded', storage: storage ? 'reachable' : 'unreachable' });
  });

  return server;
}

/**
 * A trust: one bot endpoint and one set of tab routes for every school. The activity's sender, or the tab
 * token's user, picks the school; that school's handlers then check roles against its own directory.
 */
function registerTrustRoutes(server: Server, router: SchoolRouter): void {
  const { primary } = router;
  server.post('/api/messages', async (req, res) => {
    await primary.adapter.process(req, guardBotResponse(req, res), async (context) => {
      const objectId = context.activity.from?.aadObjectId?.toLowerCase();
      const { school, memberships } = await router.forPerson(objectId);
      // Someone in two schools (a trust DSL) is reachable by both schools' alerts and campaigns.
      if (objectId && (context.activity.type === 'message' || context.activity.type === 'installationUpdate')) {
        for (const other of memberships) if (other !== school) await other.bot.rememberConversation(context, objectId);
      }
      await school.bot.run(context);
    });
  });

  // Each school registers its feature routes on a recorder; the real server gets one dispatching handler per route.
  const routes = new Map<string, { method: Method; path: string; handlers: Map<AppServices, RequestHandler> }>();
  for (const school of router.schools) {
    const recorder = Object.fromEntries(
      METHODS.map((method) => [
        method,
        (path: string, handler: RequestHandler) => {
          const key = `${method} ${path}`;
          const route = routes.get(key) ?? { method, path, handlers: new Map() };
          route.handlers.set(school, handler);
          routes.set(key, route);
        },
      ]),
    ) as unknown as Server;
    for (const feature of school.features) feature.routes?.(recorder);
  }
  for (const { method, path, handlers } of routes.values()) {
    server[method](path, async (req: Request, res: Response) => {
      const { school } = await router.forRequest(req);
      res.header('x-school-id', school.config.school.id);
      const handler = handlers.get(school) ?? handlers.get(router.primary);
      if (!handler) return void res.json(404, { error: 'Not found.' });
      await (handler as (req: Request, res: Response) => unknown)(req, res);
    });
  }

  server.get('/api/schools', async (req, res) => {
    const { school, memberships } = await router.forRequest(req);
    res.header('cache-control', 'no-store');
    res.json(200, { current: school.config.school.id, schools: memberships.map((s) => ({ id: s.config.school.id, name: s.config.school.name })) });
  });
}

/** Starts listening, runs each school's alert sweep, jobs and start-up checks, and stops them all cleanly. */
export async function startServer(
  input: AppServices | Deployment,
  options: { port: number; host?: string; alertSweepMs?: number; timeouts?: HttpTimeouts },
): Promise<RunningServer> {
  const schools = 'router' in input ? input.schools : [input];
  const server = createServer(input, options.timeouts);
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '0.0.0.0', () => resolve()));
  const timers: NodeJS.Timeout[] = [];
  const startupKeys = new Set<string>();
  for (const services of schools) {
    const sweep = setInterval(() => {
      deliverPendingAlerts(services.alerts).catch((error: Error) => services.logger.warn('alert.sweep-failed', { errorName: error.name }));
    }, options.alertSweepMs ?? 60_000);
    sweep.unref();
    timers.push(sweep);
    for (const job of services.features.flatMap((f) => f.jobs ?? [])) {
      const timer = setInterval(() => {
        job.run().catch((error: Error) => services.logger.warn('job.failed', { job: job.name, errorName: error.name }));
      }, job.everyMs);
      timer.unref();
      timers.push(timer);
    }
    for (const feature of services.features) {
      if (feature.startupKey !== undefined) {
        if (startupKeys.has(feature.startupKey)) continue;
        startupKeys.add(feature.startupKey);
      }
      feature.startup?.().catch((error: Error) => services.logger.warn('feature.startup-failed', { feature: feature.name, errorName: error.name }));
    }
  }
  const address = server.address();
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        timers.forEach((timer) => clearInterval(timer));
        server.close(() => resolve());
      }),
  };
}

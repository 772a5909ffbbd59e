import restify, { type Server } from 'restify';
import type { AppServices } from './compose';
import { deliverPendingAlerts } from '../usecases/deliver-alerts';

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Builds the restify server: the bot endpoint, health, and each feature's routes (the tab and its API among them). */
export function createServer(services: AppServices): Server {
  const server = restify.createServer({ name: 'e-safety-for-teams', handleUncaughtExceptions: false });
  // CloudAdapter reads the parsed activity from req.body, so the body parser must come first.
  server.use(restify.plugins.bodyParser({ maxBodySize: 1024 * 1024, mapParams: false }));

  server.post('/api/messages', async (req, res) => {
    await services.adapter.process(req, res, (context) => services.bot.run(context));
  });

  for (const feature of services.features) feature.routes?.(server);

  server.get('/healthz', async (_req, res) => {
    const storage = await services.tables.ping();
    res.json(storage ? 200 : 503, { status: storage ? 'ok' : 'degraded', storage: storage ? 'reachable' : 'unreachable' });
  });

  return server;
}

/** Starts listening, runs the alert sweep, and stops both cleanly. */
export async function startServer(services: AppServices, options: { port: number; host?: string; alertSweepMs?: number }): Promise<RunningServer> {
  const server = createServer(services);
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '0.0.0.0', () => resolve()));
  const sweep = setInterval(() => {
    deliverPendingAlerts(services.alerts).catch((error: Error) => services.logger.warn('alert.sweep-failed', { errorName: error.name }));
  }, options.alertSweepMs ?? 60_000);
  sweep.unref();
  const jobs = services.features.flatMap((f) => f.jobs ?? []).map((job) => {
    const timer = setInterval(() => {
      job.run().catch((error: Error) => services.logger.warn('job.failed', { job: job.name, errorName: error.name }));
    }, job.everyMs);
    timer.unref();
    return timer;
  });
  for (const feature of services.features) {
    feature.startup?.().catch((error: Error) => services.logger.warn('feature.startup-failed', { feature: feature.name, errorName: error.name }));
  }
  const address = server.address();
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        jobs.forEach((timer) => clearInterval(timer));
        server.close(() => resolve());
      }),
  };
}

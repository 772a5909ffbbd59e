import { existsSync } from 'node:fs';
import { ConfigurationError, loadConfig } from './config';
import { composeDeployment } from './compose';
import { createLogger } from '../infra/logger';
import { startServer } from './server';

/** Entry point for `npm run serve` and App Service. */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const deployment = composeDeployment(config, logger);
  const running = await startServer(deployment, { port: config.port });
  logger.info('server.listening', {
    url: running.url,
    schools: deployment.schools.map((s) => s.config.school.id).join(','),
    graphMode: config.graph.mode,
    // Deployed, config has already refused to start without bot authentication and tab SSO.
    deployed: config.deployed,
    deployedBecause: config.deployedBecause.join(','),
    botAuth: config.bot.appId !== '',
    localSignIn: !config.deployed && config.tab.localIdentitySecret !== undefined,
  });

  const shutdown = (signal: string) => {
    logger.info('server.stopping', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigurationError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`The server could not start: ${(error as Error).name}: ${(error as Error).message}\n`);
  }
  process.exit(1);
});

import type { AppConfig } from './config';
import type { Logger } from '../infra/logger';
import { createGraphCredential } from '../graph/graph-credentials';
import { createGraphGateway, type GraphGateway } from '../graph/graph-gateway';

/**
 * The Graph gateway for a live tenant, built from configuration. In plan mode there is no gateway:
 * callers work from the pupil register alone and change nothing.
 */
export function connectGraph(config: AppConfig, logger: Logger, options: { onDeviceCodeMessage?: (message: string) => void } = {}): GraphGateway | undefined {
  if (config.graph.mode !== 'live') return undefined;
  const { graph } = config;
  const authority = { tenantId: graph.tenantId, clientId: graph.clientId, authorityHost: graph.authorityHost, graphBaseUrl: graph.baseUrl };
  const authProvider =
    graph.auth === 'token'
      ? createGraphCredential({ kind: 'token', accessToken: graph.accessToken! })
      : graph.auth === 'device-code'
        ? createGraphCredential({ kind: 'device-code', ...authority, onDeviceCodeMessage: options.onDeviceCodeMessage ?? ((message) => process.stderr.write(`${message}\n`)) })
        : createGraphCredential({ kind: 'client-credentials', ...authority, clientSecret: graph.clientSecret, certificatePath: graph.certificatePath });
  return createGraphGateway({
    authProvider,
    baseUrl: graph.baseUrl,
    concurrency: graph.concurrency,
    logger: { debug: (event, fields) => logger.debug(event, fields) },
  });
}

import { TableClient, TableServiceClient, type TableEntityResult } from '@azure/data-tables';
import type { TokenCredential } from '@azure/core-auth';
import type { StoragePipelinePolicy } from './storage-round-trips';

/** How to reach Azure Tables: a connection string (Azurite, shared key) or an endpoint with a token credential. */
export interface TablesOptions {
  connectionString?: string;
  endpoint?: string;
  credential?: TokenCredential;
  /** Extra policies for every TableClient's pipeline, run once per HTTP attempt (e.g. a round-trip counter). */
  policies?: StoragePipelinePolicy[];
}

/** Table names used by the app. Each record type documents its keys in its own store. */
export const TABLE_NAMES = {
  incidents: 'incidents',
  audit: 'audit',
  counters: 'counters',
  conversations: 'conversations',
  roleCache: 'rolecache',
  /** Person → the schools and roles they hold (records/role-cache-store.ts). */
  roleMemberships: 'rolememberships',
  pupilRegister: 'pupilregister',
  provisioningRuns: 'provisioningruns',
  compliance: 'compliance',
  aupAcknowledgements: 'aupacknowledgements',
  aupCampaigns: 'aupcampaigns',
  aupAccessHolds: 'aupaccessholds',
  incidentAggregates: 'incidentaggregates',
  schoolAudits: 'schoolaudits',
  retentionReviews: 'retentionreviews',
} as const;

const retryOptions = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };

/**
 * Hands out one `TableClient` per table and creates each table on first use. It holds no records,
 * so any number of server instances can share one storage account.
 */
export class Tables {
  private readonly clients = new Map<string, Promise<TableClient>>();

  constructor(private readonly options: TablesOptions) {
    if (!options.connectionString && !(options.endpoint && options.credential)) {
      throw new Error('Tables needs a connection string, or an endpoint and a credential.');
    }
  }

  /** The client for `name`, after making sure the table exists. */
  getTable(name: string): Promise<TableClient> {
    let client = this.clients.get(name);
    if (!client) {
      client = this.createClient(name);
      this.clients.set(name, client);
      client.catch(() => this.clients.delete(name));
    }
    return client;
  }

  /** Whether storage answers at all; used by /healthz. */
  async ping(): Promise<boolean> {
    try {
      const service = this.options.connectionString
        ? TableServiceClient.fromConnectionString(this.options.connectionString, { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } })
        : new TableServiceClient(this.options.endpoint!, this.options.credential!, { retryOptions: { maxRetries: 0 } });
      await service.listTables().byPage({ maxPageSize: 1 }).next();
      return true;
    } catch {
      return false;
    }
  }

  private async createClient(name: string): Promise<TableClient> {
    const additionalPolicies = (this.options.policies ?? []).map((policy) => ({ policy, position: 'perRetry' as const }));
    const client = this.options.connectionString
      ? TableClient.fromConnectionString(this.options.connectionString, name, { allowInsecureConnection: true, retryOptions, additionalPolicies })
      : new TableClient(this.options.endpoint!, name, this.options.credential!, { retryOptions, additionalPolicies });
    // createTable ignores "already exists", as the SDK documents.
    await client.createTable();
    return client;
  }
}

/** Status code of a failed storage call, or undefined when it is not a storage error. */
export function storageStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Storage could not be reached or refused the write: callers tell the user nothing was saved. */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(operation: string, override readonly cause: unknown) {
    super(`Azure Tables could not complete "${operation}".`);
  }
}

/** A write lost a race (etag mismatch or key already taken); callers re-read and decide. */
export function isConflict(error: unknown): boolean {
  const status = storageStatus(error);
  return status === 409 || status === 412;
}

export function isNotFound(error: unknown): boolean {
  return storageStatus(error) === 404 && !isTableMissing(error);
}

/** The table itself is gone (an emulator restarted, or a table deleted): an outage, not a missing record. */
function isTableMissing(error: unknown): boolean {
  const details = (error as { details?: { odataError?: { code?: string } }; code?: string })?.details;
  return (error as { code?: string })?.code === 'TableNotFound' || details?.odataError?.code === 'TableNotFound';
}

/** Wraps a storage call so that anything that is not a decided outcome becomes `StorageUnavailableError`. */
export async function guardStorage<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isConflict(error) || isNotFound(error)) throw error;
    throw new StorageUnavailableError(operation, error);
  }
}

/** Reads one entity, or undefined when it does not exist (the Azure SDK's "missing is not an error"). */
export async function getEntityOrUndefined<T extends object>(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<TableEntityResult<T> | undefined> {
  try {
    return await table.getEntity<T>(partitionKey, rowKey);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

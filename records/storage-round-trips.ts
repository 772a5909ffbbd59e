import type { TableServiceClientOptions } from '@azure/data-tables';

/** A policy in the Tables SDK's HTTP pipeline (core-rest-pipeline's `PipelinePolicy`). */
export type StoragePipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

/** Storage round trips seen so far: every HTTP request the TableClients sent, retries included. */
export interface RoundTripCounts {
  total: number;
  byMethod: Record<string, number>;
  /** Entity-group transactions (`POST …/$batch`): one round trip however many operations they carry. */
  batches: number;
}

/**
 * Counts storage round trips in the TableClient's own pipeline, after its retry policy (`perRetry`), so every
 * request that reaches the wire is counted once, whether the store is Azurite or real Azure Tables.
 * Benchmarks and tests read it; the server never needs it.
 */
export class StorageRoundTripCounter {
  private counts: RoundTripCounts = { total: 0, byMethod: {}, batches: 0 };

  readonly policy: StoragePipelinePolicy = {
    name: 'storageRoundTripCounter',
    sendRequest: (request, next) => {
      this.counts.total += 1;
      this.counts.byMethod[request.method] = (this.counts.byMethod[request.method] ?? 0) + 1;
      if (request.url.includes('$batch')) this.counts.batches += 1;
      return next(request);
    },
  };

  snapshot(): RoundTripCounts {
    return { total: this.counts.total, byMethod: { ...this.counts.byMethod }, batches: this.counts.batches };
  }

  /** Round trips since `earlier` (a snapshot). */
  since(earlier: RoundTripCounts): RoundTripCounts {
    const now = this.snapshot();
    const byMethod: Record<string, number> = {};
    for (const [method, count] of Object.entries(now.byMethod)) byMethod[method] = count - (earlier.byMethod[method] ?? 0);
    return { total: now.total - earlier.total, byMethod, batches: now.batches - earlier.batches };
  }
}

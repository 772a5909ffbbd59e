import {
  AuthenticationHandler,
  Client,
  GraphClientError,
  HTTPMessageHandler,
  ResponseType,
  TelemetryHandler,
  type AuthenticationProvider,
} from '@microsoft/microsoft-graph-client';
import { GraphConnectionError, GraphServiceError, GraphUsageError, toGraphServiceError } from './graph-errors';
import type { GraphResult } from './graph-types';
import { GraphPacer } from './graph-pacing';

/** The Graph version every request targets. */
export const GRAPH_VERSION = 'v1.0';
/** The global-cloud Graph endpoint (GRAPH_BASE_URL's default). */
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';
/** JSON batching takes at most 20 requests: https://learn.microsoft.com/graph/json-batching */
export const MAX_BATCH_SIZE = 20;

/** HTTP methods a batch may carry. */
export type GraphMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** One request to send inside a JSON batch. */
export interface BatchRequest {
  method: GraphMethod;
  /** Relative to the version root, without `/v1.0`: `/users/{id}`, `/users?$filter=…`. */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The request touches a user created moments ago: retry its 404s while the directory replicates. */
  retryNotFound?: boolean;
}

/** One inner response of a JSON batch. */
export interface BatchResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Counters the benchmark prints. */
export interface GraphBatchStats {
  /** HTTP requests sent ($batch posts). */
  roundTrips: number;
  /** Requests sent inside batches, retries included. */
  innerRequests: number;
  /** Requests sent again after a 429, 5xx or replication 404. */
  retries: number;
  /** Requests answered 429. */
  throttled: number;
}

/** Narrow logger so the app's Logger fits; fields are ids and numbers only. */
export interface GraphLogger {
  debug(event: string, fields?: Record<string, string | number | boolean | undefined>): void;
}

/** What the graph client needs: a credential and, for national clouds, a base URL. */
export interface GraphClientOptions {
  authProvider: AuthenticationProvider;
  /** GRAPH_BASE_URL: https://graph.microsoft.com, or a national cloud's Graph endpoint. */
  baseUrl?: string;
}

/** Transport settings; `sleep` and `now` go together (tests pass a fake clock). */
export interface GraphBatchClientOptions {
  client: Pick<Client, 'api'>;
  /** The client's base URL; turns `@odata.nextLink` back into a relative URL. */
  baseUrl?: string;
  /** How many $batch requests may be in flight at once (GRAPH_CONCURRENCY). Default 4. */
  concurrency?: number;
  /** Requests per batch, at most 20. Default 20. */
  batchSize?: number;
  /**
   * Sends of one request after a 429 or 5xx, the first included. When absent, a throttled or unavailable request is
   * retried until `retryForSeconds` after its first send (the run's deadline), so a long throttle delays a run
   * instead of failing its pupils. Sends to an unreachable Graph stop after 5 attempts either way.
   */
  maxAttempts?: number;
  /** How long a throttled or unavailable request keeps being retried, from its first send. Default 30 minutes. */
  retryForSeconds?: number;
  /** The client-side budgets (graph/graph-pacing.ts); `false` turns pacing off. Default: Graph's documented limits. */
  pacer?: GraphPacer | false;
  /** Longest wait honoured from a Retry-After header. Default 60 s. */
  maxRetryAfterSeconds?: number;
  /** How long 404s of a just-created user are retried. Default 10 s. */
  replicationWaitSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  logger?: GraphLogger;
}

/** Creates the graph client: auth and telemetry middleware, but not the SDK's RetryHandler, because GraphBatchClient is the one place that retries. */
export function createGraphClient(options: GraphClientOptions): Client {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  const auth = new AuthenticationHandler(options.authProvider);
  const telemetry = new TelemetryHandler();
  const http = new HTTPMessageHandler();
  auth.setNext(telemetry);
  telemetry.setNext(http);
  return Client.initWithMiddleware({
    middleware: auth,
    baseUrl,
    defaultVersion: GRAPH_VERSION,
    // The auth middleware only sends the token to hosts it knows; a national-cloud base URL must be listed.
    customHosts: new Set([new URL(baseUrl).hostname]),
  });
}

/** Trims a trailing slash and checks the URL; defaults to the global Graph endpoint. */
export function normaliseBaseUrl(baseUrl: string | undefined): string {
  const value = (baseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+$/.test(value)) throw new GraphUsageError(`The Graph base URL must be a scheme and host only, like https://graph.microsoft.com (got "${value}").`);
  return value;
}

interface Slot {
  index: number;
  request: BatchRequest;
  attempts: number;
  firstSentAt: number | undefined;
  notBefore: number;
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** The most a retry waits past its own due time so that retries due close together share batches. */
const MAX_RETRY_COALESCE_MS = 1000;
const METHODS = new Set<GraphMethod>(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);

/**
 * Sends requests through JSON batching with bounded parallelism, and is the only place that retries:
 * 429/502/503/504 per item or per batch, honouring Retry-After (https://learn.microsoft.com/graph/throttling),
 * and 404s of requests flagged `retryNotFound` while a new user replicates.
 */
export class GraphBatchClient {
  readonly stats: GraphBatchStats = { roundTrips: 0, innerRequests: 0, retries: 0, throttled: 0 };
  /** The Graph endpoint, scheme and host, no trailing slash. */
  readonly baseUrl: string;
  private readonly client: Pick<Client, 'api'>;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly attemptsBounded: boolean;
  private readonly retryForMs: number;
  private readonly pacer: GraphPacer | undefined;
  private readonly maxRetryAfterMs: number;
  private readonly replicationWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly logger: GraphLogger | undefined;

  constructor(options: GraphBatchClientOptions) {
    this.client = options.client;
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    this.concurrency = positive('concurrency', options.concurrency ?? 4);
    this.batchSize = positive('batchSize', options.batchSize ?? MAX_BATCH_SIZE);
    if (this.batchSize > MAX_BATCH_SIZE) throw new GraphUsageError(`A JSON batch holds at most ${MAX_BATCH_SIZE} requests (batchSize was ${this.batchSize}).`);
    this.maxAttempts = positive('maxAttempts', options.maxAttempts ?? 5);
    this.attemptsBounded = options.maxAttempts !== undefined;
    this.retryForMs = (options.retryForSeconds ?? 30 * 60) * 1000;
    this.maxRetryAfterMs = (options.maxRetryAfterSeconds ?? 60) * 1000;
    this.replicationWaitMs = (options.replicationWaitSeconds ?? 10) * 1000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.pacer = options.pacer === false ? undefined : (options.pacer ?? new GraphPacer({ now: this.now, sleep: this.sleep }));
  }

  /**
   * Sends every request; results[i] answers requests[i]. Throws only for our own mistakes, sign-in failures or an
   * unreachable Graph (or when `map` throws).
   *
   * With `map`, each successful answer is turned into what the caller keeps as soon as its batch returns, so the raw
   * bodies and headers of a 1,000-request operation are not all held until the last batch is answered: a large
   * provisioning run then keeps a few small values per pupil instead of every user object Graph sent back.
   */
  async send(requests: readonly BatchRequest[]): Promise<GraphResult<BatchResponse>[]>;
  async send<T>(requests: readonly BatchRequest[], map: (response: BatchResponse, index: number) => T): Promise<GraphResult<T>[]>;
  async send<T>(requests: readonly BatchRequest[], map?: (response: BatchResponse, index: number) => T): Promise<GraphResult<T | BatchResponse>[]> {
    requests.forEach(validateRequest);
    const results: GraphResult<T | BatchResponse>[] = new Array(requests.length);
    const keep = map ?? ((response: BatchResponse) => response);
    let queue: Slot[] = requests.map((request, index) => ({ index, request, attempts: 0, firstSentAt: undefined, notBefore: 0 }));
    // How long the last wave of batches took: the retries it asked for come due spread over that much time.
    let lastWaveMs = 0;
    let sendAt: number | undefined;
    while (queue.length > 0) {
      const now = this.now();
      sendAt ??= nextSendTime(queue, lastWaveMs);
      if (sendAt > now) {
        await this.sleep(Math.max(1, sendAt - now));
        continue;
      }
      sendAt = undefined;
      const ready = queue.filter((slot) => slot.notBefore <= now);
      const waiting = queue.filter((slot) => slot.notBefore > now);
      const again: Slot[] = [];
      await runWithConcurrency(chunk(ready, this.batchSize), this.concurrency, async (batch) => {
        again.push(...(await this.sendBatch(batch, results, keep)));
      });
      lastWaveMs = Math.min(Math.max(0, this.now() - now), MAX_RETRY_COALESCE_MS);
      queue = [...waiting, ...again];
    }
    return results;
  }

  /** Sends GET requests and follows `@odata.nextLink`, pages batched together; results[i] holds every `value` item for requests[i]. */
  async sendPaged(requests: readonly BatchRequest[]): Promise<GraphResult<unknown[]>[]> {
    const results: GraphResult<unknown[]>[] = new Array(requests.length);
    const items: unknown[][] = requests.map(() => []);
    let current = requests.map((request, index) => ({ index, request }));
    while (current.length > 0) {
      const outcomes = await this.send(current.map((c) => c.request));
      const next: typeof current = [];
      current.forEach((c, i) => {
        const outcome = outcomes[i] as GraphResult<BatchResponse>;
        if (!outcome.ok) {
          results[c.index] = outcome;
          return;
        }
        const body = outcome.value.body as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
        if (Array.isArray(body?.value)) (items[c.index] as unknown[]).push(...body.value);
        const nextLink = body?.['@odata.nextLink'];
        if (typeof nextLink === 'string') next.push({ index: c.index, request: { ...c.request, url: this.toRelativeUrl(nextLink) } });
        else results[c.index] = { ok: true, value: items[c.index] as unknown[] };
      });
      current = next;
    }
    return results;
  }

  /** `https://graph.microsoft.com/v1.0/users?$skiptoken=…` → `/users?$skiptoken=…`. */
  toRelativeUrl(absoluteUrl: string): string {
    const url = new URL(absoluteUrl, this.baseUrl);
    return url.pathname.replace(new RegExp(`^/${GRAPH_VERSION.replace('.', '\\.')}(?=/)`), '') + url.search;
  }

  private async sendBatch<T>(batch: Slot[], results: GraphResult<T>[], keep: (response: BatchResponse, index: number) => T): Promise<Slot[]> {
    const receipt = await this.pacer?.acquire(batch.map((slot) => slot.request));
    const sentAt = this.now();
    for (const slot of batch) {
      slot.attempts += 1;
      slot.firstSentAt ??= sentAt;
    }
    this.stats.roundTrips += 1;
    this.stats.innerRequests += batch.length;
    let response: Response;
    try {
      response = await this.client.api('/$batch').responseType(ResponseType.RAW).post({ requests: batch.map(toInnerRequest) });
    } catch (error) {
      if (error instanceof GraphClientError) throw error;
      return this.retryUnreachable(batch, error);
    } finally {
      if (receipt) this.pacer?.answered(receipt, this.now());
    }
    const headers = headersOf(response.headers);
    const body = await readJson(response);
    const outerRequestId = headers['request-id'];
    const now = this.now();
    if (response.ok) {
      const inner = new Map<string, Record<string, unknown>>();
      const answers = (body as { responses?: unknown } | undefined)?.responses;
      for (const answer of Array.isArray(answers) ? answers : []) {
        if (answer && typeof answer === 'object') inner.set(String((answer as { id?: unknown }).id), answer as Record<string, unknown>);
      }
      const again: Slot[] = [];
      for (const slot of batch) {
        const answer = inner.get(String(slot.index));
        const status = typeof answer?.status === 'number' ? answer.status : 503;
        const innerHeaders = lowerCaseKeys(answer?.headers);
        const error = status >= 200 && status < 300 ? undefined : toGraphServiceError(status, answer ? answer.body : { error: { code: 'MissingBatchResponse', message: 'The batch response had no answer for this request.' } }, innerHeaders, { request: summarise(slot.request), fallbackRequestId: outerRequestId, now });
        if (!error) results[slot.index] = { ok: true, value: keep({ status, headers: innerHeaders, body: answer?.body }, slot.index) };
        else if (this.shouldRetry(slot, error, now)) again.push(slot);
        else results[slot.index] = { ok: false, error };
      }
      return again;
    }
    const error = toGraphServiceError(response.status, body, headers, { request: { method: 'POST', path: '/$batch' }, now });
    const again: Slot[] = [];
    for (const slot of batch) {
      if (RETRYABLE_STATUS.has(error.status) && this.shouldRetry(slot, error, now)) again.push(slot);
      else results[slot.index] = { ok: false, error };
    }
    return again;
  }

  private shouldRetry(slot: Slot, error: GraphServiceError, now: number): boolean {
    let delayMs: number | undefined;
    const mayRetry = this.attemptsBounded ? slot.attempts < this.maxAttempts : now - (slot.firstSentAt ?? now) < this.retryForMs;
    if (RETRYABLE_STATUS.has(error.status) && mayRetry) {
      delayMs = Math.min(error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 1000 * 2 ** (slot.attempts - 1), this.maxRetryAfterMs);
      if (error.status === 429) this.stats.throttled += 1;
    } else if (error.status === 404 && slot.request.retryNotFound && now - (slot.firstSentAt ?? now) < this.replicationWaitMs) {
      delayMs = Math.min(1000 * 2 ** (slot.attempts - 1), 4000);
    }
    if (delayMs === undefined) return false;
    slot.notBefore = now + delayMs;
    this.stats.retries += 1;
    this.logger?.debug('graph.retry', { status: error.status, code: error.code, attempt: slot.attempts, delayMs });
    return true;
  }

  private retryUnreachable(batch: Slot[], error: unknown): Slot[] {
    const exhausted = batch.some((slot) => slot.attempts >= this.maxAttempts);
    if (exhausted) {
      const cause = error as Error;
      throw new GraphConnectionError(`Microsoft Graph at ${this.baseUrl} could not be reached after ${this.maxAttempts} attempts: ${cause?.message ?? String(error)}. Check the network and GRAPH_BASE_URL.`, cause?.name);
    }
    const now = this.now();
    for (const slot of batch) {
      slot.notBefore = now + Math.min(1000 * 2 ** (slot.attempts - 1), this.maxRetryAfterMs);
      this.stats.retries += 1;
    }
    return batch;
  }
}

function validateRequest(request: BatchRequest): void {
  if (!METHODS.has(request.method)) throw new GraphUsageError(`Unsupported Graph method "${request.method}".`);
  if (!request.url.startsWith('/') || /^\/(v1\.0|beta)(\/|$)/i.test(request.url)) {
    throw new GraphUsageError(`Batch URLs are relative to the version root, like /users/{id}; got "${request.url}".`);
  }
  if (request.body !== undefined && (request.method === 'GET' || request.method === 'DELETE')) {
    throw new GraphUsageError(`A ${request.method} request cannot carry a body (${request.url}).`);
  }
}

function toInnerRequest(slot: Slot): Record<string, unknown> {
  const { method, url, body } = slot.request;
  const headers = { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...slot.request.headers };
  return {
    id: String(slot.index),
    method,
    url,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(body !== undefined ? { body } : {}),
  };
}

function summarise(request: BatchRequest): { method: string; path: string } {
  return { method: request.method, path: request.url.split('?')[0] as string };
}

function headersOf(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    out[key.toLowerCase()] = value;
  });
  return out;
}

function lowerCaseKeys(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) out[key.toLowerCase()] = String(v);
  }
  return out;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: `Http${response.status}`, message: text.slice(0, 200) } };
  }
}

/**
 * When to send next: once the earliest slot is due, and late enough that every slot coming due within
 * `windowMs` of it is due too, so retries asked for by one wave (one Retry-After each, answered over the
 * wave's length) go out together in full batches rather than a few at a time. Never before a slot's own
 * `notBefore`: the time returned is the `notBefore` of a slot in the queue, and only due slots are sent.
 */
function nextSendTime(queue: readonly Slot[], windowMs: number): number {
  let earliest = Infinity;
  for (const slot of queue) earliest = Math.min(earliest, slot.notBefore);
  let sendAt = earliest;
  for (const slot of queue) if (slot.notBefore <= earliest + windowMs) sendAt = Math.max(sendAt, slot.notBefore);
  return sendAt;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function runWithConcurrency<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new GraphUsageError(`${name} must be a whole number of at least 1 (got ${value}).`);
  return value;
}

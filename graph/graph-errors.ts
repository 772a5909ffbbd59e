import { GraphClientError } from '@microsoft/microsoft-graph-client';

/** How a Graph refusal is handled, worked out from its status and codes only. */
export type GraphErrorKind =
  | 'throttled'
  | 'unavailable'
  | 'notFound'
  | 'conflict'
  | 'badRequest'
  | 'unauthorized'
  | 'forbidden'
  | 'failed';

/** One entry of `error.details` in a Graph error body. */
export interface GraphErrorDetail {
  code: string;
  target?: string;
  message?: string;
}

/** The request a refusal answered: method and path only (no query string, no body). */
export interface GraphRequestSummary {
  method: string;
  path: string;
}

/** Fields of a GraphServiceError. */
export interface GraphServiceErrorInit {
  status: number;
  code: string;
  message: string;
  requestId?: string;
  clientRequestId?: string;
  details?: GraphErrorDetail[];
  retryAfterSeconds?: number;
  request?: GraphRequestSummary;
}

/** Graph answered with an error: keeps status, code and request id for support and for classification. */
export class GraphServiceError extends Error {
  override readonly name = 'GraphServiceError';
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly clientRequestId: string | undefined;
  readonly details: readonly GraphErrorDetail[];
  readonly retryAfterSeconds: number | undefined;
  readonly request: GraphRequestSummary | undefined;
  /** The Graph error message, as Graph wrote it; for people, never for control flow. */
  readonly serviceMessage: string;

  constructor(init: GraphServiceErrorInit) {
    const where = init.request ? ` to ${init.request.method} ${init.request.path}` : '';
    const id = init.requestId ? ` (request-id ${init.requestId})` : '';
    super(`Microsoft Graph answered ${init.status} ${init.code}${where}: ${init.message}${id}`);
    this.status = init.status;
    this.code = init.code;
    this.serviceMessage = init.message;
    this.requestId = init.requestId;
    this.clientRequestId = init.clientRequestId;
    this.details = init.details ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.request = init.request;
  }

  /** The category callers branch on. */
  get kind(): GraphErrorKind {
    return classifyGraphError(this.status, this.details);
  }

  /** True when a detail carries `code`, e.g. `ObjectConflict` on a duplicate userPrincipalName. */
  hasDetailCode(code: string): boolean {
    return this.details.some((d) => d.code.toLowerCase() === code.toLowerCase());
  }
}

/** Classifies by status and detail codes; never by message text. */
export function classifyGraphError(status: number, details: readonly GraphErrorDetail[] = []): GraphErrorKind {
  if (status === 429) return 'throttled';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  if (status === 404) return 'notFound';
  // A duplicate userPrincipalName is 400 Request_BadRequest with a detail coded ObjectConflict.
  if (status === 409 || details.some((d) => d.code === 'ObjectConflict')) return 'conflict';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 400) return 'badRequest';
  return 'failed';
}

/** Reads a `Retry-After` header (delta-seconds or an HTTP date) as seconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/** Builds a GraphServiceError from a Graph error body and headers (inner batch response or a whole response). */
export function toGraphServiceError(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>>,
  options: { request?: GraphRequestSummary; fallbackRequestId?: string; now?: number } = {},
): GraphServiceError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const inner = error && isRecord(error.innerError) ? error.innerError : undefined;
  const header = (name: string): string | undefined => {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : headers[key];
  };
  const details = error && Array.isArray(error.details)
    ? error.details.filter(isRecord).map((d) => ({
        code: String(d.code ?? ''),
        ...(typeof d.target === 'string' ? { target: d.target } : {}),
        ...(typeof d.message === 'string' ? { message: d.message } : {}),
      }))
    : [];
  return new GraphServiceError({
    status,
    code: typeof error?.code === 'string' && error.code ? error.code : `Http${status}`,
    message: typeof error?.message === 'string' && error.message ? error.message : 'no error message was returned',
    requestId: stringOr(inner?.['request-id']) ?? header('request-id') ?? options.fallbackRequestId,
    clientRequestId: stringOr(inner?.['client-request-id']) ?? header('client-request-id'),
    details,
    retryAfterSeconds: parseRetryAfter(header('retry-after'), options.now ?? Date.now()),
    request: options.request,
  });
}

/** A mistake in our own code: a bad argument or a request Graph could never accept. Not retried, not per item. */
export class GraphUsageError extends GraphClientError {
  override readonly name = 'GraphUsageError';

  constructor(message: string) {
    super(message);
    // GraphClientError resets the prototype to its own; restore ours so instanceof works.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** No token could be obtained for Graph; the message says which setting to check. */
export class GraphCredentialError extends GraphClientError {
  override readonly name = 'GraphCredentialError';
  /** The identity library's error code, e.g. msal-node's `invalid_client`. */
  readonly errorCode: string | undefined;

  constructor(message: string, errorCode?: string) {
    super(message);
    Object.setPrototypeOf(this, new.target.prototype);
    this.errorCode = errorCode;
  }
}

/** Graph could not be reached at all (DNS, TLS, connection reset) even after retrying. */
export class GraphConnectionError extends Error {
  override readonly name = 'GraphConnectionError';
  constructor(
    message: string,
    readonly causeName: string | undefined,
  ) {
    super(message);
  }
}

/** The tenant lacks the SKU or service plans the school configured; lists what the tenant has. */
export class LicenceNotFoundError extends Error {
  override readonly name = 'LicenceNotFoundError';
  constructor(
    message: string,
    readonly skuPartNumber: string,
    readonly missingPlanNames: readonly string[],
    readonly available: readonly string[],
  ) {
    super(message);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

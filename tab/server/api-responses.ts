import type { Request } from 'restify';
import type { Principal } from '../../school/roles';

/** What an API handler answers; the route wrapper in tab-routes.ts writes it. */
export interface ApiResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A file to send as a download instead of JSON (evidence attachments). */
  file?: { data: Buffer; contentType: string; fileName: string };
}

/** Registers a JSON API route behind the tab's sign-in (see `registerTabRoutes`). */
export type JsonRoute = (method: 'get' | 'post' | 'put', path: string, handler: (req: Request, principal: Principal) => Promise<ApiResult>) => void;

/** The outcomes the use cases return, in the shape they share. */
export type UseCaseOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'not-found' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'precondition-required' }
  | { kind: 'conflict'; message: string; etag?: string | undefined; reason?: string };

/** Per-route wording for the refusals; the rest is the same for every route. */
export interface OutcomeWording {
  forbidden?: string;
  notFound?: string;
  invalid?: string;
}

const DEFAULT_FORBIDDEN = 'Your role does not allow this. Ask the headteacher if you think it should.';

/** Maps a use case's outcome to an HTTP answer; an `etag` in the value is also sent as the ETag header. */
export function outcomeResponse<T>(outcome: UseCaseOutcome<T>, shape: (value: T) => unknown = (value) => value, wording: OutcomeWording = {}): ApiResult {
  switch (outcome.kind) {
    case 'ok': {
      const etag = (outcome.value as { etag?: unknown }).etag;
      return { status: 200, body: shape(outcome.value), ...(typeof etag === 'string' ? { headers: { etag } } : {}) };
    }
    case 'forbidden':
      return forbidden(wording.forbidden);
    case 'not-found':
      return { status: 404, body: { error: wording.notFound ?? 'There is no incident with that reference.' } };
    case 'invalid':
      return { status: 400, body: { error: wording.invalid ?? 'Some fields need attention.', problems: outcome.problems } };
    case 'precondition-required':
      return { status: 428, body: { error: 'Send the etag you read (If-Match header or "etag" field) so that no one else\'s change is overwritten.' } };
    case 'conflict':
      return { status: 409, body: { error: outcome.message, ...(outcome.reason ? { reason: outcome.reason } : {}), currentEtag: outcome.etag ?? null } };
  }
}

export function forbidden(message = DEFAULT_FORBIDDEN): ApiResult {
  return { status: 403, body: { error: message } };
}

/** The JSON body as an object; anything else reads as empty, so handlers report missing fields instead of crashing. */
export function bodyOf(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The `:reference` path parameter. */
export function referenceOf(req: Request): string {
  return String(req.params.reference ?? '');
}

/** An If-Match header or `etag` field that is not an etag this API sent: answered 400, never passed to storage. */
export class InvalidEtagError extends Error {
  override readonly name = 'InvalidEtagError';
  constructor(readonly source: 'If-Match' | 'etag') {
    super(`${source} must be the etag this API sent with the record (the ETag header or the "etag" field), such as W/"datetime'2026-11-20T09%3A00%3A00.0000000Z'".`);
  }
}

/**
 * The etag the client read: the If-Match header, or an `etag` field in the body, as Azure Tables wrote it.
 *
 * Azure Tables etags are weak entity tags, `W/"datetime'2026-11-20T09%3A00%3A00.1234567Z'"`, with the colons
 * percent-encoded (https://learn.microsoft.com/rest/api/storageservices/update-entity2: If-Match takes the
 * entity's ETag as returned). Some clients and proxies hand them back decoded (`09:00:00`) or without the
 * weak prefix; those are put back as the service wrote them. Anything else (`null` from a missing header,
 * `*`, which would overwrite anyone's change, or text that is not a quoted tag) is refused with a 400, where
 * before it reached the table service, was refused there as a bad request and came back as a 503.
 */
export function etagOf(req: Request): string | undefined {
  const header = req.header('if-match');
  if (header !== undefined && header.trim() !== '') return normaliseEtag(header, 'If-Match');
  const field = bodyOf(req).etag;
  return typeof field === 'string' && field ? normaliseEtag(field, 'etag') : undefined;
}

const TABLE_ETAG = /^(?:W\/)?"datetime'([^'"]+)'"$/;
const QUOTED_ETAG = /^(?:W\/)?"[\x21\x23-\x7e]*"$/;

/** Puts an etag back as the storage service wrote it; throws InvalidEtagError when it is not one. */
export function normaliseEtag(value: string, source: 'If-Match' | 'etag' = 'If-Match'): string {
  const trimmed = value.trim();
  const table = TABLE_ETAG.exec(trimmed);
  if (table) {
    let instant: string;
    try {
      instant = decodeURIComponent(table[1]!);
    } catch {
      throw new InvalidEtagError(source);
    }
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z$/.test(instant)) throw new InvalidEtagError(source);
    return `W/"datetime'${instant.replace(/:/g, '%3A')}'"`;
  }
  if (QUOTED_ETAG.test(trimmed)) return trimmed;
  throw new InvalidEtagError(source);
}

export function queryOf(req: Request): URLSearchParams {
  return new URL(req.url ?? '/', 'http://localhost').searchParams;
}

/** What the server's body reader (app/http-body.ts) accepts on a route, read before any handler runs. */
export interface RouteBodyPolicy {
  /** The most the body may be once decompressed, in bytes; the reader stops as soon as it is passed. */
  maxBytes: number;
  /** `json` → `req.body` is the parsed value; `multipart` → an object of the named text fields; `binary` → a Buffer. */
  accept: readonly ('json' | 'multipart' | 'binary')[];
  /** The only form fields a multipart body may have (each at most once). */
  multipartFields?: readonly string[];
  /** With `binary`: the content types taken (for example `image/png`, `application/pdf`). */
  binaryTypes?: readonly string[];
}

/** Every JSON route: 1 MB once decompressed (issue 11; the Bot Framework's activities are far smaller). */
export const DEFAULT_BODY_POLICY: RouteBodyPolicy = { maxBytes: 1024 * 1024, accept: ['json'] };

const routeBodyPolicies = new Map<string, RouteBodyPolicy>();

/**
 * Gives one route path (as registered, e.g. `/api/admin/provisioning/plan`) a body policy other than the
 * 1 MB JSON default. Called where the route is registered; the policy is fixed configuration, the same in
 * every instance. A route not declared here takes JSON only.
 */
export function declareRouteBody(path: string, policy: RouteBodyPolicy): void {
  routeBodyPolicies.set(path, policy);
}

/** The body policy of a registered route path. */
export function routeBodyPolicy(path: string | undefined): RouteBodyPolicy {
  return (path !== undefined ? routeBodyPolicies.get(path) : undefined) ?? DEFAULT_BODY_POLICY;
}

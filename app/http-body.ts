import type { IncomingMessage } from 'node:http';
import type { Next, Request, RequestHandler, Response } from 'restify';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { RouteBodyPolicy } from '../tab/server/api-responses';
import { sendSafeError } from './http-errors';
import type { Logger } from '../infra/logger';

/** A request the server will not read further: the status and a sentence that is safe to show anyone. */
export class HttpRefusalError extends Error {
  override readonly name = 'HttpRefusalError';
  constructor(
    readonly status: number,
    /** A short code for the log (never the body's content). */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface BodyTimeouts {
  /** The longest gap between two pieces of the body. */
  idleMs: number;
  /** The longest the whole body may take to arrive. */
  totalMs: number;
}

/** The deepest JSON nesting accepted: Bot Framework activities and the tab's requests stay under 20. */
export const MAX_JSON_DEPTH = 64;

const tooLarge = (maxBytes: number): HttpRefusalError =>
  new HttpRefusalError(413, 'too-large', `The request is larger than this address accepts (${Math.floor(maxBytes / 1024)} KB once decompressed).`);

/** Starts the decoder a `Content-Encoding` names, or refuses it (415): one coding only, of the three browsers send. */
function decoderFor(header: string | undefined): Transform | undefined {
  const coding = (header ?? '').trim().toLowerCase();
  switch (coding) {
    case '':
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new HttpRefusalError(415, 'unsupported-encoding', 'The request is compressed in a way this server does not read; send it uncompressed or with gzip, deflate or br.');
  }
}

/**
 * Reads a request body, decompressing it as it arrives, and refuses it (413) as soon as either the bytes
 * received or the bytes once decompressed pass `maxBytes`, so a small gzip or deflate bomb is stopped after
 * `maxBytes` of output instead of inflating in memory. Nothing beyond the limit is buffered; the rest of the
 * body is left unread for the caller to discard. A body that stalls or drips is refused with 408.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number, timeouts: BodyTimeouts): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  let decoder: Transform | undefined;
  try {
    decoder = decoderFor(req.headers['content-encoding']);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  const output = decoder ?? req;

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let decoded = 0;
    let settled = false;
    let idleTimer: NodeJS.Timeout | undefined;
    const totalTimer = setTimeout(() => finish(new HttpRefusalError(408, 'too-slow', 'The request took too long to arrive; try again.')), timeouts.totalMs);
    const restartIdle = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => finish(new HttpRefusalError(408, 'stalled', 'The request stopped arriving; try again.')), timeouts.idleMs);
    };

    const onRaw = (chunk: Buffer): void => {
      received += chunk.length;
      restartIdle();
      if (received > maxBytes) finish(tooLarge(maxBytes));
    };
    const onDecoded = (chunk: Buffer): void => {
      decoded += chunk.length;
      if (decoded > maxBytes) return finish(tooLarge(maxBytes));
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined, Buffer.concat(chunks, decoded));
    const onDecodeError = (): void => finish(new HttpRefusalError(400, 'bad-encoding', 'The request body could not be decompressed.'));
    const onAborted = (): void => finish(new HttpRefusalError(400, 'aborted', 'The request ended before its body arrived.'));
    const onClose = (): void => {
      if (!req.complete) onAborted();
    };

    function finish(error: Error | undefined, body?: Buffer): void {
      if (settled) return;
      settled = true;
      clearTimeout(idleTimer);
      clearTimeout(totalTimer);
      req.off('data', onRaw);
      req.off('error', onAborted);
      req.off('aborted', onAborted);
      req.off('close', onClose);
      output.off('data', onDecoded);
      output.off('end', onEnd);
      if (decoder) {
        req.unpipe(decoder);
        decoder.off('error', onDecodeError);
        decoder.on('error', () => undefined);
        decoder.destroy();
      }
      req.pause();
      if (error) reject(error);
      else resolve(body!);
    }

    restartIdle();
    req.on('data', onRaw);
    req.on('error', onAborted);
    req.on('aborted', onAborted);
    req.on('close', onClose);
    if (decoder) {
      decoder.on('error', onDecodeError);
      req.pipe(decoder);
    }
    output.on('data', onDecoded);
    output.on('end', onEnd);
  });
}

/** `type/subtype` and its parameters, lower-cased (parameter values keep their case: a boundary is case-sensitive). */
export function parseContentType(header: string | undefined): { type: string; params: Map<string, string> } {
  const [type = '', ...rest] = (header ?? '').split(';');
  const params = new Map<string, string>();
  for (const part of rest) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim().toLowerCase();
    let value = part.slice(at + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    params.set(key, value);
  }
  return { type: type.trim().toLowerCase(), params };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new HttpRefusalError(400, 'bad-utf8', 'The request body is not UTF-8 text.');
  }
}

/**
 * How deeply the JSON text nests, scanning it once (strings skipped) and stopping at `limit`. Checked before
 * `JSON.parse`, so 10,000 levels of `[` never reach the parser or the code that walks the value.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > limit) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

/** Parses a JSON body; every problem is a 400 with a sentence that names no parser detail. */
export function parseJsonBody(body: Buffer, maxDepth = MAX_JSON_DEPTH): unknown {
  if (body.length === 0) return undefined;
  const text = decodeUtf8(body);
  if (jsonDepthExceeds(text, maxDepth)) throw new HttpRefusalError(400, 'too-deep', `The JSON in the request is nested more than ${maxDepth} levels deep.`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpRefusalError(400, 'bad-json', 'The request body is not valid JSON.');
  }
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** The most a part's headers may take. */
const MAX_PART_HEADER_BYTES = 2048;

/**
 * Reads a `multipart/form-data` body (RFC 7578) that is already in memory and within its limit: each part
 * becomes a text field named in `fields`. Files and fields are treated alike, as UTF-8 text; nothing is
 * written to disk, so a refused upload leaves no temporary file behind. Any other field, a field sent twice,
 * or a malformed body is a 400.
 */
export function parseMultipartBody(body: Buffer, boundary: string | undefined, fields: readonly string[]): Record<string, string> {
  const malformed = (detail: string): HttpRefusalError => new HttpRefusalError(400, 'bad-multipart', `The form upload is not valid: ${detail}.`);
  // RFC 2046 §5.1.1: 1 to 70 characters.
  if (!boundary || boundary.length > 70) throw malformed('its boundary is missing or too long');
  const delimiter = Buffer.from(`--${boundary}`);
  const partEnd = Buffer.concat([CRLF, delimiter]);
  const result: Record<string, string> = {};
  let at = body.indexOf(delimiter);
  if (at < 0) throw malformed('it has no parts');
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return result; // "--": the closing delimiter
    if (!body.subarray(at, at + 2).equals(CRLF)) throw malformed('a boundary is not followed by a new line');
    const headersStart = at + 2;
    const headersEnd = body.indexOf(HEADER_END, headersStart);
    if (headersEnd < 0 || headersEnd - headersStart > MAX_PART_HEADER_BYTES) throw malformed("a part's headers are missing or too long");
    const name = partName(body.subarray(headersStart, headersEnd).toString('latin1'));
    if (name === undefined) throw malformed('a part has no name');
    if (!fields.includes(name)) throw malformed(`it has a field "${name.slice(0, 40)}" that this upload does not take`);
    if (Object.hasOwn(result, name)) throw malformed(`the field "${name}" is sent twice`);
    const contentStart = headersEnd + HEADER_END.length;
    const next = body.indexOf(partEnd, contentStart);
    if (next < 0) throw malformed('the last part is not closed');
    result[name] = decodeUtf8(body.subarray(contentStart, next));
    at = next + CRLF.length;
  }
}

function partName(headers: string): string | undefined {
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const { type, params } = parseContentType(line.slice(colon + 1));
    if (type !== 'form-data') return undefined;
    return params.get('name');
  }
  return undefined;
}

type BodyKind = 'json' | 'multipart' | 'binary';

/** Which of the route's accepted kinds a content type is; anything else is refused (415) before a byte is read. */
export function bodyKindOf(contentType: string | undefined, policy: RouteBodyPolicy): BodyKind {
  const { type, params } = parseContentType(contentType);
  const charset = params.get('charset')?.toLowerCase();
  const isJson = type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
  if (isJson && policy.accept.includes('json')) {
    if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new HttpRefusalError(415, 'unsupported-charset', 'Send JSON as UTF-8.');
    return 'json';
  }
  if (type === 'multipart/form-data' && policy.accept.includes('multipart')) return 'multipart';
  if (policy.accept.includes('binary') && (policy.binaryTypes ?? []).includes(type)) return 'binary';
  const accepted = policy.accept.map((a) => (a === 'json' ? 'application/json' : a === 'multipart' ? 'multipart/form-data' : (policy.binaryTypes ?? []).join(', '))).join(' or ');
  throw new HttpRefusalError(415, 'unsupported-type', `This address takes ${accepted}.`);
}

/** What a body becomes under a route's policy: parsed JSON, the multipart fields, or the bytes. */
export function decodeBody(body: Buffer, contentType: string | undefined, policy: RouteBodyPolicy): unknown {
  switch (bodyKindOf(contentType, policy)) {
    case 'json':
      return parseJsonBody(body);
    case 'multipart':
      return parseMultipartBody(body, parseContentType(contentType).params.get('boundary'), policy.multipartFields ?? []);
    case 'binary':
      return body;
  }
}

/** How long, and how much, of a refused body is read and thrown away so the client can read the answer. */
const DISCARD_MS = 2_000;
const DISCARD_MAX_BYTES = 16 * 1024 * 1024;

/**
 * After a refusal: read and discard what is left of the body for a moment, so a client still sending sees the
 * answer instead of a reset, then close the connection if the body has not ended. A refusal for slowness closes
 * it at once. Nothing is kept.
 */
function discardRest(req: Request, res: Response, closeNow: boolean): void {
  if (req.complete) return;
  if (closeNow) {
    res.header('connection', 'close');
    return;
  }
  let discarded = 0;
  const close = (): void => {
    if (!req.complete) req.socket.destroy();
  };
  const timer = setTimeout(close, DISCARD_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_MAX_BYTES) close();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The server's only body parser (in place of restify's bodyParser, which counted compressed bytes and parsed
 * multipart on every route into temporary files). Runs after routing, so each route's policy applies: the 1 MB
 * JSON default, or what the route declared with `declareRouteBody`. Sets `req.body`; refuses with a safe
 * sentence and the correlation id, and logs only the reason code and the route pattern.
 */
export function createBodyReader(options: {
  policyFor: (routePath: string | undefined) => RouteBodyPolicy;
  timeouts: BodyTimeouts;
  logger: Logger;
}): RequestHandler {
  return (req: Request, res: Response, next: Next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!BODY_METHODS.has(req.method ?? '') || !hasBody) return next();
    const routePath = req.getRoute?.()?.path?.toString();
    const policy = options.policyFor(routePath);
    const read = async (): Promise<unknown> => {
      // The content type is checked before a byte is read, so a multipart flood to a JSON route costs nothing.
      bodyKindOf(req.headers['content-type'], policy);
      return decodeBody(await readRequestBody(req, policy.maxBytes, options.timeouts), req.headers['content-type'], policy);
    };
    read().then(
      (body) => {
        (req as { body?: unknown }).body = body;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof HttpRefusalError)) return next(error as Error);
        options.logger.info('http.body-refused', { correlationId: req.id(), status: error.status, reason: error.reason, route: routePath });
        discardRest(req, res, error.status === 408);
        sendSafeError(req, res, error.status, error.message);
        next(false);
      },
    );
  };
}

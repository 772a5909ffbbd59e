import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { bodyKindOf, HttpRefusalError, jsonDepthExceeds, parseJsonBody, parseMultipartBody, readRequestBody } from '../../../app/http-body';
import { DEFAULT_BODY_POLICY, type RouteBodyPolicy } from '../../../tab/server/api-responses';

const TIMEOUTS = { idleMs: 1_000, totalMs: 2_000 };

/** A request stream with headers, fed by the test. */
function fakeRequest(headers: Record<string, string>): PassThrough & { headers: Record<string, string>; complete: boolean } {
  const req = Object.assign(new PassThrough(), { headers, complete: false });
  req.on('end', () => (req.complete = true));
  return req;
}

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<HttpRefusalError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof HttpRefusalError) return error;
    throw error;
  }
  throw new Error('Expected a refusal.');
}

describe('readRequestBody', () => {
  it('returns a plain body whole', async () => {
    const req = fakeRequest({});
    const reading = readRequestBody(req as unknown as IncomingMessage, 100, TIMEOUTS);
    req.end(Buffer.from('{"a":1}'));
    await expect(reading).resolves.toEqual(Buffer.from('{"a":1}'));
  });

  it('inflates a gzip body', async () => {
    const req = fakeRequest({ 'content-encoding': 'gzip' });
    const reading = readRequestBody(req as unknown as IncomingMessage, 1_000, TIMEOUTS);
    req.end(gzipSync('{"a":1}'));
    await expect(reading).resolves.toEqual(Buffer.from('{"a":1}'));
  });

  it('refuses before reading when the declared length is over the limit', async () => {
    const req = fakeRequest({ 'content-length': '101' });
    const error = await refusal(readRequestBody(req as unknown as IncomingMessage, 100, TIMEOUTS));
    expect([error.status, error.reason]).toEqual([413, 'too-large']);
  });

  it('counts inflated bytes: 10 MB that gzips to a few KB is refused at the limit, and the rest is never read', async () => {
    const compressed = gzipSync(Buffer.alloc(10 * 1024 * 1024, 'A'));
    expect(compressed.length).toBeLessThan(64 * 1024);
    const req = fakeRequest({ 'content-encoding': 'gzip' });
    const reading = readRequestBody(req as unknown as IncomingMessage, 64 * 1024, TIMEOUTS);
    // Fed slowly, a small piece at a time: the refusal comes long before the whole bomb is written.
    let settled = false;
    void reading.then(
      () => (settled = true),
      () => (settled = true),
    );
    let fed = 0;
    while (!settled && fed < compressed.length) {
      req.write(compressed.subarray(fed, fed + 256));
      fed += 256;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const error = await refusal(reading);
    expect(error.status).toBe(413);
    expect(fed).toBeLessThan(compressed.length);
  });

  it('refuses an unknown or stacked content encoding with 415', async () => {
    for (const coding of ['compress', 'gzip, br', 'zstd']) {
      const error = await refusal(readRequestBody(fakeRequest({ 'content-encoding': coding }) as unknown as IncomingMessage, 100, TIMEOUTS));
      expect([coding, error.status]).toEqual([coding, 415]);
    }
  });

  it('refuses a body that is not gzip at all with 400', async () => {
    const req = fakeRequest({ 'content-encoding': 'gzip' });
    const reading = readRequestBody(req as unknown as IncomingMessage, 100, TIMEOUTS);
    req.end(Buffer.from('not gzip'));
    expect((await refusal(reading)).status).toBe(400);
  });

  it('refuses a body that stops arriving with 408', async () => {
    const req = fakeRequest({});
    const reading = readRequestBody(req as unknown as IncomingMessage, 100, { idleMs: 50, totalMs: 5_000 });
    req.write('{');
    const error = await refusal(reading);
    expect([error.status, error.reason]).toEqual([408, 'stalled']);
  });
});

describe('JSON bodies', () => {
  it('finds nesting past the limit in one pass, ignoring brackets inside strings', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[[[\\"[[[["}', 1)).toBe(false);
    expect(jsonDepthExceeds('['.repeat(10_000), 64)).toBe(true);
  });

  it('parses good JSON, and answers bad JSON, bad UTF-8 and deep nesting with 400 and no parser detail', async () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,2]}'))).toEqual({ a: [1, 2] });
    expect(parseJsonBody(Buffer.alloc(0))).toBeUndefined();
    expect(parseJsonBody(Buffer.from('\ufeff{"bom":true}'))).toEqual({ bom: true });
    expect((await refusal(() => parseJsonBody(Buffer.from('{"a":'))))).toMatchObject({ status: 400, message: 'The request body is not valid JSON.' });
    expect((await refusal(() => parseJsonBody(Buffer.from([0x22, 0xff, 0x22]))))).toMatchObject({ status: 400, reason: 'bad-utf8' });
    expect((await refusal(() => parseJsonBody(Buffer.from('['.repeat(65) + ']'.repeat(65)))))).toMatchObject({ status: 400, reason: 'too-deep' });
  });
});

describe('content types a route takes', () => {
  const upload: RouteBodyPolicy = { maxBytes: 100, accept: ['json', 'multipart'], multipartFields: ['csv'] };

  it('takes JSON (and +json) everywhere, multipart only where declared', async () => {
    expect(bodyKindOf('application/json; charset=utf-8', DEFAULT_BODY_POLICY)).toBe('json');
    expect(bodyKindOf('application/vnd.api+json', DEFAULT_BODY_POLICY)).toBe('json');
    expect(bodyKindOf('multipart/form-data; boundary=x', upload)).toBe('multipart');
    for (const type of ['multipart/form-data; boundary=x', 'text/plain', 'application/x-www-form-urlencoded', undefined]) {
      expect((await refusal(() => bodyKindOf(type, DEFAULT_BODY_POLICY))).status).toBe(415);
    }
  });
});

describe('parseMultipartBody', () => {
  const form = (parts: string[], boundary = 'b0undary'): Buffer => Buffer.from(`preamble\r\n${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`);

  it('reads named text fields and files alike', () => {
    const body = form(['Content-Disposition: form-data; name="academicYear"\r\n\r\n2026', 'Content-Disposition: form-data; name="csv"; filename="roll.csv"\r\nContent-Type: text/csv\r\n\r\nAdno,Forename\r\n1,Zoë']);
    expect(parseMultipartBody(body, 'b0undary', ['csv', 'academicYear'])).toEqual({ academicYear: '2026', csv: 'Adno,Forename\r\n1,Zoë' });
  });

  it.each([
    ['a field it does not take', ['Content-Disposition: form-data; name="other"\r\n\r\nx'], 'b0undary'],
    ['a field twice', ['Content-Disposition: form-data; name="csv"\r\n\r\nx', 'Content-Disposition: form-data; name="csv"\r\n\r\ny'], 'b0undary'],
    ['a part with no name', ['Content-Type: text/plain\r\n\r\nx'], 'b0undary'],
    ['no boundary', ['Content-Disposition: form-data; name="csv"\r\n\r\nx'], ''],
  ])('refuses %s with 400', async (_name, parts, boundary) => {
    const error = await refusal(() => parseMultipartBody(form(parts as string[]), boundary || undefined, ['csv']));
    expect(error.status).toBe(400);
  });

  it('refuses a body whose last part is never closed', async () => {
    const body = Buffer.from('--b\r\nContent-Disposition: form-data; name="csv"\r\n\r\nno end');
    expect((await refusal(() => parseMultipartBody(body, 'b', ['csv']))).status).toBe(400);
  });
});

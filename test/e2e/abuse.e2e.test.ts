import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeflate, createGzip, type Deflate, type Gzip } from 'node:zlib';
import { composeServices, type AppServices } from '../../app/compose';
import { loadConfig } from '../../app/config';
import { createMemoryLogger } from '../../infra/logger';
import { startServer, type RunningServer } from '../../app/server';
import { LoopbackConnector } from '../support/loopback-connector';
import { testTablesConnectionString, uniqueSchoolId } from '../support/tables';
import { cardActionInvoke, messageActionInvoke, messageActivity, newUser } from '../support/teams-activities';

/**
 * Issue 11 §2: what an unauthenticated stranger can send the server over HTTP. After each case the server
 * must still answer /healthz and take a good /report from a teacher, end to end.
 */

const teacher = newUser('Abuse Teacher');
const LIMIT = 1024 * 1024;
/** Short body timeouts so the slow-drip case ends quickly; the defaults are in app/server.ts. */
const TIMEOUTS = { headersMs: 5_000, requestMs: 10_000, body: { idleMs: 1_000, totalMs: 2_500 } };

const validForm = {
  occurredOn: '2026-11-20',
  occurredAt: '10:15',
  involved: 'pupil-unlisted',
  location: 'ICT suite, PC 4',
  incidentType: 'inappropriate-website',
  description: 'A pupil opened a video site with a violent clip during a lesson.',
  actionTaken: 'Closed the tab and spoke to the pupil.',
  childProtection: 'false',
};

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

describe('a server that bad input cannot kill', () => {
  let services: AppServices;
  let running: RunningServer;
  let connector: LoopbackConnector;
  let logLines: string[];
  let port: number;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esafety-abuse-'));
    const rolesFile = join(dir, 'roles.json');
    writeFileSync(rolesFile, JSON.stringify({ staff: [teacher.aadObjectId] }));
    const config = loadConfig({ PORT: '0', SCHOOL_ID: uniqueSchoolId('abuse'), ROLES_FILE: rolesFile, TABLES_CONNECTION_STRING: testTablesConnectionString() });
    const logger = createMemoryLogger('debug');
    logLines = logger.lines;
    services = composeServices(config, logger, { clock: () => new Date('2026-11-23T09:00:00Z') });
    connector = new LoopbackConnector();
    await connector.start();
    running = await startServer(services, { port: 0, host: '127.0.0.1', alertSweepMs: 3_600_000, timeouts: TIMEOUTS });
    port = Number(new URL(running.url).port);
  });

  afterAll(async () => {
    await running?.close();
    await connector?.stop();
  });

  /** Sends one request on its own connection; the answer is whatever arrives first, even while the body is still being sent. */
  function send(options: { path?: string; headers?: Record<string, string | number>; body?: Buffer | ((write: (chunk: Buffer) => boolean) => Promise<void>) }): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: options.path ?? '/api/messages', headers: options.headers ?? {}, agent: false });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      // Once the server has answered and closed the connection, the rest of a large body cannot be written: expected.
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (!['EPIPE', 'ECONNRESET'].includes(error.code ?? '')) reject(error);
      });
      const body = options.body;
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body((chunk) => req.write(chunk))
          .then(() => req.end())
          .catch(() => req.destroy());
      }
    });
  }

  async function postActivity(activity: object): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${running.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  /** /healthz answers, and a teacher's /report card is opened and submitted and gets its reference. */
  async function expectStillServing(): Promise<void> {
    const health = await fetch(`${running.url}/healthz`);
    expect(health.status).toBe(200);
    const before = connector.sent.length;
    expect((await postActivity(messageActivity(teacher, '/report', connector.serviceUrl))).status).toBe(200);
    const reply = await connector.waitFor((s, i = connector.sent.indexOf(s)) => i >= before && s.activity.attachments !== undefined);
    const card = reply.activity.attachments![0]!.content as { actions: { data: { submissionId: string } }[] };
    const submitted = await postActivity(cardActionInvoke(teacher, 'submitIncident', { ...validForm, submissionId: card.actions[0]!.data.submissionId }, connector.serviceUrl));
    expect(submitted.status).toBe(200);
    expect(JSON.stringify(submitted.body)).toMatch(/ES-2026-\d{4,}/);
  }

  /** A compressed body that inflates to `inflatedBytes` of one JSON string, made and sent a piece at a time. */
  async function bomb(makeCompressor: () => Gzip | Deflate, inflatedBytes: number): Promise<Buffer> {
    const compressor = makeCompressor();
    const out: Buffer[] = [];
    compressor.on('data', (c: Buffer) => out.push(c));
    const done = new Promise((resolve) => compressor.on('end', resolve));
    compressor.write('{"type":"message","text":"');
    const piece = Buffer.alloc(1024 * 1024, 'A');
    for (let written = 0; written < inflatedBytes; written += piece.length) {
      if (!compressor.write(piece)) await new Promise((resolve) => compressor.once('drain', resolve));
    }
    compressor.end('"}');
    await done;
    return Buffer.concat(out);
  }

  function expectSafeRefusal(answer: RawAnswer, status: number): void {
    expect(answer.status).toBe(status);
    const body = JSON.parse(answer.text) as { error: string; correlationId: string };
    expect(body.correlationId).toBe(answer.headers['x-correlation-id']);
    expect(body.error).not.toMatch(/at \w+ \(|\/work\/|node_modules|Error:|zlib|JSON\.parse|Unexpected token/);
  }

  function refusalsLogged(reason: string): number {
    return logLines.filter((line) => line.includes('http.body-refused') && line.includes(`"reason":"${reason}"`)).length;
  }

  it('refuses a gzip bomb (200 MB of JSON in about 200 KB) once 1 MB has inflated', async () => {
    const body = await bomb(createGzip, 200 * LIMIT);
    expect(body.length).toBeLessThan(LIMIT);
    const refusedBefore = refusalsLogged('too-large');
    const answer = await send({ headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length }, body });
    expectSafeRefusal(answer, 413);
    expect(refusalsLogged('too-large')).toBe(refusedBefore + 1);
    await expectStillServing();
  });

  it('refuses a deflate bomb the same way', async () => {
    const body = await bomb(createDeflate, 200 * LIMIT);
    const answer = await send({ headers: { 'content-type': 'application/json', 'content-encoding': 'deflate', 'content-length': body.length }, body });
    expectSafeRefusal(answer, 413);
    await expectStillServing();
  });

  it('refuses a body one byte over the limit, whether its length is declared or it arrives in chunks', async () => {
    const body = Buffer.concat([Buffer.from('{"type":"message","text":"'), Buffer.alloc(LIMIT - 27, 'B'), Buffer.from('"}')]);
    expect(body.length).toBe(LIMIT + 1);
    expectSafeRefusal(await send({ headers: { 'content-type': 'application/json', 'content-length': body.length }, body }), 413);
    const chunked = await send({
      headers: { 'content-type': 'application/json' },
      body: async (write) => {
        for (let at = 0; at < body.length; at += 64 * 1024) write(body.subarray(at, at + 64 * 1024));
      },
    });
    expectSafeRefusal(chunked, 413);
    await expectStillServing();
  });

  it('takes a body just under the limit (it is the activity that is wrong, not its size)', async () => {
    const activity = { ...messageActivity(teacher, 'hello', connector.serviceUrl), padding: 'C'.repeat(LIMIT - 2_000) };
    const body = Buffer.from(JSON.stringify(activity));
    expect(body.length).toBeLessThanOrEqual(LIMIT);
    const answer = await send({ headers: { 'content-type': 'application/json', 'content-length': body.length }, body });
    expect(answer.status).toBe(200);
    await expectStillServing();
  });

  it('refuses a body far over the limit (64 MB, chunked) without reading it all', async () => {
    let sent = 0;
    const piece = Buffer.alloc(256 * 1024, 'D');
    const answer = await send({
      headers: { 'content-type': 'application/json' },
      body: async (write) => {
        write(Buffer.from('{"type":"message","text":"'));
        while (sent < 64 * LIMIT) {
          sent += piece.length;
          if (!write(piece)) await new Promise((resolve) => setTimeout(resolve, 1));
        }
      },
    });
    expectSafeRefusal(answer, 413);
    await expectStillServing();
  });

  it('refuses 10,000 levels of JSON nesting before parsing it', async () => {
    const body = Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    const answer = await send({ headers: { 'content-type': 'application/json', 'content-length': body.length }, body });
    expectSafeRefusal(answer, 400);
    expect(JSON.parse(answer.text).error).toMatch(/nested more than 64 levels/);
    const objects = Buffer.from(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`);
    expectSafeRefusal(await send({ headers: { 'content-type': 'application/json', 'content-length': objects.length }, body: objects }), 400);
    await expectStillServing();
  });

  it('answers malformed JSON with 400 and no parser detail', async () => {
    const body = Buffer.from('{"type":"message","text":');
    const answer = await send({ headers: { 'content-type': 'application/json', 'content-length': body.length }, body });
    expectSafeRefusal(answer, 400);
    expect(JSON.parse(answer.text).error).toBe('The request body is not valid JSON.');
    await expectStillServing();
  });

  it('refuses a wrong content type, an unknown content encoding and a non-UTF-8 charset with 415', async () => {
    const body = Buffer.from(JSON.stringify(messageActivity(teacher, 'hello', connector.serviceUrl)));
    expectSafeRefusal(await send({ headers: { 'content-type': 'text/plain', 'content-length': body.length }, body }), 415);
    expectSafeRefusal(await send({ headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length }, body }), 415);
    expectSafeRefusal(await send({ headers: { 'content-length': body.length }, body }), 415);
    expectSafeRefusal(await send({ headers: { 'content-type': 'application/json', 'content-encoding': 'compress', 'content-length': body.length }, body }), 415);
    expectSafeRefusal(await send({ headers: { 'content-type': 'application/json', 'content-encoding': 'gzip, gzip', 'content-length': body.length }, body }), 415);
    expectSafeRefusal(await send({ headers: { 'content-type': 'application/json; charset=utf-16', 'content-length': body.length }, body }), 415);
    await expectStillServing();
  });

  it('refuses a multipart flood to a JSON route before reading it, and leaves no temporary file', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const boundary = 'flood-boundary';
    const part = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${'E'.repeat(64 * 1024)}\r\n`);
    for (const path of ['/api/messages', '/api/incidents/ES-2026-0001/actions']) {
      const answer = await send({
        path,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: async (write) => {
          for (let i = 0; i < 500; i++) if (!write(part)) await new Promise((resolve) => setTimeout(resolve, 1));
          write(Buffer.from(`--${boundary}--\r\n`));
        },
      });
      expectSafeRefusal(answer, 415);
    }
    // restify's bodyParser wrote each multipart file to the temporary folder (formidable's upload_*) on every route.
    const added = readdirSync(tmpdir()).filter((name) => !before.has(name) && name.startsWith('upload_'));
    expect(added).toEqual([]);
    await expectStillServing();
  });

  it('cuts off a body that drips in a byte at a time, within the body time limit', async () => {
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
        const drip = setInterval(() => socket.write(' '), 200);
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(drip);
          resolve(text);
        });
      });
    });
    const elapsed = Date.now() - started;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).not.toMatch(/Error:|\/work\//);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUTS.body.totalMs - 100);
    expect(elapsed).toBeLessThan(TIMEOUTS.body.totalMs + 5_000);
    await expectStillServing();
  });

  it('cuts off headers that drip in a byte at a time, within the header time limit (not node\'s 30 s check interval later)', async () => {
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: ');
        const drip = setInterval(() => socket.write('a'), 200);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(drip);
          resolve();
        });
      });
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUTS.headersMs - 100);
    expect(elapsed).toBeLessThan(TIMEOUTS.headersMs + 3_000);
    await expectStillServing();
  });

  it('closes an upgrade request that nothing handles within the header time limit, instead of holding it open', async () => {
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
    });
    expect(Date.now() - started).toBeLessThan(TIMEOUTS.headersMs + 3_000);
    await expectStillServing();
  });

  it('turns 200 KB of "<" sent to "Report this message" into the report form at once', async () => {
    const started = Date.now();
    const response = await postActivity(
      messageActionInvoke(teacher, 'composeExtension/fetchTask', { commandId: 'reportMessage', commandContext: 'message', messagePayload: { id: 'm1', body: { contentType: 'html', content: '<'.repeat(200 * 1024) } } }, connector.serviceUrl),
    );
    expect(response.status).toBe(200);
    expect(JSON.stringify(response.body)).toContain('"type":"continue"');
    // The quadratic regex took minutes on this input; one pass takes milliseconds. Generous, not a benchmark.
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectStillServing();
  });

  it('answers unknown addresses, wrong methods and refused activities without internal detail', async () => {
    const missing = await fetch(`${running.url}/api/nothing-here?upn=someone@school.example`);
    expect(missing.status).toBe(404);
    const missingBody = (await missing.json()) as { error: string; correlationId: string };
    expect(missingBody).toEqual({ error: 'There is nothing at this address.', correlationId: missing.headers.get('x-correlation-id') });
    const wrongMethod = await fetch(`${running.url}/healthz`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.text()).not.toMatch(/DELETE|healthz/);
    // Not an activity at all: botbuilder's own text would name its middleware.
    const notActivity = await send({ headers: { 'content-type': 'application/json', 'content-length': 2 }, body: Buffer.from('[]') });
    expectSafeRefusal(notActivity, 400);
    expect(notActivity.text).not.toMatch(/req\.body|middleware/);
    await expectStillServing();
  });

  it('sends the security headers on pages, API answers and refusals', async () => {
    const page = await fetch(`${running.url}/tab/summary.html`);
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'self' https:\/\/\*\.cloud\.microsoft https:\/\/teams\.microsoft\.com/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const health = await fetch(`${running.url}/healthz`);
    expect(health.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    // Local development is plain http: no HSTS (the deployed case is in test/unit/app/http-headers.test.ts).
    expect(health.headers.get('strict-transport-security')).toBeNull();
    const refused = await send({ headers: { 'content-type': 'text/plain', 'content-length': 1 }, body: Buffer.from('x') });
    expect(refused.headers['x-content-type-options']).toBe('nosniff');
  });
});

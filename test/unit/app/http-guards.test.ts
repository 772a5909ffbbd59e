import restify, { type Server } from 'restify';
import { createMemoryLogger } from '../../../infra/logger';
import { guardBotResponse, installSafeErrors } from '../../../app/http-errors';
import { HSTS, installSecurityHeaders, securityHeadersFor, TAB_FRAME_ANCESTORS } from '../../../app/http-headers';

/**
 * Internal text an error can carry (a made-up example: no real address, path or key), none of which may reach a
 * client. The connection-string fragment names a property only, with no value, so nothing here reads as a credential.
 */
const INTERNAL_DETAIL = 'connect ECONNREFUSED http://169.254.169.254/metadata/identity at /home/site/wwwroot/records/tables.js:42 TableEndpoint=;AccountName=;AccountKey=;';
const LEAKS = /ECONNREFUSED|169\.254|metadata|wwwroot|tables\.js|AccountKey|AccountName|TableEndpoint|at \w+ \(/;

describe('security headers', () => {
  it('lets exactly the Teams, Microsoft 365 and Outlook hosts from the Teams docs frame the tab pages', () => {
    const csp = securityHeadersFor('/tab/summary.html', { deployed: false })['content-security-policy']!;
    const ancestors = /frame-ancestors ([^;]+)/.exec(csp)![1]!.split(' ');
    expect(ancestors).toEqual([...TAB_FRAME_ANCESTORS]);
    expect(ancestors.sort()).toEqual(
      [
        "'self'",
        'https://*.cloud.microsoft',
        'https://teams.microsoft.com',
        'https://*.teams.microsoft.com',
        'https://*.microsoft365.com',
        'https://*.office.com',
        'https://outlook.office.com',
        'https://outlook.office365.com',
        'https://outlook-sdf.office.com',
        'https://outlook-sdf.office365.com',
      ].sort(),
    );
    expect(csp).toMatch(/script-src 'self';/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
  });

  it('never lets the API or the bot endpoint be framed', () => {
    for (const path of ['/api/messages', '/api/incidents', '/healthz']) {
      expect(securityHeadersFor(path, { deployed: true })['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    }
  });

  it('sends nosniff always and HSTS only when deployed', () => {
    expect(securityHeadersFor('/api/me', { deployed: true })).toMatchObject({ 'x-content-type-options': 'nosniff', 'strict-transport-security': HSTS });
    expect(securityHeadersFor('/api/me', { deployed: false })['strict-transport-security']).toBeUndefined();
    expect(securityHeadersFor('/api/me', { deployed: false })['x-content-type-options']).toBe('nosniff');
  });
});

describe('safe errors on a running restify server', () => {
  let server: Server;
  let url: string;
  const logger = createMemoryLogger('debug');

  beforeAll(async () => {
    server = restify.createServer({ handleUncaughtExceptions: false });
    installSecurityHeaders(server, { deployed: true });
    installSafeErrors(server, logger);
    server.get('/throws', async () => {
      throw new Error(INTERNAL_DETAIL);
    });
    server.get('/rejects-with-text', async () => Promise.reject(new TypeError(INTERNAL_DETAIL)));
    server.post('/bot', async (req, res) => {
      // What CloudAdapter does when a turn fails: status 500 and the error's message as the body.
      const guarded = guardBotResponse(req, res);
      guarded.status(500);
      guarded.send(INTERNAL_DETAIL);
      guarded.end();
    });
    server.post('/bot-invoke', async (req, res) => {
      const guarded = guardBotResponse(req, res);
      guarded.status(200);
      guarded.send({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'ok' });
      guarded.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${server.address().port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each(['/throws', '/rejects-with-text'])('when %s fails, the client gets 500, a safe sentence and the correlation id; the log gets the error name only', async (path) => {
    const response = await fetch(`${url}${path}`);
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(text).not.toMatch(LEAKS);
    const body = JSON.parse(text) as { error: string; correlationId: string };
    expect(body.correlationId).toBe(response.headers.get('x-correlation-id'));
    expect(body.error).toMatch(/give IT the correlation id/);
    expect(response.headers.get('strict-transport-security')).toBe(HSTS);
    const logged = logger.lines.filter((l) => l.includes(body.correlationId));
    expect(logged.join('\n')).toMatch(/http\.failed/);
    expect(logged.join('\n')).not.toMatch(LEAKS);
  });

  it('answers 404 and 405 with a safe sentence that repeats nothing from the request', async () => {
    const missing = await fetch(`${url}/no/such/place?upn=pupil@school.example`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toMatch(/no\/such|pupil@/);
    const wrong = await fetch(`${url}/throws`, { method: 'PUT' });
    expect(wrong.status).toBe(405);
    expect(((await wrong.json()) as { error: string }).error).toBe('This address does not take that method.');
  });

  it("replaces botbuilder's error text with the safe sentence, and passes the bot's own answers through", async () => {
    const failed = await fetch(`${url}/bot`, { method: 'POST' });
    expect(failed.status).toBe(500);
    expect(await failed.text()).not.toMatch(LEAKS);
    const answered = await fetch(`${url}/bot-invoke`, { method: 'POST' });
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'ok' });
  });
});

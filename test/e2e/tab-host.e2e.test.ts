import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Route } from 'playwright-core';
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/tab-auth';
import { newUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium } from '../support/chromium';

/**
 * Each tab page inside a host page that plays Teams' part, in headless Chromium.
 *
 * Teams loads a tab in an iframe and talks to the Teams JavaScript SDK in it by postMessage. The host below
 * answers the two requests a tab needs, in the shapes @microsoft/teams-js 2.x uses (read from its source,
 * src/internal/communication.ts and messageObjects.ts): a request is `{ id, uuidAsString, func, args, … }`;
 * the answer goes back to the same window as `{ id, uuidAsString, args }`.
 * - `initialize` is answered with `[frameContext, hostClientType, runtimeConfig (JSON), clientSupportedSDKVersion]`.
 * - `authentication.getAuthToken` is answered with `[true, token]` (or `[false, reason]`).
 * The SDK only accepts answers from the Teams, Outlook and Microsoft 365 origins it knows, so the host is served as
 * https://teams.microsoft.com and the app as https://esafety.example.test; Playwright answers both from this
 * machine (the app's requests are passed to the real server on loopback), and nothing leaves it.
 */
const HOST_ORIGIN = 'https://teams.microsoft.com';
const APP_ORIGIN = 'https://esafety.example.test';
const APP_ID = '00000000-0000-4000-8000-00000000a11d';

/** Every tab page, so a page added later is held to the same test. */
const PAGES = readdirSync(join(__dirname, '..', '..', 'tab', 'public')).filter((f) => f.endsWith('.html')).sort();

/** Someone who holds every staff-side role, so each page has something to ask the API for. */
const everyone = newUser('Every Role');

type HostMode = 'answers' | 'silent' | 'refuses-token';

/** The host page: an iframe with the tab, and the host's side of the SDK's postMessage protocol. */
function hostPage(tabPath: string, mode: HostMode, token: string): string {
  const runtime = { apiVersion: 4, supports: { appInstallDialog: {}, pages: { appButton: {}, tabs: {}, config: {}, backStack: {}, fullTrust: {} }, teamsCore: {}, logs: {} } };
  return `<!doctype html><html><head><title>Teams (test host)</title></head><body>
<iframe id="tab" src="${APP_ORIGIN}${tabPath}" style="width:1200px;height:900px"></iframe>
<script>
  window.received = [];
  const MODE = ${JSON.stringify(mode)};
  const TOKEN = ${JSON.stringify(token)};
  const RUNTIME = ${JSON.stringify(JSON.stringify(runtime))};
  window.addEventListener('message', (event) => {
    const frame = document.getElementById('tab').contentWindow;
    if (event.source !== frame || event.origin !== ${JSON.stringify(APP_ORIGIN)}) return;
    const request = event.data;
    if (!request || typeof request.func !== 'string') return;
    window.received.push({ func: request.func, args: request.args });
    const answer = (args) => frame.postMessage({ id: request.id, uuidAsString: request.uuidAsString, args }, event.origin);
    if (request.func === 'initialize' && MODE !== 'silent') answer(['content', 'web', RUNTIME, '2.0.0']);
    if (request.func === 'authentication.getAuthToken') answer(MODE === 'refuses-token' ? [false, 'resourceDisabled'] : [true, TOKEN]);
  });
</script></body></html>`;
}

/** Closes a context with requests still in flight (pages keep loading after the test has what it needs). */
async function closeContext(context: BrowserContext): Promise<void> {
  await context.unrouteAll({ behavior: 'ignoreErrors' });
  await context.close();
}

/** Waits for a condition the browser brings about, failing the test after `ms`. */
async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up after ${ms} ms waiting for: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface ApiCall {
  path: string;
  authorization: string | undefined;
  status: number;
}

describe('tab pages inside a Teams host frame', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    const roles = ['staff', 'coordinator', 'dsl', 'headteacher', 'governor', 'admin'] as const;
    // Deployed, as a school runs it: Teams SSO only, no local sign-in routes.
    app = await startTestApp({
      roles: Object.fromEntries(roles.map((r) => [r, [everyone]])),
      env: { ...idp.env, APP_PUBLIC_URL: APP_ORIGIN, MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'not-a-real-secret', AUTH_AUDIENCE: idp.audience },
    });
    expect(app.services.config.deployed).toBe(true);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await idp?.close();
  });

  /** A browser context where the host page and the app's origin are answered here, and everything else is refused. */
  async function hostedContext(tabPath: string, mode: HostMode, token: string): Promise<{ context: BrowserContext; calls: ApiCall[]; offSite: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1000 } });
    const calls: ApiCall[] = [];
    const offSite: string[] = [];
    await context.route('**/*', async (route: Route) => {
      const request = route.request();
      const url = new URL(request.url());
      if (url.origin === HOST_ORIGIN && url.pathname === '/host') return route.fulfill({ status: 200, contentType: 'text/html', body: hostPage(tabPath, mode, token) });
      if (url.origin === APP_ORIGIN) {
        const response = await route.fetch({ url: `${app.url}${url.pathname}${url.search}` }).catch(() => undefined);
        if (!response) return; // the test closed the context meanwhile
        if (url.pathname.startsWith('/api/')) calls.push({ path: url.pathname, authorization: request.headers().authorization, status: response.status() });
        return route.fulfill({ response }).catch(() => undefined);
      }
      // The SDK asks Microsoft's CDN for its list of host origins, and falls back to the list it ships with.
      offSite.push(url.host);
      return route.abort('internetdisconnected');
    });
    return { context, calls, offSite };
  }

  it('finds the tab pages', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['admin.html', 'incidents.html', 'summary.html']));
  });

  it.each(PAGES)('%s initialises the Teams SDK, gets the SSO token from the host and calls the API with it', async (file) => {
    const token = await idp.token(everyone.aadObjectId);
    const { context, calls } = await hostedContext(`/tab/${file}`, 'answers', token);
    const page = await context.newPage();
    await page.goto(`${HOST_ORIGIN}/host`);
    const tab = page.frameLocator('#tab');
    await tab.locator('body[data-sign-in="teams"]').waitFor({ state: 'attached', timeout: 15_000 });
    await until(() => calls.some((c) => c.status === 200), 10_000).catch((e: Error) => {
      throw new Error(`${e.message}; API calls: ${JSON.stringify(calls.map((c) => [c.path, c.status]))}`);
    });
    // The real SDK spoke to the host: initialize carried its version, then it asked for the token.
    const received = (await page.evaluate('window.received')) as { func: string; args: unknown[] }[];
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'node_modules', '@microsoft', 'teams-js', 'package.json'), 'utf8')) as { version: string };
    expect(received.find((m) => m.func === 'initialize')?.args[0]).toBe(version);
    expect(received.map((m) => m.func)).toContain('authentication.getAuthToken');
    // Every API call carried exactly the token the host handed over, and the server accepted it.
    expect(calls.every((c) => c.authorization === `Bearer ${token}`)).toBe(true);
    expect(calls.filter((c) => c.status === 401)).toEqual([]);
    await closeContext(context);
  }, 30_000);

  it('never calls the API when the host never answers initialize', async () => {
    const { context, calls } = await hostedContext('/tab/summary.html', 'silent', await idp.token(everyone.aadObjectId));
    const page = await context.newPage();
    await page.goto(`${HOST_ORIGIN}/host`);
    const tab = page.frameLocator('#tab');
    await tab.locator('body[data-sign-in="outside"]').waitFor({ state: 'attached', timeout: 15_000 });
    expect(await tab.locator('#status').textContent()).toMatch(/only works inside Microsoft Teams/);
    const received = (await page.evaluate('window.received')) as { func: string }[];
    expect(received.map((m) => m.func)).toEqual(['initialize']);
    expect(calls).toEqual([]);
    await closeContext(context);
  }, 30_000);

  it('says so, and calls nothing, when Teams cannot get a token', async () => {
    const { context, calls } = await hostedContext('/tab/incidents.html', 'refuses-token', 'unused');
    const page = await context.newPage();
    await page.goto(`${HOST_ORIGIN}/host`);
    const tab = page.frameLocator('#tab');
    await tab.locator('body[data-sign-in="failed"]').waitFor({ state: 'attached', timeout: 15_000 });
    expect(await tab.locator('#status').textContent()).toMatch(/Teams could not sign you in/);
    expect(calls).toEqual([]);
    await closeContext(context);
  }, 30_000);

  it('refuses an app-only token even when the host hands it over', async () => {
    const appOnly = await idp.token(everyone.aadObjectId, { scp: null, claims: { roles: ['Incidents.Read.All'] } });
    const { context, calls } = await hostedContext('/tab/summary.html', 'answers', appOnly);
    const page = await context.newPage();
    await page.goto(`${HOST_ORIGIN}/host`);
    await page.frameLocator('#tab').locator('body[data-sign-in="teams"]').waitFor({ state: 'attached', timeout: 15_000 });
    await until(() => calls.some((c) => c.status === 401), 10_000);
    // Every call the page made with it was refused (an unknown path may say 404 before anyone signs in).
    expect(calls.filter((c) => c.status < 400)).toEqual([]);
    await expect(page.frameLocator('#tab').locator('body[data-ready="true"]').count()).resolves.toBe(0);
    await closeContext(context);
  }, 30_000);
});

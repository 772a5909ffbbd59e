import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import restify from 'restify';
import { loadConfig } from '../../../app/config';
import { createMemoryLogger } from '../../../infra/logger';
import { privacyFeature, privacyNoticeFacts } from '../../../app/privacy-feature';
import { registerPublicPages } from '../../../tab/server/public-pages';
import { startTestApp, type TestApp } from '../../support/test-app';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'appPackage', 'manifest.json'), 'utf8')) as { developer: { privacyUrl: string; termsOfUseUrl: string } };

/** The path the manifest links, with the deployment's public origin placeholder taken off. */
function manifestPath(url: string): string {
  expect(url.startsWith('${{APP_PUBLIC_URL}}/')).toBe(true);
  return url.slice('${{APP_PUBLIC_URL}}'.length);
}

describe('the privacy notice and terms the Teams manifest links to', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      roles: {},
      env: { SCHOOL_NAME: 'Hollin Bank Primary', DPO_EMAIL: 'dpo@hollin.example', LOCAL_AUTHORITY_NAME: 'Northshire County Council' },
      overrides: { clock: () => new Date('2026-07-01T23:30:00Z'), features: [privacyFeature] },
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ['privacyUrl', manifest.developer.privacyUrl, 'Privacy notice: E-Safety for Teams at Hollin Bank Primary'],
    ['termsOfUseUrl', manifest.developer.termsOfUseUrl, 'Terms of use: E-Safety for Teams at Hollin Bank Primary'],
  ])('%s answers 200 with a page that loads nothing else, without signing in', async (_field, url, heading) => {
    const response = await fetch(`${app.url}${manifestPath(url)}`);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    // The policy allows exactly the page's own style block, by its hash.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(response.headers.get('content-security-policy')).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(html).toContain(heading);
    // UK date of the school's day: 00:30 BST on 2 July.
    expect(html).toContain('2 July 2026');
    expect(html).not.toMatch(/<script|<link|src=/);
  });

  it('builds the notice from this school\'s settings', async () => {
    const html = await (await fetch(`${app.url}/privacy`)).text();
    expect(html).toContain('dpo@hollin.example');
    expect(html).toContain('Northshire County Council');
  });
});

describe('a deployed school that has not given its DPO contact', () => {
  it('withholds the notice with 503 and logs why (no values), while the terms are still served', async () => {
    const config = loadConfig({ WEBSITE_SITE_NAME: 'app-esafety', SCHOOL_NAME: 'Hollin Bank Primary' }, { purpose: 'tool' });
    const logger = createMemoryLogger('debug');
    const server = restify.createServer();
    registerPublicPages(server, { facts: privacyNoticeFacts(config), logger, clock: () => new Date('2026-07-01T09:00:00Z') });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${server.address().port}`;
      const privacy = await fetch(`${url}/privacy`);
      expect(privacy.status).toBe(503);
      expect(privacy.headers.get('cache-control')).toBe('no-store');
      expect(await privacy.text()).toContain('Privacy notice not yet published');
      expect(logger.lines.join('\n')).toContain('privacy.notice-unavailable');
      expect((await fetch(`${url}/terms`)).status).toBe(200);
    } finally {
      server.close();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { type Browser } from 'playwright-core';
import { IncidentStore } from '../../records/incident-store';
import { PupilRegisterStore } from '../../records/pupil-register-store';
import { seedIncident } from '../support/tab-auth';
import { newUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium } from '../support/chromium';

const dsl = newUser('Dsl');
const coordinator = newUser('Coordinator');

describe('subject access from the Incidents tab (headless Chromium)', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp({
      roles: { staff: [dsl, coordinator], dsl: [dsl], coordinator: [coordinator] },
      env: { SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z') },
    });
    const at = '2026-11-01T09:00:00.000Z';
    const row = (externalId: string, forename: string, surname: string) => ({ externalId, forename, surname, yearGroup: '4', registrationGroup: '4B', cohort: '21', userPrincipalName: `21${forename.toLowerCase()}@school.example`, status: 'active' as const, groups: [], createdAt: at, updatedAt: at });
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [row('P-1', 'Marigold', 'Featherstone'), row('P-2', 'Barnaby', 'Quill')]);
    await seedIncident({ incidents: new IncidentStore(app.services.tables), tables: app.services.tables }, app.schoolId, {
      reference: 'ES-2026-0501',
      type: 'cyberbullying',
      involved: [{ kind: 'pupil', pupilId: 'P-1' }, { kind: 'pupil', pupilId: 'P-2' }],
      description: 'Barnaby shared a photo of Marigold without asking.',
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('lets the DSL export a pupil\'s pack, reviewed on screen with marks and printed without what is marked', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await page.goto(`${app.url}/tab/incidents.html?as=${dsl.aadObjectId}`);
    await page.waitForSelector('#sar-form', { timeout: 15_000 }).catch(async (e: Error) => { throw new Error(`${e.message}; status: ${await page.locator('#status').textContent()}`); });
    await page.selectOption('#sar-pupil', 'P-1');
    await page.selectOption('#sar-requested-by', 'parent-or-carer');
    await page.click('#sar-form button[type="submit"]');
    await page.waitForSelector('#sar-frame:not([hidden])', { timeout: 10_000 }).catch(async (e: Error) => { throw new Error(`${e.message}; problems: ${await page.locator('#sar-form .problems').textContent()}`); });
    const frame = page.frameLocator('#sar-frame');
    await expect(frame.locator('h1').textContent()).resolves.toContain('Subject access');
    const marked = frame.locator('.redact[data-redact="other pupil"] .redacted').first();
    await expect(marked.textContent()).resolves.toBe('Barnaby Quill');
    expect(await marked.isVisible()).toBe(true);
    expect(await frame.locator('.review').isVisible()).toBe(true);

    await page.emulateMedia({ media: 'print' });
    expect(await marked.isVisible()).toBe(false);
    expect(await frame.locator('.review').isVisible()).toBe(false);
    // What prints: every text node whose element and ancestors are displayed under print media.
    // (A string, because the tests' TypeScript has no DOM types.)
    const printed = String(
      await frame.locator('body').evaluate(`(() => {
        const body = document.body;
        const shown = (node) => !node || node === body || (!(node instanceof Element && getComputedStyle(node).display === 'none') && shown(node.parentNode));
        const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
        const parts = [];
        for (let n = walker.nextNode(); n; n = walker.nextNode()) if (shown(n.parentNode)) parts.push(n.textContent || '');
        return parts.join(' ').replace(/\\s+/g, ' ');
      })()`),
    );
    expect(printed).toContain('Marigold');
    expect(printed).toContain('[redact: other pupil] shared a photo of Marigold');
    expect(printed).not.toContain('Barnaby');
    expect(printed).not.toContain('Quill');
    await page.close();
  }, 30_000);

  it('shows the coordinator no subject access panel', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/incidents.html?as=${coordinator.aadObjectId}`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 15_000 });
    // The panel is added after /api/me answers; give it time to (wrongly) appear.
    await page.waitForLoadState('networkidle');
    expect(await page.locator('#subject-access').count()).toBe(0);
    await page.close();
  }, 30_000);
});

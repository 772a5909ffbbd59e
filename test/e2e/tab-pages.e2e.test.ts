import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type Browser } from 'playwright-core';
import { IncidentStore } from '../../records/incident-store';
import { PupilRegisterStore } from '../../records/pupil-register-store';
import { createGatewayForFake, GraphFake } from '../support/graph-fake';
import { seedIncident } from '../support/tab-auth';
import { newUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium, waitForTabReady } from '../support/chromium';

const governor = newUser('Governor');
const coordinator = newUser('Coordinator');
const admin = newUser('Admin');

describe('tab pages in headless Chromium (local identity)', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync('test-results', { recursive: true });
    app = await startTestApp({
      roles: { staff: [coordinator], coordinator: [coordinator], governor: [governor], admin: [admin] },
      env: { SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex'), SCHOOL_DOMAIN: 'brambleford.example' },
      // A live (fake) tenant, so the Admin page can apply as well as plan.
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z'), graph: createGatewayForFake().gateway },
    });
    const deps = { incidents: new IncidentStore(app.services.tables), tables: app.services.tables };
    const types = ['cyberbullying', 'cyberbullying', 'cyberbullying', 'inappropriate-website', 'inappropriate-website', 'inappropriate-website', 'misinformation'] as const;
    for (const [i, type] of types.entries()) {
      await seedIncident(deps, app.schoolId, { reference: `ES-2026-03${String(i).padStart(2, '0')}`, type, yearGroups: [i % 2 ? 'Year 3' : 'Year 5'], createdAt: `2026-${i < 4 ? '10' : '03'}-1${i}T09:00:00.000Z` });
    }
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('says so clearly outside Teams without a local identity', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/summary.html`);
    await page.waitForSelector('#dev-as', { timeout: 10_000 });
    await expect(page.locator('#status').textContent()).resolves.toMatch(/Outside Teams/);
    await page.close();
  });

  it('renders the summary with charts and tables for a governor', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1800 } });
    await page.goto(`${app.url}/tab/summary.html?as=${governor.aadObjectId}`);
    await waitForTabReady(page);
    expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('section.panel table').count()).toBeGreaterThanOrEqual(6);
    const text = await page.locator('main').innerText();
    expect(text).toContain('fewer than 3');
    expect(text).not.toMatch(/ES-\d{4}-\d{4}/);
    // Consent coverage: the five areas of the policies, each with its counts (no pupils on this roll, so 0 of 0).
    await expect(page.locator('#photo-and-video-consent #consent-areas tbody tr').count()).resolves.toBe(5);
    await expect(page.locator('#photo-and-video-consent').innerText()).resolves.toContain('Newspapers and other media');
    await page.screenshot({ path: 'test-results/tab-summary.png', fullPage: true });
    await page.evaluate("document.body.className = 'theme-dark'");
    await page.screenshot({ path: 'test-results/tab-summary-dark.png' });
    await page.emulateMedia({ media: 'print' });
    await page.screenshot({ path: 'test-results/tab-summary-print.png', fullPage: true });
    await page.close();
  }, 30_000);

  it('lets the coordinator close an incident from the triage view', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await page.goto(`${app.url}/tab/incidents.html?as=${coordinator.aadObjectId}`);
    await waitForTabReady(page);
    await page.click('a[href="#ES-2026-0300"]');
    await page.waitForSelector('#close-form');
    await page.fill('#close-form textarea[name="decision"]', 'No further action');
    await page.fill('#close-form textarea[name="rationale"]', 'Resolved with the class teacher');
    await page.fill('#close-form textarea[name="outcome"]', 'Apology given');
    await page.click('#close-form button[type="submit"]');
    await page.locator('#detail-status', { hasText: 'closed' }).waitFor({ timeout: 10_000 }).catch(async (e: Error) => { throw new Error(`${e.message}; status: ${await page.locator('#status').textContent()}; detail: ${(await page.locator('main').innerText()).slice(0, 600)}`); });
    expect(await page.locator('#close-form').count()).toBe(0);
    await page.locator('#school-audit-form select').first().waitFor();
    await page.selectOption('#school-audit-form select >> nth=0', 'yes');
    await page.fill('#school-audit-form input[type="date"] >> nth=0', '2026-11-20');
    await page.fill('#school-audit-form input[name$="|role"] >> nth=0', 'E-safety coordinator');
    await page.click('#school-audit-form button[type="submit"]');
    await page.locator('#status', { hasText: 'Audit saved.' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: 'test-results/tab-triage-closed.png', fullPage: true });
    await page.close();
    const stored = await new IncidentStore(app.services.tables).getIncident(app.schoolId, 'ES-2026-0300');
    expect(stored?.status).toBe('closed');
  }, 30_000);

  it('lets an admin upload the roll, see the plan, apply it with progress and get the slips', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const fake = new GraphFake({ seed: 5 });
    fake.seedSchool();
    fake.intercept();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${app.url}/tab/admin.html?as=${admin.aadObjectId}`);
    await waitForTabReady(page);
    expect(await page.locator('#enforcement').innerText()).toMatch(/No audit has run yet/);
    const roll = ['Adno,Forename,Surname,Year,Reg Group', '007701,Perpetua,Wrenfield,4,4W', '007702,Cosmo,Hatherleigh,4,4W', '007703,,Blank,4,4W'].join('\r\n');
    await page.setInputFiles('input[name="csv"]', { name: 'roll.csv', mimeType: 'text/csv', buffer: Buffer.from(roll) });
    await page.click('#plan-button');
    await page.waitForSelector('body[data-plan="shown"]', { state: 'attached', timeout: 15_000 }).catch(async (e: Error) => { throw new Error(`${e.message}; status: ${await page.locator('#status').textContent()}; problems: ${await page.locator('#upload-problems').textContent()}`); });
    expect(await page.locator('#plan-rows tbody tr').count()).toBe(3);
    expect(await page.locator('#plan-rows').innerText()).toContain('22perpetuaw@brambleford.example');
    expect(fake.users.size).toBe(0);
    await page.screenshot({ path: 'test-results/tab-admin-plan.png', fullPage: true });

    await page.click('#apply-button');
    await page.waitForSelector('body[data-applied="done"]', { state: 'attached', timeout: 20_000 }).catch(async (e: Error) => { throw new Error(`${e.message}; status: ${await page.locator('#status').textContent()}; problems: ${await page.locator('#upload-problems').textContent()}`); });
    expect(Number(await page.locator('#progress').getAttribute('value'))).toBe(100);
    expect(await page.locator('#slips-count').textContent()).toBe('2 slips are ready.');
    const slips = await page.frameLocator('#slips-frame').locator('body').innerText();
    expect(slips).toContain('22cosmoh@brambleford.example');
    expect(await page.locator('#print-slips').isVisible()).toBe(true);
    expect(fake.users.size).toBe(2);
    await page.screenshot({ path: 'test-results/tab-admin-applied.png', fullPage: true });
    await page.close();
    expect((await new PupilRegisterStore(app.services.tables).listPupils(app.schoolId)).map((p) => p.userPrincipalName).sort()).toEqual(['22cosmoh@brambleford.example', '22perpetuaw@brambleford.example']);
  }, 40_000);
});

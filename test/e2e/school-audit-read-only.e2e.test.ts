import { randomBytes } from 'node:crypto';
import { type Browser, type Page } from 'playwright-core';
import { SchoolAuditStore } from '../../records/school-audit-store';
import { AUDIT_QUESTIONS, emptyAuditYear } from '../../school/school-audit';
import { newUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium } from '../support/chromium';

const governor = newUser('Governor');
const coordinator = newUser('Coordinator');
const READ_ONLY = 'Governors can read this audit, but only the e-safety coordinator, the DSL or the headteacher can change it.';

/** The annual audit form on the Incidents page: a governor sees it is read-only before typing; the coordinator can edit. */
describe('the annual audit form in headless Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp({
      roles: { staff: [coordinator], coordinator: [coordinator], governor: [governor] },
      env: { SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z') },
    });
    // The coordinator has answered the first question, so the governor has something to read.
    const year = emptyAuditYear(2026);
    year.annualAudit = [{ questionId: AUDIT_QUESTIONS[0]!.id, answer: 'yes', answeredOn: '2026-11-20', role: 'E-safety coordinator', comment: 'Reviewed at FGB' }];
    await new SchoolAuditStore(app.services.tables).saveYear(app.schoolId, year, undefined);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function openAs(user: { aadObjectId: string }): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${app.url}/tab/incidents.html?as=${user.aadObjectId}`);
    await page.locator('#school-audit-form select').first().waitFor({ timeout: 15_000 }).catch(async (e: Error) => { throw new Error(`${e.message}; status: ${await page.locator('#status').textContent()}; errors: ${errors.join(' | ')}; form: ${(await page.locator('#school-audit').innerHTML()).slice(0, 300)}`); });
    return page;
  }

  it('a governor sees the answers, a plain sentence that the form is read-only, every field disabled and no Save button', async () => {
    const page = await openAs(governor);
    const form = page.locator('#school-audit-form');
    await expect(page.locator('#school-audit-read-only').innerText()).resolves.toBe(READ_ONLY);
    // The sentence comes first, before any field the governor could try to type in.
    await expect(form.locator('p').first().getAttribute('id')).resolves.toBe('school-audit-read-only');
    await expect(form.locator('select').first().inputValue()).resolves.toBe('yes');
    await expect(form.locator('input[name$="|comment"]').first().inputValue()).resolves.toBe('Reviewed at FGB');
    const fields = form.locator('input, select, textarea');
    const count = await fields.count();
    expect(count).toBeGreaterThan(20);
    for (let i = 0; i < count; i++) expect(await fields.nth(i).isDisabled()).toBe(true);
    expect(await form.locator('button[type="submit"]').count()).toBe(0);
    // Reading the evidence pack is still open to governors.
    expect(await page.locator('#audit-pack').isEnabled()).toBe(true);
    await page.close();
  }, 30_000);

  it('the coordinator sees no such sentence and can change the answers', async () => {
    const page = await openAs(coordinator);
    const form = page.locator('#school-audit-form');
    expect(await page.locator('#school-audit-read-only').count()).toBe(0);
    expect(await form.locator('select').first().isEnabled()).toBe(true);
    expect(await form.locator('button[type="submit"]').isEnabled()).toBe(true);
    await page.close();
  }, 30_000);
});

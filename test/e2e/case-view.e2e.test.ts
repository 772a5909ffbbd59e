import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type Browser, type Page } from 'playwright-core';
import { IncidentStore } from '../../records/incident-store';
import { PupilRegisterStore } from '../../records/pupil-register-store';
import { seedIncident } from '../support/tab-auth';
import { newUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium } from '../support/chromium';

const reporter = newUser('Reporter');
const dsl = newUser('Dsl');
const head = newUser('Head');

describe('the case view in headless Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync('test-results', { recursive: true });
    app = await startTestApp({
      roles: { staff: [reporter, dsl, head], dsl: [dsl], headteacher: [head] },
      env: { SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      // British Summer Time: 13:30 UTC is 14:30 in London.
      overrides: { clock: () => new Date('2026-07-01T09:00:00Z') },
    });
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [
      {
        externalId: 'p-ivy',
        forename: 'Ivy',
        surname: 'Marchbank',
        yearGroup: '6',
        registrationGroup: '6 Rowan',
        cohort: '20',
        userPrincipalName: '20ivym@school.example',
        status: 'active',
        groups: [],
        createdAt: '2026-01-01T08:00:00.000Z',
        updatedAt: '2026-01-01T08:00:00.000Z',
      },
    ]);
    await seedIncident({ incidents: new IncidentStore(app.services.tables), tables: app.services.tables }, app.schoolId, {
      reference: 'ES-2026-0700',
      type: 'sexual-exploitation',
      audience: 'child-protection',
      childProtection: true,
      involved: [{ kind: 'pupil', pupilId: 'p-ivy' }],
      reporterId: reporter.aadObjectId,
      location: 'Library, laptop 12',
      occurredOn: '2026-06-30',
      occurredAt: '13:10',
      createdAt: '2026-06-30T13:30:00.000Z',
      actionTaken: 'Covered the screen and fetched the DSL.',
    });
    await seedIncident({ incidents: new IncidentStore(app.services.tables), tables: app.services.tables }, app.schoolId, {
      reference: 'ES-2026-0701',
      type: 'cyberbullying',
      involved: [{ kind: 'pupil', pupilId: 'p-ivy' }],
      reporterId: reporter.aadObjectId,
      createdAt: '2026-06-30T10:00:00.000Z',
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function openCase(as: string, reference = 'ES-2026-0700', requested: string[] = []): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(`${app.url}/tab/incidents.html?as=${as}#${reference}`);
    await page.waitForSelector(`body[data-case="${reference}"]`, { state: 'attached', timeout: 15_000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}; status: ${await page.locator('#status').textContent()}`);
    });
    return page;
  }

  it('shows the whole report with UK dates, the pupil from the register, the guidance, and runs a referral and a second-signed close', async () => {
    const page = await openCase(dsl.aadObjectId);
    const detail = await page.locator('#detail').innerText();
    expect(detail).toContain('30 June 2026 at 13:10');
    expect(detail).toContain('30 June 2026, 14:30');
    expect(detail).toContain('Library, laptop 12');
    expect(detail).toContain('Covered the screen and fetched the DSL.');
    expect(detail).toContain('Ivy Marchbank, Year 6, class 6 Rowan');
    expect(detail).toContain('Not yet recorded in CPOMS');
    expect(await page.locator('#detail-cp').count()).toBe(1);
    expect(await page.locator('#guidance').innerText()).toContain('switch off or cover the monitor; do not copy, forward or screenshot the image');
    expect(await page.locator('#suggested').innerText()).not.toMatch(/warning|sanction/i);
    expect(await page.locator('#no-attachments').count()).toBe(1);
    expect(await page.locator('#attachment-form').count()).toBe(0);

    await page.selectOption('#referral-form select[name="to"]', 'ceop');
    await page.fill('#referral-form textarea[name="why"]', 'Image shared by an adult');
    await page.fill('#referral-form input[name="externalReference"]', 'CEOP-55120');
    await page.click('#referral-form button[type="submit"]');
    await page.locator('#referrals', { hasText: 'CEOP-55120' }).waitFor({ timeout: 10_000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}; problems: ${await page.locator('#referral-form .problems').textContent()}`);
    });

    await page.fill('#close-form textarea[name="decision"]', 'Referred to CEOP and the police');
    await page.fill('#close-form textarea[name="rationale"]', 'Police leading');
    await page.fill('#close-form textarea[name="outcome"]', 'Police investigation');
    await page.click('#close-form button[type="submit"]');
    await page.locator('#pending-close').waitFor({ timeout: 10_000 });
    expect(await page.locator('#status').innerText()).toContain('second senior person');
    await page.screenshot({ path: 'test-results/case-view.png', fullPage: true });
    await page.close();

    const second = await openCase(head.aadObjectId);
    await second.click('#confirm-form button[type="submit"]');
    await second.locator('#detail-status', { hasText: 'closed' }).waitFor({ timeout: 10_000 });
    await second.close();
  }, 60_000);

  it('attaches an image as evidence from the case view, and never asks a single school for the trust’s school list', async () => {
    const requested: string[] = [];
    const page = await openCase(dsl.aadObjectId, 'ES-2026-0701', requested);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(700 * 1024, 7)]);
    await page.setInputFiles('#attachment-form input[type="file"]', { name: 'chat.png', mimeType: 'image/png', buffer: png });
    await page.click('#attachment-form button[type="submit"]');
    await page.locator('#attachments', { hasText: 'chat.png' }).waitFor({ timeout: 10_000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}; problems: ${await page.locator('#attachment-form .problems').textContent()}`);
    });
    expect(requested).toContain('/api/me');
    expect(requested).not.toContain('/api/schools');
    await page.close();
  }, 30_000);
});

import { randomBytes } from 'node:crypto';
import { type Browser, type Page } from 'playwright-core';
import { TrainingStore } from '../../records/training-store';
import { newUser, type TeamsUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium, waitForTabReady } from '../support/chromium';

const teacher = newUser('Teacher');
const governor = newUser('Governor');
const coordinator = newUser('Coordinator');

describe('the training page in headless Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  const now = new Date('2026-11-23T09:00:00Z');

  beforeAll(async () => {
    app = await startTestApp({
      roles: { staff: [teacher, coordinator], coordinator: [coordinator], governor: [governor] },
      env: { SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      overrides: { clock: () => now },
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function open(user: TeamsUser, ready = true): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/training.html?as=${user.aadObjectId}`);
    if (ready) await waitForTabReady(page);
    return page;
  }

  it('the coordinator sees who is due, records one course and uploads a CSV, with bad rows named by line', async () => {
    const page = await open(coordinator);
    await expect(page.locator('#due-summary').innerText()).resolves.toBe('3 of 3 people are due for training.');
    await expect(page.locator(`#due tr[data-id="${governor.aadObjectId}"]`).innerText()).resolves.toContain('None on record');
    // People by name (locally, by role title), not by object id.
    await expect(page.locator(`#due tr[data-id="${governor.aadObjectId}"] th`).innerText()).resolves.toBe(`Governor (…${governor.aadObjectId.slice(-4)})`);

    await page.selectOption('#person', teacher.aadObjectId);
    await page.fill('#course', 'Online safety update');
    await page.fill('#provider', 'Local authority');
    await page.fill('#completed-on', '2026-09-10');
    await page.click('#record-button');
    await page.locator('#record-result', { hasText: 'Recorded.' }).waitFor();
    await page.locator(`#due tr[data-id="${teacher.aadObjectId}"] .status-cell`, { hasText: 'Up to date' }).waitFor();
    await expect(page.locator(`#due tr[data-id="${teacher.aadObjectId}"]`).innerText()).resolves.toContain('10 September 2027');
    await expect(page.locator('#records tbody').innerText()).resolves.toContain('10 September 2026');

    const csv = ['aad_object_id,course,provider,completed_on', `${governor.aadObjectId},Governor online safety,NGA,2026-10-01`, 'not-an-id,Something,Someone,2026-10-01'].join('\n');
    await page.setInputFiles('#csv-file', { name: 'training.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.click('#csv-button');
    await page.locator('#csv-result', { hasText: '1 recorded, 0 already on record, 1 rows not recorded.' }).waitFor();
    await expect(page.locator('#csv-problems').innerText()).resolves.toContain('Line 3: aadObjectId must be the Entra object id');
    await page.locator('#due-summary', { hasText: '1 of 3 people are due for training.' }).waitFor();
    await page.close();

    const stored = await new TrainingStore(app.services.tables).listTraining(app.schoolId);
    expect(stored.map((r) => [r.aadObjectId, r.course, r.completedOn]).sort()).toEqual([
      [governor.aadObjectId, 'Governor online safety', '2026-10-01'],
      [teacher.aadObjectId, 'Online safety update', '2026-09-10'],
    ].sort());
  });

  it('a teacher is told the register is kept by others and sees none of it', async () => {
    const page = await open(teacher, false);
    await page.locator('#status', { hasText: 'kept by the e-safety coordinator' }).waitFor();
    await expect(page.locator('#training').isHidden()).resolves.toBe(true);
    await page.close();
  });
});

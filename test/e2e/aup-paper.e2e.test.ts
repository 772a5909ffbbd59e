import { randomBytes } from 'node:crypto';
import { type Browser } from 'playwright-core';
import { AupStore } from '../../records/aup-store';
import { PupilRegisterStore } from '../../records/pupil-register-store';
import { newUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium, waitForTabReady } from '../support/chromium';

const NOW = new Date('2026-11-23T09:00:00Z');
const coordinator = newUser('Coordinator');
const teacher = newUser('Teacher');
const pupil = newUser('Paper Pupil');

describe('the paper AUP page in headless Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp({
      roles: { staff: [coordinator, teacher], coordinator: [coordinator], pupil: [pupil] },
      env: { SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      overrides: { clock: () => NOW },
    });
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [
      { externalId: 'P201', forename: 'Paper', surname: 'Pupil', cohort: '2026', userPrincipalName: '2026paperp@school.example', userId: pupil.aadObjectId, status: 'active', groups: [], createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() },
    ]);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("the coordinator records a pupil's paper form, sees a problem named, and records a CSV", async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/aup.html?as=${coordinator.aadObjectId}`);
    await waitForTabReady(page);
    await page.selectOption('#document', 'pupil-ks1-aup');
    await page.selectOption('#signed-by', 'pupil');
    await page.fill('#upn', '2026paperp@school.example');
    await page.fill('#signed-on', '2026-11-20');
    await page.click('#record');
    await page.locator('#one-problems', { hasText: 'parent or carer' }).waitFor();
    await page.fill('#name', 'A Carer');
    await page.click('#record');
    await page.locator('#one-result', { hasText: /^Recorded/ }).waitFor();
    expect(await new AupStore(app.services.tables).getAcknowledgement(app.schoolId, 'pupil-ks1-aup', 1, pupil.aadObjectId)).toMatchObject({ channel: 'paper', parentName: 'A Carer' });

    await page.selectOption('#signed-by', 'staff');
    await expect(page.locator('#upn-field').isHidden()).resolves.toBe(true);
    const csv = ['document_id,version,signed_by,upn,aad_object_id,name,signed_on', 'visitor-aup,1,visitor,,,Dee Visitor,2026-11-19', 'visitor-aup,7,visitor,,,Old Form,2026-11-19'].join('\n');
    await page.setInputFiles('#csv-file', { name: 'forms.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.click('#csv-record');
    await page.locator('#csv-result', { hasText: 'recorded' }).waitFor();
    await expect(page.locator('#csv-result').innerText()).resolves.toBe('1 recorded, 0 already recorded, 1 not recorded.');
    await expect(page.locator('#csv-problems tbody').innerText()).resolves.toContain('not the current version');
    await page.close();
  });

  it('tells a teacher the page is not theirs', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/aup.html?as=${teacher.aadObjectId}`);
    await page.locator('#status', { hasText: 'coordinator' }).waitFor({ timeout: 15_000 });
    await expect(page.locator('#aup').isHidden()).resolves.toBe(true);
    await page.close();
  });
});

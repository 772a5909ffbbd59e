import { randomBytes } from 'node:crypto';
import { type Browser, type Page } from 'playwright-core';
import { PupilRegisterStore, type PupilRecord } from '../../records/pupil-register-store';
import { newUser, type TeamsUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium, waitForTabReady } from '../support/chromium';

const teacher = newUser('Teacher');
const coordinator = newUser('Coordinator');

function pupil(externalId: string, forename: string, surname: string): PupilRecord {
  const at = '2026-09-01T08:00:00.000Z';
  return { externalId, forename, surname, yearGroup: '2', registrationGroup: '2P', cohort: '24', userPrincipalName: `24${forename.toLowerCase()}@hollin.example`, status: 'active', groups: [], createdAt: at, updatedAt: at };
}

describe('the consent page in headless Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTestApp({
      roles: { staff: [teacher, coordinator], coordinator: [coordinator] },
      env: { SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z') },
    });
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [pupil('P-NELL', 'Nell', 'Oakenshaw')]);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function open(user: TeamsUser): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/consent.html?as=${user.aadObjectId}`);
    await waitForTabReady(page);
    return page;
  }

  async function choose(page: Page): Promise<void> {
    await page.fill('#find-text', 'nell');
    await page.click('#find-button');
    await page.click('#found button', { timeout: 10_000 });
    await page.waitForSelector('body[data-pupil="P-NELL"]', { state: 'attached' });
  }

  it('the coordinator records a form and withdraws one area, which a teacher then sees as No at once', async () => {
    const asCoordinator = await open(coordinator);
    await choose(asCoordinator);
    await asCoordinator.fill('#signed-on', '2026-09-04');
    await asCoordinator.fill('#given-by', 'Hester Oakenshaw');
    await asCoordinator.selectOption('select[name="area-website-social-media"]', 'yes');
    await asCoordinator.selectOption('select[name="area-media"]', 'yes');
    await asCoordinator.click('#record-button');
    await asCoordinator.locator('#record-result', { hasText: 'Recorded 2 answer(s).' }).waitFor();
    await asCoordinator.locator('#areas tr[data-area="media"] td.yes').waitFor();
    await asCoordinator.click('#areas tr[data-area="media"] button.withdraw');
    await asCoordinator.locator('#areas tr[data-area="media"]', { hasText: 'Withdrawn 23 November 2026' }).waitFor();
    await asCoordinator.locator('#history tbody tr', { hasText: 'Withdrawn' }).waitFor();
    await asCoordinator.close();

    const asTeacher = await open(teacher);
    await choose(asTeacher);
    await asTeacher.locator('#areas tr[data-area="website-social-media"]', { hasText: 'Given 4 September 2026' }).waitFor();
    await expect(asTeacher.locator('#areas tr[data-area="media"] td').first().innerText()).resolves.toBe('No');
    await expect(asTeacher.locator('#record').isVisible()).resolves.toBe(false);
    await expect(asTeacher.content()).resolves.not.toContain('Hester Oakenshaw');
    await asTeacher.close();
  });
});

import { randomBytes } from 'node:crypto';
import { type Browser, type Page } from 'playwright-core';
import { newUser, type TeamsUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';
import { launchChromium, waitForTabReady } from '../support/chromium';

const teacher = newUser('Teacher');
const coordinator = newUser('Coordinator');

describe('the filtering page in headless Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let now = new Date('2026-11-23T09:00:00Z');

  beforeAll(async () => {
    app = await startTestApp({
      roles: { staff: [teacher, coordinator], coordinator: [coordinator] },
      env: { SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      overrides: { clock: () => now },
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function open(user: TeamsUser): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${app.url}/tab/filtering.html?as=${user.aadObjectId}`);
    await waitForTabReady(page);
    return page;
  }

  it('a teacher asks for a temporary exception; the coordinator approves it and triages a provider alert; on its date the exception is due for reversal', async () => {
    const asTeacher = await open(teacher);
    await asTeacher.fill('#site', 'https://www.vikings.example/longships');
    await asTeacher.fill('#reason', 'Year 5 Viking topic videos');
    await asTeacher.fill('#until', '2026-11-27');
    await asTeacher.click('#ask-button');
    await asTeacher.locator('#log tbody tr', { hasText: 'Waiting for a decision' }).waitFor();
    // The person who asked cannot decide: the buttons answer with the server's refusal.
    await asTeacher.fill('#log tbody tr input.why', 'I approve my own');
    await asTeacher.click('#log tbody tr button.approve');
    await asTeacher.locator('#log tbody tr .problems', { hasText: 'never by the person who asked' }).waitFor();
    await asTeacher.close();

    const asCoordinator = await open(coordinator);
    await asCoordinator.fill('#log tbody tr input.why', 'Needed for one week of the topic');
    await asCoordinator.click('#log tbody tr button.approve');
    await asCoordinator.locator('#log tbody tr .status-cell', { hasText: /^Approved$/ }).waitFor();
    await expect(asCoordinator.locator('#log tbody tr').first().innerText()).resolves.toContain('27 November 2026');
    await asCoordinator.close();

    // The coordinator uploads the provider's export and triages an alert.
    const alerts = await open(coordinator);
    const csv = ['time,user,url,category,action', '2026-11-22T10:15:00Z,someone@school.example,games.example,Games,Blocked', '2026-11-22T11:30:00Z,other@school.example,chat.example,Chat,Flagged'].join('\n');
    await alerts.setInputFiles('#alerts-file', { name: 'export.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await alerts.click('#alerts-button');
    await alerts.locator('#alerts-result', { hasText: '2 new alerts' }).waitFor();
    const games = alerts.locator('#alerts tbody tr', { hasText: 'games.example' });
    await games.locator('input.reason').fill('Blocked as intended');
    await games.locator('button.no-action').click();
    await alerts.locator('#alerts tbody tr', { hasText: 'No action: Blocked as intended' }).waitFor();
    // "Open an incident" opens a real one, of the type picked in the row, and the page shows its reference.
    const chat = alerts.locator('#alerts tbody tr', { hasText: 'chat.example' });
    await expect(chat.locator('select.incident-type').inputValue()).resolves.toBe('filtering-breach');
    await chat.locator('button.incident').click();
    await alerts.locator('#alerts tbody tr', { hasText: /Incident ES-2026-\d{4} opened/ }).waitFor();
    await expect(alerts.locator('#status').innerText()).resolves.toMatch(/Incident ES-2026-\d{4} opened/);
    await alerts.close();

    now = new Date('2026-11-27T08:00:00Z');
    const later = await open(coordinator);
    await expect(later.locator('#log tbody tr .status-cell').innerText()).resolves.toBe('Due for reversal');
    await expect(later.locator('#due').innerText()).resolves.toContain('1 temporary exception');
    await later.close();
  });
});

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { schoolDate } from '../../school/incident-submission';
import { formatUkDate } from '../../school/uk-dates';
import { startPlayground, type RunningPlayground } from '../support/playground';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * What a person does after `npm start`, through the Microsoft 365 Agents Playground's own web UI
 * (docs/agents-playground.md): type /report, fill in the card, press "Submit report", read the
 * reference. The protocol itself is covered by report.e2e.test.ts; this test proves the pieces fit:
 * the Playground's config file, the local roles file, the card as the Playground renders it, and
 * the Universal Action round trip. Only loopback is reached: the browser's requests elsewhere
 * (the Playground's web fonts) are aborted.
 */

const root = join(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(root, 'test-results', 'playground-report.png');
const FAILURE_SCREENSHOT = join(root, 'test-results', 'playground-failure.png');
/** How long the bot and the Playground get to show a reply. Typical: under a second. */
const REPLY_TIMEOUT_MS = 15_000;
/** The page is one 9 MB script; loading it takes about 4 s on an idle machine. */
const PAGE_LOAD_TIMEOUT_MS = 20_000;

/**
 * Every selector, in one place. They go by what a person sees (roles and accessible names), except
 * where the Playground offers nothing better.
 */
const ui = {
  /** The chat's "Type a message..." box: a Lexical editor with no accessible name. */
  compose: (page: Page) => page.locator('[data-lexical-editor="true"]'),
  /** The bot's welcome (its answer to the installationUpdate the Playground sends on every page load): the chat is live. */
  welcome: (page: Page) => page.getByText('I help the school keep children safe online. You can send me:', { exact: true }).first(),
  /** The /report card. Every Adaptive Cards renderer puts a card in an element with class `ac-adaptiveCard`. */
  reportCard: (page: Page) => page.locator('.ac-adaptiveCard').filter({ hasText: 'Report an e-safety concern' }),
  /** Input.Date: a Fluent DatePicker that also takes typed text; its name comes from the card's label. */
  date: (card: Locator) => card.getByRole('combobox', { name: /Date of the incident/ }),
  /** Input.ChoiceSet "involved" (filtered, multi-select). */
  involved: (card: Locator) => card.getByRole('combobox', { name: /Who was involved/ }),
  /** A multi-select ChoiceSet opens a menu of checkbox items (in a portal outside the card), not a listbox. */
  involvedMenu: (page: Page) => page.getByRole('menu'),
  involvedChoice: (page: Page, title: string) => page.getByRole('menuitemcheckbox', { name: title, exact: true }),
  /** Input.ChoiceSet "incidentType" (compact, single): a combobox whose options open in a listbox portal. */
  type: (card: Locator) => card.getByRole('combobox', { name: /Type of incident/ }),
  typeChoice: (page: Page, title: string) => page.getByRole('option', { name: title, exact: true }),
  /** Input.Text "description" (multiline): a textarea named by its label. */
  description: (card: Locator) => card.getByRole('textbox', { name: /What happened/ }),
  /** The card's Action.Execute. */
  submit: (card: Locator) => card.getByRole('button', { name: 'Submit report' }),
  /** The confirmation card that replaces the report card in place. */
  recordedCard: (page: Page) => page.locator('.ac-adaptiveCard').filter({ hasText: /Concern recorded: ES-\d{4}-\d{4,}/ }),
};

/** The Entra object id of the Playground's `currentUser` (the DSL), read from the config file it loads, so the test follows that file. */
function playgroundCurrentUserId(): string {
  const yml = readFileSync(join(root, '.m365agentsplayground.yml'), 'utf8');
  const block = /^currentUser:\r?\n((?:[ \t]+\S.*\r?\n)+)/m.exec(yml)?.[1] ?? '';
  const aadObjectId = /^[ \t]+aadObjectId:[ \t]*(\S+)/m.exec(block)?.[1];
  if (!aadObjectId) throw new Error('Could not read currentUser.aadObjectId from .m365agentsplayground.yml.');
  return aadObjectId;
}

const isLoopback = (url: string) => /^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url);

describe('the Agents Playground round trip', () => {
  const reporterId = playgroundCurrentUserId();
  let app: TestApp | undefined;
  let playground: RunningPlayground | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is missing (${CHROMIUM}): this test drives the Agents Playground's web page with it. ` +
          'Install it with `apt-get install -y chromium` (.ci/run does this on CI machines).',
      );
    }
    // The roles `npm start` uses, so the Playground's current user is what a person trying the app would be.
    app = await startTestApp({ roles: {}, env: { ROLES_FILE: join(root, 'config', 'roles.local.json') } });
    playground = await startPlayground({ botEndpoint: `${app.url}/api/messages` });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // The school's time zone, so the date typed is read as the same day the server checks against.
    context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/London', viewport: { width: 1280, height: 1000 } });
    await context.route('**/*', (route) => (isLoopback(route.request().url()) ? route.continue() : route.abort()));
  }, 30_000);

  afterAll(async () => {
    // Each step runs even if an earlier one fails, so nothing is left running.
    const steps = [() => browser?.close(), () => playground?.stop(), () => app?.close()];
    const errors: unknown[] = [];
    for (const step of steps) await Promise.resolve().then(step).catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  }, 20_000);

  it('when the current user sends /report, fills in the card and presses Submit report, shows the reference and stores the concern as theirs', async () => {
    const page = await context!.newPage();
    page.setDefaultTimeout(10_000);
    // Two days ago in the school's calendar: never in the future, whatever the hour.
    const occurredOn = schoolDate(new Date(Date.now() - 2 * 86_400_000));
    const description = 'A pupil opened a video site with a violent clip during a lesson.';
    try {
      await page.goto(playground!.url, { timeout: PAGE_LOAD_TIMEOUT_MS });
      await ui.welcome(page).waitFor({ timeout: REPLY_TIMEOUT_MS });

      await ui.compose(page).click();
      await page.keyboard.type('/report');
      await page.keyboard.press('Enter');
      const card = ui.reportCard(page);
      await card.waitFor({ timeout: REPLY_TIMEOUT_MS });

      // Typed as ISO text and committed with Tab, which the picker parses (clicking would open its calendar).
      await ui.date(card).fill(occurredOn);
      await ui.date(card).press('Tab');

      await ui.involved(card).click();
      await ui.involvedChoice(page, 'A pupil who is not in this list').click();
      await page.keyboard.press('Escape');
      await ui.involvedMenu(page).waitFor({ state: 'hidden' });

      await ui.type(card).click();
      await ui.typeChoice(page, 'Inappropriate website accessed').click();

      await ui.description(card).fill(description);
      const yearBefore = schoolDate(new Date()).slice(0, 4);
      await ui.submit(card).click();

      const recorded = ui.recordedCard(page);
      await recorded.waitFor({ timeout: REPLY_TIMEOUT_MS }).catch(async () => {
        const shown = (await card.innerText().catch(() => '(no card)')).replace(/\n+/g, ' | ');
        throw new Error(`No confirmation card within ${REPLY_TIMEOUT_MS} ms. The report card shows: ${shown}`);
      });
      const yearAfter = schoolDate(new Date()).slice(0, 4);
      const text = await recorded.innerText();
      const [reference, year] = /ES-(\d{4})-\d{4,}/.exec(text) ?? [];
      expect(reference).toBeDefined();
      expect([yearBefore, yearAfter]).toContain(year);
      expect(text).toContain('Inappropriate website accessed');
      // The card says the date in words, the UK way (school/uk-dates.ts).
      expect(text).toContain(formatUkDate(occurredOn));
      mkdirSync(join(root, 'test-results'), { recursive: true });
      await recorded.screenshot({ path: SCREENSHOT });

      const stored = await app!.services.report.incidents.getIncident(app!.schoolId, reference!);
      expect(stored).toMatchObject({
        reference,
        reporterId,
        type: 'inappropriate-website',
        occurredOn,
        involved: [{ kind: 'pupil-unlisted' }],
        description,
        status: 'open',
      });
    } catch (error) {
      mkdirSync(join(root, 'test-results'), { recursive: true });
      await page.screenshot({ path: FAILURE_SCREENSHOT, fullPage: true }).catch(() => undefined);
      (error as Error).message += `\nPage: ${FAILURE_SCREENSHOT}\nPlayground log: ${playground?.logFile}`;
      throw error;
    }
  }, 30_000);
});

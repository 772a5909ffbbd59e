import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (apt), as `command -v chromium` finds it; browser downloads do not work here. */
export const CHROMIUM = findChromium();

/** Flags for a headless browser that reaches nothing beyond loopback by itself. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function findChromium(): string {
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // Not on PATH: fall back to Debian's path, which launchChromium names when it is missing.
  }
  return '/usr/bin/chromium';
}

/** Starts headless Chromium, or fails with the command that installs it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with "sudo apt-get install chromium" to run the browser tests.`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Waits until a tab page says it is ready (`body[data-ready]`), failing with what its status line says otherwise. */
export async function waitForTabReady(page: Page, timeout = 15_000): Promise<void> {
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout }).catch(async (e: Error) => {
    throw new Error(`${e.message}; status: ${await page.locator('#status').textContent()}`);
  });
}

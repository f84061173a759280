import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import puppeteer, { Browser, Page } from 'puppeteer-core';
import { pollUntil } from './poll';

/** Where the Debian `chromium` package puts the browser; CHROMIUM_PATH overrides it. */
const CHROMIUM_PATHS = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Screenshots of browser tests go here (not committed). */
export const ARTIFACTS_DIR = resolve(__dirname, '..', 'artifacts');

/**
 * A headless Chromium from the system package (scripts/ensure-test-tools.sh installs it). No
 * sandbox: the tests run as root in a container, and only ever load pages from 127.0.0.1.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = CHROMIUM_PATHS.find((path) => path && existsSync(path));
  if (!executablePath) throw new Error('no Chromium found: install the chromium package (or set CHROMIUM_PATH)');
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
  });
}

/** Writes a full-page PNG to test/artifacts/<dir>/<name>.png and returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const folder = join(ARTIFACTS_DIR, dir);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${name}.png`) as `${string}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The text of the first element matching `selector`, as the user sees it (textContent), or undefined. */
export async function textOf(page: Page, selector: string): Promise<string | undefined> {
  const element = await page.$(selector);
  if (!element) return undefined;
  try {
    return (await element.evaluate((node) => node.textContent)) ?? '';
  } finally {
    await element.dispose();
  }
}

/** Waits until the element's text matches, and returns it. */
export function waitForText(
  page: Page,
  selector: string,
  expected: string | RegExp,
  timeoutMs = 20_000,
): Promise<string> {
  return pollUntil(
    async () => {
      const text = await textOf(page, selector);
      if (text === undefined) return undefined;
      return (typeof expected === 'string' ? text === expected : expected.test(text)) ? text : undefined;
    },
    { timeoutMs, intervalMs: 50, message: `${selector} never showed ${String(expected)}` },
  );
}

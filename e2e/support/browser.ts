/**
 * The browser the dashboard tests drive: Debian's Chromium (/usr/bin/chromium) through
 * playwright-core, headless, with no background traffic; and a page that records its console
 * errors and uncaught exceptions for the test to assert on.
 */
import { type Browser, chromium, type Page } from 'playwright-core';

/** Launches the system Chromium headless (never a downloaded browser). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A new page of `viewport` and the list its console errors and page errors are appended to. */
export async function watchedPage(
  browser: Browser,
  viewport: { width: number; height: number },
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { page, problems };
}

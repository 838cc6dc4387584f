/**
 * Headless Chromium for the dashboard's browser tests (playwright-core against the system
 * Chromium): whether it can run, and one browser per spec file whose pages open at a 1400×900
 * viewport, log page errors, and are closed together. Owns the browser and its pages; the stack
 * under test comes from @pulse/test-support (`startBuiltBackend`).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { waitFor } from '@pulse/test-support';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(__dirname, '..', 'screenshots');
const VIEWPORT = { width: 1400, height: 900 };

/**
 * Whether the browser tests can run. Without Chromium they are skipped with
 * one line, except on CI (`CI=true`), where a missing browser is a failure.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'] === 'true') return true; // let launch fail loudly
  // One plain line (console.log in Jest adds a stack trace).
  process.stderr.write('chromium not installed: apt-get install -y chromium\n');
  return false;
}

/** `describe`, or `describe.skip` when Chromium is missing (see chromiumAvailable). */
export const describeInBrowser = chromiumAvailable() ? describe : describe.skip;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface BrowserSession {
  /** Every page opened so far, in order. */
  pages: Page[];
  /**
   * Content-Security-Policy violations any page reported so far. `close()` fails when there is
   * one: every browser test doubles as a check that the dashboard runs under Pulse's CSP.
   */
  cspViolations: string[];
  /** A page in its own context, `setup` run before it navigates to `baseUrl + path`. */
  open(path: string, setup?: (page: Page) => Promise<void>): Promise<Page>;
  /**
   * A screenshot into e2e/screenshots/<name>; `mask` boxes are painted over (a secret on the page
   * must not end up in a committed picture, useless or not).
   */
  shot(page: Page, name: string, mask?: Locator[]): Promise<Buffer>;
  close(): Promise<void>;
}

export async function startBrowserSession(baseUrl: string): Promise<BrowserSession> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const browser = await launchChromium();
  const pages: Page[] = [];
  const cspViolations: string[] = [];
  return {
    pages,
    cspViolations,
    open: async (path, setup) => {
      const context = await browser.newContext({ viewport: VIEWPORT });
      // The browser fires `securitypolicyviolation` for each refused inline style or script;
      // this listener, added through DevTools, is not itself subject to the page's CSP.
      await context.addInitScript(() =>
        document.addEventListener('securitypolicyviolation', (event) =>
          console.error(`[csp] ${event.violatedDirective} ${event.blockedURI || 'inline'}`),
        ),
      );
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`[page] ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' && message.text().startsWith('[csp] '))
          cspViolations.push(`${page.url()}: ${message.text().slice(6)}`);
      });
      if (setup) await setup(page);
      await page.goto(`${baseUrl}${path}`);
      pages.push(page);
      return page;
    },
    shot: (page, name, mask) =>
      page.screenshot({ path: join(SCREENSHOTS, name), mask, maskColor: '#cbd5e1' }),
    close: async () => {
      for (const page of pages)
        await page
          .context()
          .close()
          .catch(() => undefined);
      await browser.close();
      if (cspViolations.length > 0)
        throw new Error(`the dashboard broke its CSP:\n${cspViolations.join('\n')}`);
    },
  };
}

/** The first match's attribute. */
export function attr(page: Page, selector: string, name: string): Promise<string | null> {
  return page.locator(selector).first().getAttribute(name);
}

/**
 * A field as a screen reader announces its state: `invalid` from `aria-invalid`, `description`
 * the text of the elements its `aria-describedby` names, in order (an id not on the page, or on
 * it twice, throws: a description that points nowhere is a bug, not an empty one).
 */
export function fieldState(field: Locator): Promise<{ invalid: boolean; description: string }> {
  return field.evaluate((el) => {
    const ids = (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
    const texts = ids.map((id) => {
      const found = document.querySelectorAll(`[id="${id}"]`);
      if (found.length !== 1)
        throw new Error(`aria-describedby names #${id}: ${found.length} found`);
      return (found[0].textContent ?? '').replace(/\s+/g, ' ').trim();
    });
    return { invalid: el.getAttribute('aria-invalid') === 'true', description: texts.join(' ') };
  });
}

/** Until the connection indicator says connected (over `transport`, when given). */
export function waitConnected(page: Page, transport?: string): Promise<boolean> {
  return waitFor(
    async () =>
      (await attr(page, '.conn', 'data-phase')) === 'connected' &&
      (!transport || (await attr(page, '.conn', 'data-transport')) === transport),
    {
      timeoutMs: 30_000,
      // The restart test times the reconnection with this wait: keep the 200 ms it was written for.
      intervalMs: 200,
      message: `the page to be connected${transport ? ` over ${transport}` : ''}`,
    },
  );
}

import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import type { Page } from 'playwright-core';
import { BrowserSession, describeInBrowser, startBrowserSession } from './support/browser';
import { alwaysFiringRule, rulesFile } from './support/rules';
import { authEnv, createUser, signIn, signOut } from './support/auth';

/**
 * Sign-in end to end, on a first start (no users) with anonymous access off: the admin account
 * created through /setup, users made by the admin, a viewer who cannot acknowledge, an
 * operator who can, signing out, the wall that never shows a sign-in form, and the header and
 * its alerts drawer on a desktop and a phone, and the Screens page on a phone. A rule that
 * always fires on the first simulated device (a power meter) gives every run an alert.
 */
const RULE = alwaysFiringRule('e2e-always', 'E2E always firing');
/**
 * A second alert on the same device that nobody acknowledges, with a long name (the message
 * starts with it): the header drawer's rows keep an Acknowledge button and a message to cut.
 */
const DRAWER_RULE = alwaysFiringRule(
  'e2e-drawer',
  'E2E drawer row whose supply voltage message is long enough to need cutting on any screen',
  'major',
);
const ADMIN_PASSWORD = 'first-admin-password';

/** What a person sees of the open header drawer: its box, its rows' Acknowledge buttons and messages. */
async function drawerLayout(page: Page) {
  await page.getByTestId('alert-summary').click();
  await page.locator('[data-testid=alert-drawer] [data-testid=ack]').first().waitFor();
  return page.evaluate(() => {
    const drawer = document.querySelector('[data-testid=alert-drawer]') as HTMLElement;
    const box = (el: Element) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    };
    return {
      viewport: innerWidth,
      page: document.documentElement.scrollWidth,
      drawer: box(drawer),
      drawerScroll: { scrollWidth: drawer.scrollWidth, clientWidth: drawer.clientWidth },
      buttons: Array.from(drawer.querySelectorAll('[data-testid=ack]')).map((b) => ({
        text: b.textContent?.trim() ?? '',
        scrollWidth: b.scrollWidth,
        clientWidth: b.clientWidth,
        ...box(b),
      })),
      lines: Array.from(drawer.querySelectorAll('.alert-line')).map((l) => ({
        scrollWidth: l.scrollWidth,
        clientWidth: l.clientWidth,
      })),
    };
  });
}

/** The form's submit button is drawn as one: filled with the accent, its text readable on it. */
async function expectFilledButton(page: Page, testId: string): Promise<void> {
  const colours = await page.getByTestId(testId).evaluate((button) => {
    const style = getComputedStyle(button);
    const probe = document.createElement('span');
    probe.style.color = 'var(--accent)';
    document.body.append(probe);
    const accent = getComputedStyle(probe).color;
    probe.remove();
    return { background: style.backgroundColor, text: style.color, accent };
  });
  expect(colours.background).toBe(colours.accent);
  expect(colours.text).not.toBe(colours.background);
}

describeInBrowser('sign-in and roles in a real browser against the real stack', () => {
  let backend: Backend;
  let session: BrowserSession;
  let page: Page;
  const users: Record<string, string> = {};
  const rules = rulesFile([RULE, DRAWER_RULE]);
  const data = authEnv({ seedAdmin: false });
  const alertRow = () =>
    page.locator('.alert-row[data-device-id="sim-001"][data-rule-id="e2e-always"]').first();

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { ...data.env, ANONYMOUS_ROLE: 'none', ALERT_RULES_FILE: rules.file, SIMULATOR_DEVICES: '2' },
    );
    session = await startBrowserSession(backend.httpUrl);
  });

  afterAll(async () => {
    await session?.close();
    await backend?.kill();
    rules.remove();
    data.remove();
  });

  it('sends the first visitor to /setup, where the admin account is created', async () => {
    page = await session.open('/alerts');
    await page.getByTestId('setup-form').waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).pathname).toBe('/setup');
    // On loopback no setup code is needed.
    expect(await page.getByTestId('setup-code').count()).toBe(0);
    expect(await page.getByTestId('setup-username').inputValue()).toBe('admin');
    await page.getByTestId('setup-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('setup-confirm').fill(ADMIN_PASSWORD);
    await expectFilledButton(page, 'setup-submit');
    await session.shot(page, 'setup.png');
    await page.getByTestId('setup-submit').click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.locator('[data-testid=user-name]', { hasText: 'admin' }).waitFor();
    expect(await page.getByTestId('user-role').textContent()).toBe('admin');
    // The page is done: a second setup is refused by the server.
    const again = await page.evaluate(
      async () =>
        (
          await fetch('/api/auth/setup', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'mallory', password: 'mallory-password' }),
          })
        ).status,
    );
    expect(again).toBe(409);
    users['op-e2e'] = await createUser(page, 'op-e2e', 'operator');
    users['viewer-e2e'] = await createUser(page, 'viewer-e2e', 'viewer');
  });

  it('signs out to /login; every page but the wall asks for a sign-in', async () => {
    await signOut(page);
    await page.getByTestId('login-form').waitFor();
    await expectFilledButton(page, 'login-submit');
    await page.goto(`${backend.httpUrl}/devices/sim-001`);
    await page.getByTestId('login-form').waitFor();
    expect(new URL(page.url()).searchParams.get('returnUrl')).toBe('/devices/sim-001');

    const wall = await session.open('/wall?cols=2');
    await wall.getByTestId('wall-locked').waitFor({ timeout: 10_000 });
    expect(await wall.getByTestId('login-form').count()).toBe(0);
    expect(new URL(wall.url()).pathname).toBe('/wall');
    expect(await wall.getByTestId('wall-locked').textContent()).toContain(
      'This screen needs to be paired or signed in',
    );
    await session.shot(wall, 'wall-locked.png');
  });

  it('shows a viewer the alert but no way to acknowledge it', async () => {
    await page.goto(`${backend.httpUrl}/alerts`);
    await page.waitForURL((url) => url.pathname === '/login');
    await signIn(page, 'viewer-e2e', users['viewer-e2e']);
    expect(new URL(page.url()).pathname).toBe('/alerts');
    await alertRow().waitFor({ timeout: 15_000 });
    const ack = alertRow().getByTestId('ack');
    expect(await ack.isDisabled()).toBe(true);
    expect(await alertRow().locator('.ack-disabled').getAttribute('title')).toBe(
      'Signed in as viewer: only operators and admins acknowledge',
    );
    expect(await page.getByTestId('ack-identity').textContent()).toContain('cannot acknowledge');
    // The Screens page is for admins: no link to it.
    expect(await page.getByTestId('nav-screens').count()).toBe(0);
    await session.shot(page, 'alerts-viewer.png');
    await signOut(page);
  });

  it('lets an operator acknowledge, recorded under the signed-in name', async () => {
    await page.goto(`${backend.httpUrl}/alerts`);
    await page.waitForURL((url) => url.pathname === '/login');
    await signIn(page, 'op-e2e', users['op-e2e']);
    await alertRow().waitFor({ timeout: 15_000 });
    await alertRow().getByTestId('ack').click();
    await waitFor(async () => (await alertRow().getAttribute('data-state')) === 'acknowledged', {
      timeoutMs: 5000,
      message: 'the row to show acknowledged',
    });
    expect(await alertRow().textContent()).toContain('acknowledged by op-e2e');
  });

  it('fits every row of the header drawer, Acknowledge button whole, inside it at 1400 px', async () => {
    await page.goto(`${backend.httpUrl}/`);
    const layout = await drawerLayout(page);
    // No sideways scrollbar on the drawer.
    expect(layout.drawerScroll.scrollWidth).toBeLessThanOrEqual(layout.drawerScroll.clientWidth);
    expect(layout.buttons.length).toBeGreaterThanOrEqual(1);
    for (const button of layout.buttons) {
      expect(button.text).toBe('Acknowledge');
      expect(button.scrollWidth).toBeLessThanOrEqual(button.clientWidth);
      expect(button.left).toBeGreaterThanOrEqual(layout.drawer.left);
      expect(button.right).toBeLessThanOrEqual(layout.drawer.right);
    }
    await session.shot(page, 'alert-drawer-desktop.png');
    await page.keyboard.press('Escape');
  });

  it('keeps the header on a 390 px phone screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${backend.httpUrl}/`);
    await page.locator('[data-testid=user-name]', { hasText: 'op-e2e' }).waitFor();
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      header: document.querySelector('.app-bar')?.scrollWidth ?? 0,
      signOut: document.querySelector('[data-testid=sign-out]')?.getBoundingClientRect().right,
    }));
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.header).toBeLessThanOrEqual(390);
    expect(widths.signOut).toBeLessThanOrEqual(390);
    // Nothing in the bar is drawn over anything else (the links, the alert count, the
    // connection, the user).
    const overlaps = await page.evaluate(() => {
      const parts = Array.from(
        document.querySelectorAll(
          '.app-bar .brand, .app-bar nav a, .app-bar app-alert-summary > *, .app-bar .conn, .app-bar app-user-menu > *',
        ),
      )
        .map((el) => ({ what: el.textContent?.trim() ?? '', r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && r.height > 0);
      const found: string[] = [];
      for (let i = 0; i < parts.length; i++)
        for (let j = i + 1; j < parts.length; j++) {
          const [a, b] = [parts[i].r, parts[j].r];
          if (
            a.left < b.right - 1 &&
            b.left < a.right - 1 &&
            a.top < b.bottom - 1 &&
            b.top < a.bottom - 1
          )
            found.push(`${parts[i].what} / ${parts[j].what}`);
        }
      return { count: parts.length, found };
    });
    expect(overlaps.count).toBeGreaterThanOrEqual(6);
    expect(overlaps.found).toEqual([]);
    await session.shot(page, 'header-phone.png');
  });

  it('opens the header drawer inside a 390 px phone, each message whole and each Acknowledge in reach', async () => {
    const layout = await drawerLayout(page);
    expect(layout.page).toBeLessThanOrEqual(390);
    expect(layout.drawer.left).toBeGreaterThanOrEqual(0);
    expect(layout.drawer.right).toBeLessThanOrEqual(390);
    expect(layout.drawerScroll.scrollWidth).toBeLessThanOrEqual(layout.drawerScroll.clientWidth);
    expect(layout.buttons.length).toBeGreaterThanOrEqual(1);
    for (const button of layout.buttons) {
      expect(button.left).toBeGreaterThanOrEqual(layout.drawer.left);
      expect(button.right).toBeLessThanOrEqual(layout.drawer.right);
    }
    // The message wraps onto lines of its own instead of being cut to a few words.
    for (const line of layout.lines) expect(line.scrollWidth).toBeLessThanOrEqual(line.clientWidth);
    await session.shot(page, 'alert-drawer-phone.png');
    // And the button works from there.
    const row = page.locator('[data-testid=alert-drawer] .alert-row[data-rule-id="e2e-drawer"]');
    await row.getByTestId('ack').click();
    await waitFor(async () => (await row.getAttribute('data-state')) === 'acknowledged', {
      timeoutMs: 5000,
      message: 'the drawer row to show acknowledged',
    });
  });
  it('fits the Screens page on a 390 px phone: the fields stacked, the table in its own box', async () => {
    const admin = await session.open('/screens', (p) =>
      p.setViewportSize({ width: 390, height: 844 }),
    );
    await admin.waitForURL((url) => url.pathname === '/login');
    await signIn(admin, 'admin', ADMIN_PASSWORD);
    await admin.getByTestId('screen-form').waitFor();
    const layout = await admin.evaluate(() => {
      const right = (selector: string) =>
        Array.from(document.querySelectorAll(selector)).map(
          (el) => el.getBoundingClientRect().right,
        );
      const left = (selector: string) =>
        Array.from(document.querySelectorAll(selector)).map(
          (el) => el.getBoundingClientRect().left,
        );
      return {
        page: document.documentElement.scrollWidth,
        rights: right(
          '.screens-hint, [data-testid=screen-form] input, [data-testid=screen-list-box]',
        ),
        fieldLefts: left('[data-testid=screen-form] input'),
      };
    });
    expect(layout.page).toBeLessThanOrEqual(390);
    expect(layout.rights.length).toBeGreaterThanOrEqual(6);
    for (const r of layout.rights) expect(r).toBeLessThanOrEqual(390);
    // One field under another: all start at the same left edge.
    expect(new Set(layout.fieldLefts.map(Math.round)).size).toBe(1);
    await session.shot(admin, 'screens-phone.png');
  });
});

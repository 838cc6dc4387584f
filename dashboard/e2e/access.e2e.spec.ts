import { AUTH_LIMITS, type DeviceListResponse } from '@pulse/protocol';
import { Backend, freePort, startBuiltBackend } from '@pulse/test-support';
import type { Page } from 'playwright-core';
import {
  BrowserSession,
  describeInBrowser,
  fieldState,
  startBrowserSession,
} from './support/browser';
import { authEnv, E2E_ADMIN_PASSWORD, signIn, signOut } from './support/auth';

/**
 * The Access page end to end, with anonymous viewing off: the admin adds an operator, who signs
 * in with that password and finds no Access link (nor the page by its URL); an API token created on the page reads `/api/devices` as `Authorization: Bearer` from outside
 * the browser until it is revoked there (two clicks), then gets 401; the gateway's own words when
 * the only admin tries to demote themselves; and the page never scrolls sideways on a 390 px phone.
 */
const OPERATOR = 'olga';
const OPERATOR_PASSWORD = 'olga-e2e-password';

describeInBrowser('people and API tokens managed on the Access page of a real browser', () => {
  let backend: Backend;
  let session: BrowserSession;
  let page: Page;
  let secret = '';
  const data = authEnv();
  const person = (username: string) => page.locator(`tr[data-username="${username}"]`);
  const token = () => page.locator('tr[data-token-name="e2e script"]');
  const readDevices = (bearer: string) =>
    fetch(`${backend.httpUrl}/api/devices`, { headers: { authorization: `Bearer ${bearer}` } });

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { ...data.env, ANONYMOUS_ROLE: 'none', SIMULATOR_DEVICES: '2' },
    );
    session = await startBrowserSession(backend.httpUrl);
  });

  afterAll(async () => {
    await session?.close();
    await backend?.kill();
    data.remove(); // after the gateway: it writes there until it stops
  });

  it('adds an operator, who signs in with that password and is not shown the page', async () => {
    page = await session.open('/login');
    await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
    await page.getByTestId('nav-access').click();
    await person('admin').waitFor({ timeout: 10_000 });

    // Too short a password: the field says so to a screen reader, not only on the screen.
    await page.getByTestId('person-username').fill(OPERATOR);
    await page.getByTestId('person-password').fill('short');
    expect(await fieldState(page.getByTestId('person-password'))).toEqual({
      invalid: true,
      description: `The password needs at least ${AUTH_LIMITS.minPasswordLength} characters.`,
    });
    expect(await fieldState(page.getByTestId('person-username'))).toEqual({
      invalid: false,
      description: '',
    });
    await page.getByTestId('person-password').fill(OPERATOR_PASSWORD);
    expect(await fieldState(page.getByTestId('person-password'))).toEqual({
      invalid: false,
      description: '',
    });
    await page.getByTestId('person-role-new').selectOption('operator');
    await page.getByTestId('person-add').click();
    await person(OPERATOR).waitFor({ timeout: 5_000 });
    expect(await person(OPERATOR).getAttribute('data-role')).toBe('operator');
    expect(await page.getByTestId('person-password').inputValue()).toBe('');

    await signOut(page);
    await signIn(page, OPERATOR, OPERATOR_PASSWORD);
    expect(await page.getByTestId('user-role').textContent()).toBe('operator');
    await page.getByTestId('nav-rules').waitFor();
    expect(await page.getByTestId('nav-access').count()).toBe(0);
    await page.goto(`${backend.httpUrl}/access`);
    await page.waitForURL((url) => url.pathname === '/', { timeout: 10_000 });
    expect(await page.getByTestId('people').count()).toBe(0);
    await signOut(page);
  });

  it('creates a token that reads the API as a bearer until it is revoked on the page', async () => {
    await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
    await page.getByTestId('nav-access').click();
    await page.getByTestId('token-name').fill('e2e script');
    await page.getByTestId('token-days').fill('1');
    await page.getByTestId('token-create').click();
    await page.getByTestId('token-secret').waitFor({ timeout: 5_000 });
    secret = await page.getByTestId('token-secret').inputValue();
    expect(secret).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await page.getByTestId('tokens').textContent()).toContain('it will not be shown again');
    await token().waitFor({ timeout: 5_000 });
    expect((await token().getByTestId('token-scope').textContent())?.trim()).toBe('all groups');
    await session.shot(page, 'access.png', [page.getByTestId('token-secret')]);

    const read = await readDevices(secret);
    expect(read.status).toBe(200);
    expect(Array.isArray(((await read.json()) as DeviceListResponse).devices)).toBe(true);

    await page.getByTestId('token-dismiss').click();
    await page.getByTestId('token-secret').waitFor({ state: 'detached', timeout: 5_000 });
    expect(await page.content()).not.toContain(secret);

    await token().getByTestId('token-revoke').click();
    await page.getByTestId('token-revoke-confirm').waitFor({ timeout: 5_000 });
    expect((await readDevices(secret)).status).toBe(200); // one click revokes nothing
    await page.getByTestId('token-revoke-confirm').click();
    await token().waitFor({ state: 'detached', timeout: 5_000 });
    expect((await readDevices(secret)).status).toBe(401);
  });

  it("shows the gateway's refusal when the only admin demotes themselves", async () => {
    await person('admin').getByTestId('person-role').selectOption('viewer');
    await page.getByTestId('people-error').waitFor({ timeout: 5_000 });
    // As rendered (innerText): the markup around the sentence is the template's, not the gateway's.
    expect(await page.getByTestId('people-error').innerText()).toBe(
      'Pulse needs at least one enabled admin: promote another first',
    );
    expect(await person('admin').getByTestId('person-role').inputValue()).toBe('admin');
    expect(await page.getByTestId('user-role').textContent()).toBe('admin');
  });

  it('fits a 390 px phone: the page never scrolls sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      boxes: Array.from(document.querySelectorAll<HTMLElement>('.access-table-box')).map(
        (box) => box.clientWidth,
      ),
    }));
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.boxes.length).toBe(2);
    for (const box of widths.boxes) expect(box).toBeLessThanOrEqual(390);
    await session.shot(page, 'access-phone.png');
  });
});

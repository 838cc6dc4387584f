import type { DeviceListResponse } from '@pulse/protocol';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import type { Page, Route } from 'playwright-core';
import {
  attr,
  BrowserSession,
  describeInBrowser,
  startBrowserSession,
  waitConnected,
} from './support/browser';
import { authEnv, E2E_ADMIN_PASSWORD, signIn } from './support/auth';

/**
 * Wall-screen pairing end to end, with anonymous viewing off: an unpaired wall shows a code, an
 * admin pairs it on the Screens page with a board and a group scope, the wall shows that board
 * (not its URL's) over a reload and a gateway restart, and shows a new code within 5 s of the
 * admin revoking it (asked twice: the first click revokes nothing).
 */
describeInBrowser('wall screens paired and revoked in a real browser', () => {
  let ports: { http: number; mqtt: number };
  let backend: Backend;
  let session: BrowserSession;
  let admin: Page;
  let wall: Page;
  let group = '';
  let inGroup: string[] = [];
  const data = authEnv();
  const env = { ...data.env, ANONYMOUS_ROLE: 'none', SIMULATOR_DEVICES: '6' };
  const screenRow = () => admin.locator('.screen-row[data-screen-name="Hall wall"]');
  const wallTiles = () =>
    wall
      .locator('.wall-tile[data-device-id]')
      .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-device-id') ?? ''));
  const storedToken = () => wall.evaluate(() => localStorage.getItem('pulse.displayToken'));
  const storedBoard = () => wall.evaluate(() => localStorage.getItem('pulse.screenBoard'));
  /** The screens the gateway has paired, as the admin's session reads them. */
  const pairedNames = () =>
    admin.evaluate(async () => {
      const res = await fetch('/api/screens', { credentials: 'same-origin' });
      return ((await res.json()) as { screens: { name: string }[] }).screens.map((s) => s.name);
    });

  // The same ports and DATA_DIR on a restart: the wall's token and the admin's session survive.
  const startGateway = () => startBuiltBackend(ports, env);

  beforeAll(async () => {
    const [http, mqtt] = await Promise.all([freePort(), freePort()]);
    ports = { http, mqtt };
    backend = await startGateway();
    session = await startBrowserSession(backend.httpUrl);
  });

  afterAll(async () => {
    await session?.close();
    await backend?.kill();
    data.remove(); // after the gateway: it writes there until it stops
  });

  it('shows a pairing code on an unpaired wall, never a sign-in form', async () => {
    wall = await session.open('/wall?cols=3');
    const code = await waitFor(
      async () => (await wall.getByTestId('pairing-code').textContent({ timeout: 500 }))?.trim(),
      { timeoutMs: 15_000, message: 'a pairing code on the wall' },
    );
    expect(code).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/);
    expect(await wall.getByTestId('login-form').count()).toBe(0);
    await session.shot(wall, 'wall-pairing-code.png');
  });

  it('pairs it from the Screens page: the wall shows the stored board of its group', async () => {
    admin = await session.open('/login');
    await signIn(admin, 'admin', E2E_ADMIN_PASSWORD);
    // The group of the first simulated device, and every device in it.
    const devices = await waitFor(
      async () => {
        const list = await admin.evaluate(async () => {
          const res = await fetch('/api/devices', { credentials: 'same-origin' });
          return ((await res.json()) as DeviceListResponse).devices;
        });
        return list.length >= 6 && list.every((d) => d.meta?.group) ? list : null;
      },
      { timeoutMs: 20_000, message: 'six simulated devices with their groups' },
    );
    group = devices.find((d) => d.deviceId === 'sim-001')?.meta?.group ?? '';
    inGroup = devices.filter((d) => d.meta?.group === group).map((d) => d.deviceId);

    await admin.getByTestId('nav-screens').click();
    await admin.getByTestId('screen-form').waitFor();
    const code = (await wall.getByTestId('pairing-code').textContent())?.trim() ?? '';
    await admin.getByTestId('screen-code').fill(code.toLowerCase());
    await admin.getByTestId('screen-name').fill('Hall wall');
    await admin.getByTestId('screen-board').fill('cols=2&window=1m');
    await admin.getByTestId('screen-groups').fill(group);
    await admin.getByTestId('screen-submit').click();
    await screenRow().waitFor({ timeout: 10_000 });

    // The wall collects its token, reloads into its board: two columns (not the URL's three).
    await wall.getByTestId('wall').waitFor({ timeout: 15_000 });
    await waitConnected(wall);
    await waitFor(async () => (await attr(wall, '.wall-grid', 'data-cols')) === '2', {
      timeoutMs: 15_000,
      message: 'the stored board (2 columns) on the wall',
    });
    expect(await wall.locator('.wall-title').textContent()).toContain('Hall wall');
    const tiles = await waitFor(
      async () => {
        const ids = await wallTiles();
        return ids.length === inGroup.length ? ids : null;
      },
      { timeoutMs: 15_000, message: `a tile per device of ${group} (${inGroup.join(', ')})` },
    );
    expect([...tiles].sort()).toEqual([...inGroup].sort());
    expect(await storedToken()).toBeTruthy();
    // The admin sees it connected.
    await waitFor(async () => (await screenRow().getAttribute('data-connected')) === 'true', {
      timeoutMs: 10_000,
      message: 'the screen listed as connected',
    });
    expect(await screenRow().getByTestId('screen-connection').textContent()).toMatch(
      /connected · (websocket|polling)/,
    );
    await session.shot(wall, 'wall-paired.png');
    await session.shot(admin, 'screens-page.png');
  });

  it('keeps its board over a reload and a gateway restart', async () => {
    // A slow gateway: its answer to "which board am I" takes 6 s after the reload.
    let answered = false;
    const slowBoard = async (route: Route) => {
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      answered = true;
      // By then the page may have moved on (the gateway restart below cancels the request).
      await route.continue().catch(() => undefined);
    };
    expect(JSON.parse((await storedBoard()) ?? 'null')).toMatchObject({
      name: 'Hall wall',
      board: 'cols=2&window=1m',
      groups: [group],
    });
    await wall.route('**/api/screens/me', slowBoard);
    await wall.reload();
    // Its own board from the first render (remembered with the token), not the URL's 3 columns
    // while the gateway is asked again; and its group's tiles before the answer comes.
    await wall.getByTestId('wall').waitFor({ timeout: 15_000 });
    expect(await attr(wall, '.wall-grid', 'data-cols')).toBe('2');
    expect(await wall.locator('.wall-title').textContent()).toContain('Hall wall');
    const tiles = await waitFor(
      async () => {
        const ids = await wallTiles();
        return ids.length === inGroup.length ? ids : null;
      },
      { timeoutMs: 5_000, message: `the tiles of ${group} while the gateway is slow` },
    );
    expect([...tiles].sort()).toEqual([...inGroup].sort());
    expect(answered).toBe(false);
    await wall.unroute('**/api/screens/me', slowBoard);
    await waitConnected(wall);
    expect(await attr(wall, '.wall-grid', 'data-cols')).toBe('2');

    await backend.kill();
    backend = await startGateway();
    await waitConnected(wall);
    expect(await wall.getByTestId('pairing-code').count()).toBe(0);
    expect(await attr(wall, '.wall-grid', 'data-cols')).toBe('2');
    expect(await wall.locator('.wall-title').textContent()).toContain('Hall wall');
  });

  it('shows a new pairing code within 5 s of the admin confirming its revocation, not before', async () => {
    await admin.reload();
    await signInAgainIfNeeded(admin);
    await screenRow().waitFor({ timeout: 10_000 });
    // Asked first: one click revokes nothing, and Keep (focused) keeps the screen paired.
    await screenRow().getByTestId('screen-revoke').click();
    const keep = screenRow().getByTestId('screen-revoke-keep');
    await keep.waitFor({ timeout: 5_000 });
    expect(await keep.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await pairedNames()).toContain('Hall wall');
    await keep.click();
    await screenRow().getByTestId('screen-revoke').waitFor({ timeout: 5_000 });
    expect(
      await screenRow()
        .getByTestId('screen-revoke')
        .evaluate((el) => el === document.activeElement),
    ).toBe(true);
    expect(await pairedNames()).toContain('Hall wall');
    expect(await wall.getByTestId('pairing-code').count()).toBe(0);
    expect(await storedToken()).toBeTruthy();

    await screenRow().getByTestId('screen-revoke').click();
    const revokedAt = Date.now();
    await screenRow().getByTestId('screen-revoke-confirm').click();
    await wall.getByTestId('pairing-code').waitFor({ timeout: 5_000 });
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    expect(await storedToken()).toBeNull();
    expect(await storedBoard()).toBeNull();
    await screenRow().waitFor({ state: 'detached', timeout: 5_000 });
    await session.shot(wall, 'wall-revoked.png');
  });
});

/** The session survives a gateway restart (same DATA_DIR); sign in again only if it did not. */
async function signInAgainIfNeeded(page: Page): Promise<void> {
  await page
    .locator('[data-testid=screen-form], [data-testid=login-form]')
    .first()
    .waitFor({ timeout: 10_000 });
  if ((await page.getByTestId('login-form').count()) > 0)
    await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
}

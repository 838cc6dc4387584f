import { metaTopic, statusTopic } from '@pulse/protocol';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { BrowserSession, describeInBrowser, startBrowserSession } from './support/browser';
import { authEnv } from './support/auth';
import { rulesFile } from './support/rules';

/**
 * The pages a person opens from a link on a 390×844 phone: the wall, the alerts page and the
 * Screens page, each read whole without sideways scrolling; and the wall on a 1920×1080 screen
 * and a phone on its side, which the phone's layout must leave as they were. One stack with the
 * default 12 simulated devices, a device of the test's own that went offline (a tile in its
 * OFFLINE state), and two rules always firing on the first simulated device, one of them with a
 * long name (its alert's message starts with it). Owns this stack and browser only.
 */
const PHONE = { width: 390, height: 844 };
const GONE = 'e2e-gone';
const ALWAYS = {
  id: 'e2e-phone-short',
  name: 'Phone short',
  kind: 'threshold',
  metric: 'voltage',
  op: 'above',
  value: -1000,
  clear: -2000,
  forMs: 0,
  severity: 'critical',
  scope: { device: 'sim-001' },
};
const LONG = {
  ...ALWAYS,
  id: 'e2e-phone-long',
  name: 'Supply voltage of the first power meter read on a phone whose message takes several lines',
  severity: 'major',
};

/** Whether each element matching `selector` shows its text whole: nothing cut at its edges. */
function cutTexts(page: Page, selector: string) {
  return page.evaluate(
    (sel) =>
      Array.from(document.querySelectorAll<HTMLElement>(sel))
        .filter(
          (el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1,
        )
        .map((el) => `${el.className}: "${el.textContent?.trim()}"`),
    selector,
  );
}

describeInBrowser('the dashboard on a 390 px phone', () => {
  let backend: Backend;
  let session: BrowserSession;
  const rules = rulesFile([ALWAYS, LONG]);
  const data = authEnv();

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { ...data.env, ALERT_RULES_FILE: rules.file, SIMULATOR_DEVICES: '12' },
    );
    session = await startBrowserSession(backend.httpUrl);
    const device = await mqtt.connectAsync(backend.mqttUrl, {
      clientId: 'pulse-e2e-gone',
      reconnectPeriod: 0,
    });
    await device.publishAsync(
      metaTopic(GONE),
      JSON.stringify({ name: 'E2E gone', group: 'e2e', units: { temperature: '°C' } }),
      { retain: true, qos: 1 },
    );
    await device.publishAsync(statusTopic(GONE), 'offline', { retain: true, qos: 1 });
    await device.endAsync();
  });

  afterAll(async () => {
    await session?.close();
    await backend?.kill();
    rules.remove();
    data.remove();
  });

  /** The wall at `size`, once every simulated device's tile shows a value. */
  async function openWall(path: string, size: { width: number; height: number }) {
    const wall = await session.open(path, (p) => p.setViewportSize(size));
    await waitFor(
      async () =>
        (await wall.locator('.wall-tile').count()) === 13 &&
        (await wall.locator('.wall-tile[data-device-id^=sim] .wall-value').allTextContents()).every(
          (v) => !v.startsWith('–'),
        ),
      { timeoutMs: 20_000, message: 'the 13 tiles with their values' },
    );
    return wall;
  }

  /** Where the wall's grid and tiles are, and whether the grid scrolls. */
  function wallBoxes(wall: Page) {
    return wall.evaluate(() => {
      const grid = document.querySelector('.wall-grid') as HTMLElement;
      const tiles = Array.from(document.querySelectorAll('.wall-tile')).map((t) => {
        const r = t.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, height: r.height };
      });
      return {
        page: document.documentElement.scrollWidth,
        cols: Number(grid.dataset['cols']),
        grid: {
          scrollHeight: grid.scrollHeight,
          clientHeight: grid.clientHeight,
          scrollWidth: grid.scrollWidth,
          clientWidth: grid.clientWidth,
        },
        tiles,
      };
    });
  }

  it('shows the wall one tile per row on a phone, each name, state and value whole, scrolling down to the last', async () => {
    const wall = await openWall('/wall', PHONE);
    const boxes = await wallBoxes(wall);
    expect(boxes.page).toBeLessThanOrEqual(PHONE.width);
    expect(boxes.cols).toBe(1);
    expect(boxes.grid.scrollWidth).toBeLessThanOrEqual(boxes.grid.clientWidth);
    for (const t of boxes.tiles) {
      expect(t.left).toBeGreaterThanOrEqual(0);
      expect(t.right).toBeLessThanOrEqual(PHONE.width);
    }
    // Not every tile squeezed onto the screen: the board scrolls, the first tile's top in sight.
    expect(boxes.grid.scrollHeight).toBeGreaterThan(boxes.grid.clientHeight);
    // Every text of every tile whole: names, groups, metric names, values and the OFFLINE state.
    expect(
      await cutTexts(wall, '.wall-name, .wall-group, .wall-metric-name, .wall-value, .wall-state'),
    ).toEqual([]);
    // Each metric row whole inside its tile (a tile clips what does not fit), its value in type
    // a person reads on a phone.
    const rows = await wall.evaluate(() =>
      Array.from(document.querySelectorAll('.wall-tile')).flatMap((tile) => {
        const box = tile.getBoundingClientRect();
        return Array.from(tile.querySelectorAll('.wall-metric-head')).map((head) => {
          const r = head.getBoundingClientRect();
          const value = head.querySelector('.wall-value') as HTMLElement;
          return {
            inside: r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5,
            font: parseFloat(getComputedStyle(value).fontSize),
          };
        });
      }),
    );
    expect(rows.length).toBeGreaterThanOrEqual(12 * 3);
    expect(rows.filter((r) => !r.inside)).toEqual([]);
    expect(Math.min(...rows.map((r) => r.font))).toBeGreaterThanOrEqual(18);
    await session.shot(wall, 'wall-phone.png');
    // The last tile is reached by scrolling and is then on screen whole.
    await wall.locator('.wall-tile').last().scrollIntoViewIfNeeded();
    const last = (await wallBoxes(wall)).tiles.at(-1);
    expect(last?.top).toBeGreaterThanOrEqual(0);
    expect(last?.bottom).toBeLessThanOrEqual(PHONE.height);
    await session.shot(wall, 'wall-phone-end.png');
    await wall.context().close();
  });

  it('keeps the columns a wall link asks for (cols=2) on a phone', async () => {
    const wall = await openWall('/wall?cols=2', PHONE);
    const boxes = await wallBoxes(wall);
    expect(boxes.cols).toBe(2);
    expect(boxes.page).toBeLessThanOrEqual(PHONE.width);
    await wall.context().close();
  });

  it.each([
    [1920, 1080],
    [844, 390],
  ])('keeps every tile of the wall on a %i×%i screen, with no scrolling', async (width, height) => {
    const wall = await openWall('/wall', { width, height });
    const boxes = await wallBoxes(wall);
    expect(boxes.cols).toBeGreaterThan(1);
    expect(boxes.grid.scrollHeight).toBeLessThanOrEqual(boxes.grid.clientHeight);
    for (const t of boxes.tiles) {
      expect(t.top).toBeGreaterThanOrEqual(0);
      expect(t.bottom).toBeLessThanOrEqual(height);
      expect(t.right).toBeLessThanOrEqual(width);
    }
    if (width === 1920) await session.shot(wall, 'wall-1920.png');
    await wall.context().close();
  });
});

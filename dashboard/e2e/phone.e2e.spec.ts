import { metaTopic, statusTopic } from '@pulse/protocol';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { BrowserSession, describeInBrowser, startBrowserSession } from './support/browser';
import { authEnv, E2E_ADMIN_PASSWORD, signIn } from './support/auth';
import { alwaysFiringRule, rulesFile } from './support/rules';

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
const ALWAYS = alwaysFiringRule('e2e-phone-short', 'Phone short');
/** A rule name of the longest a rule may have (ALERT_LIMITS.maxNameLength, 128 characters). */
const LONG = alwaysFiringRule(
  'e2e-phone-long',
  'Supply voltage of the first power meter in hall A, read on a phone: a rule name as long as rule names may be, all of it in sight',
  'major',
);

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

  it('shows each alert message whole on a phone, Acknowledge in reach, the list a fixed row height', async () => {
    const page = await session.open('/alerts', (p) => p.setViewportSize(PHONE));
    await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
    await page.goto(`${backend.httpUrl}/alerts`);
    const row = (rule: string) => page.locator(`.alert-vrow .alert-row[data-rule-id="${rule}"]`);
    await row(LONG.id).getByTestId('ack').waitFor({ timeout: 20_000 });
    await row(ALWAYS.id).waitFor();
    const layout = await page.evaluate(() => {
      const box = (el: Element | Range) => {
        const r = el.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      };
      const vrows = Array.from(document.querySelectorAll('[data-testid=active-list] .alert-vrow'));
      const spacer = document.querySelector('[data-testid=active-list] .cdk-virtual-scroll-spacer');
      return {
        page: document.documentElement.scrollWidth,
        rows: Array.from(document.querySelectorAll('.alert-vrow .alert-row')).map((r) => {
          const message = r.querySelector('.alert-message') as HTMLElement;
          // The message's characters, where they are drawn.
          const range = document.createRange();
          range.selectNodeContents(message);
          const ack = r.querySelector('[data-testid=ack]');
          return {
            rule: (r as HTMLElement).dataset['ruleId'],
            row: box(r),
            rowOverflow: r.scrollHeight - r.clientHeight,
            text: box(range),
            message: {
              scrollWidth: message.scrollWidth,
              clientWidth: message.clientWidth,
              scrollHeight: message.scrollHeight,
              clientHeight: message.clientHeight,
            },
            ack: ack ? box(ack) : null,
          };
        }),
        // The virtual scroll's idea of the list's height against the rows as drawn.
        spacer: spacer ? spacer.getBoundingClientRect().height : 0,
        drawn: vrows.map((v) => v.getBoundingClientRect().height),
      };
    });
    expect(layout.page).toBeLessThanOrEqual(PHONE.width);
    expect(layout.rows.length).toBe(2);
    for (const r of layout.rows) {
      expect(r.row.left).toBeGreaterThanOrEqual(0);
      expect(r.row.right).toBeLessThanOrEqual(PHONE.width);
      expect(r.rowOverflow).toBeLessThanOrEqual(0);
      // The message's text inside the row, nothing cut (no ellipsis, no clipped line).
      expect(r.message.scrollWidth).toBeLessThanOrEqual(r.message.clientWidth);
      expect(r.message.scrollHeight).toBeLessThanOrEqual(r.message.clientHeight);
      expect(r.text.left).toBeGreaterThanOrEqual(r.row.left);
      expect(r.text.right).toBeLessThanOrEqual(r.row.right);
      expect(r.text.bottom).toBeLessThanOrEqual(r.row.bottom);
      // The button on screen, inside its row.
      expect(r.ack).not.toBeNull();
      expect(r.ack?.left).toBeGreaterThanOrEqual(r.row.left);
      expect(r.ack?.right).toBeLessThanOrEqual(r.row.right);
      expect(r.ack?.bottom).toBeLessThanOrEqual(r.row.bottom);
    }
    // The long message is on several lines (4 at 390 px).
    const long = layout.rows.find((r) => r.rule === LONG.id);
    expect((long?.text.bottom ?? 0) - (long?.text.top ?? 0)).toBeGreaterThan(60);
    // Every row as tall as the virtual scroll counts it.
    expect(layout.drawn.reduce((a, b) => a + b, 0)).toBeCloseTo(layout.spacer, 0);
    await session.shot(page, 'alerts-phone.png');
    // And the button works from there.
    await row(LONG.id).getByTestId('ack').click();
    await waitFor(async () => (await row(LONG.id).getAttribute('data-state')) === 'acknowledged', {
      timeoutMs: 5000,
      message: 'the row to show acknowledged',
    });
    // Grouped by rule: each heading whole inside the phone, its name on lines of its own.
    await page.getByTestId('group-by-rule').check();
    await page.locator(`[data-testid=rule-heading][data-rule-id="${LONG.id}"]`).waitFor();
    const headings = await page.evaluate(() =>
      Array.from(document.querySelectorAll('[data-testid=rule-heading]')).map((h) => {
        const range = document.createRange();
        range.selectNodeContents(h.querySelector('.alert-rule-name') as Element);
        const r = h.getBoundingClientRect();
        const name = range.getBoundingClientRect();
        return {
          overflow: h.scrollWidth - h.clientWidth + (h.scrollHeight - h.clientHeight),
          right: r.right,
          nameInside: name.right <= r.right && name.bottom <= r.bottom,
        };
      }),
    );
    await session.shot(page, 'alerts-phone-grouped.png');
    expect(headings.length).toBe(2);
    for (const h of headings) {
      expect(h.overflow).toBeLessThanOrEqual(0);
      expect(h.right).toBeLessThanOrEqual(PHONE.width);
      expect(h.nameInside).toBe(true);
    }
    await session.shot(page, 'alerts-phone-grouped.png');
    await page.context().close();
  });

  it('wraps the Screens page line saying no screen is paired yet inside a phone', async () => {
    const admin = await session.open('/login', (p) => p.setViewportSize(PHONE));
    await signIn(admin, 'admin', E2E_ADMIN_PASSWORD);
    await admin.goto(`${backend.httpUrl}/screens`);
    const empty = admin.getByText('No screens paired yet');
    await empty.waitFor({ timeout: 10_000 });
    const fit = await empty.evaluate((el) => {
      const box = (
        el.closest('[data-testid=screen-list-box]') as HTMLElement
      ).getBoundingClientRect();
      const range = document.createRange();
      range.selectNodeContents(el);
      const text = range.getBoundingClientRect();
      return { page: document.documentElement.scrollWidth, box, text };
    });
    expect(fit.page).toBeLessThanOrEqual(PHONE.width);
    expect(fit.text.left).toBeGreaterThanOrEqual(fit.box.left);
    expect(fit.text.right).toBeLessThanOrEqual(fit.box.right);
    await session.shot(admin, 'screens-empty-phone.png');
    await admin.context().close();
  });
});

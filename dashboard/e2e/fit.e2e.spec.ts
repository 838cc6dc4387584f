import {
  DeviceListResponse,
  encodeTelemetry,
  metaTopic,
  statusTopic,
  telemetryTopic,
} from '@pulse/protocol';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import mqtt, { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { BrowserSession, describeInBrowser, startBrowserSession } from './support/browser';
import { authEnv, E2E_ADMIN_PASSWORD, signIn } from './support/auth';
import { overheatRule, rulesFile } from './support/rules';

/**
 * Every word and number whole where a person reads it, at the sizes QA found them cut: a 390×844
 * phone (the wall's alert banner, its header with the folded alert, the cleared-alert strip and
 * the clock, the heat map's counts, a wall link asking for more columns than fit, the alerts
 * page's acknowledged row), a phone on its side (a wall of 27 small tiles), and 1920 px (the wall's
 * strip, the overview's metric names). A text may give way only with an ellipsis at its own
 * edge, and only where it is a message; a number, a name's distinguishing end, a severity, a
 * state, an age and the clock never. One stack: 24 simulated devices, and three of the test's
 * own in hall A: a pump always hot (a critical alert nobody acknowledges, and a major one the
 * admin acknowledges with a note), a meter whose critical cleared unacknowledged (the strip),
 * and a device gone offline. Owns this stack and browser only.
 */
const PHONE = { width: 390, height: 844 };
const PHONE_SIDE = { width: 844, height: 390 };
const DESK = { width: 1920, height: 1080 };
const PUMP = 'e2e-pump';
const METER = 'e2e-meter';
const GONE = 'e2e-gone';
/** A device name as long as a hall's names get: a phone must wrap it, not drop it. */
const PUMP_NAME = 'Coolant pump 003 · Hall A';
const HOT = { ...overheatRule('e2e-pump-hot', PUMP, 'temperature'), name: 'Pump hot' };
/** On the same metric: its row on /alerts names the device and a long metric beside its state. */
const WARM = { ...overheatRule('e2e-pump-warm', PUMP, 'temperature', 'major'), name: 'Pump warm' };
/** A long rule name: the strip's line is longer than the strip at 1920 px. */
const SPIKE = {
  ...overheatRule('e2e-meter-spike', METER, 'temperature'),
  name: 'Feed meter cabinet temperature above its limit, checked by the night shift',
};

/** A text as a person sees it: its box, whether its own box cuts it, and with what. */
interface Seen {
  what: string;
  text: string;
  /** Its content is wider or taller than its box. */
  cut: boolean;
  /** Its box ends the text with an ellipsis (an overflowing line drawn with `…`). */
  ellipsis: boolean;
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  /** The box of `within` (the closest ancestor matching it), when asked. */
  within: { left: number; right: number; top: number; bottom: number } | null;
}

/** Each element matching `selector` as seen (see Seen); `within` an ancestor to compare with. */
function seen(page: Page, selector: string, within?: string): Promise<Seen[]> {
  return page.evaluate(
    ({ selector, within }) =>
      Array.from(document.querySelectorAll<HTMLElement>(selector)).map((el) => {
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        const parent = within ? el.closest(within) : null;
        const p = parent?.getBoundingClientRect();
        const cut = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
        return {
          what: `${el.className}`,
          text: (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
          cut,
          ellipsis: cut && style.textOverflow === 'ellipsis' && style.overflowX !== 'visible',
          left: r.left,
          right: r.right,
          top: r.top,
          bottom: r.bottom,
          width: r.width,
          within: p ? { left: p.left, right: p.right, top: p.top, bottom: p.bottom } : null,
        };
      }),
    { selector, within },
  );
}

/** What of `texts` a person cannot read whole in a `width` px window (empty: all whole). */
function notWhole(texts: Seen[], width: number, ellipsisAllowed = false): string[] {
  return texts
    .filter(
      (t) =>
        t.text !== '' &&
        (t.width < 1 ||
          (t.cut && !(ellipsisAllowed && t.ellipsis)) ||
          t.left < -0.5 ||
          t.right > width + 0.5 ||
          (t.within !== null &&
            (t.left < t.within.left - 0.5 ||
              t.right > t.within.right + 0.5 ||
              t.bottom > t.within.bottom + 0.5))),
    )
    .map((t) => `${t.what}: "${t.text}" (${Math.round(t.left)}→${Math.round(t.right)})`);
}

describeInBrowser('every figure whole on a phone, a phone on its side and at 1920 px', () => {
  let backend: Backend;
  let session: BrowserSession;
  let device: MqttClient;
  let timer: ReturnType<typeof setInterval> | undefined;
  let meterTemperature = 20;
  const rules = rulesFile([HOT, WARM, SPIKE]);
  const data = authEnv();
  const publish = () =>
    Promise.all([
      device.publishAsync(
        telemetryTopic(PUMP),
        encodeTelemetry([{ ts: Date.now(), values: { temperature: 80 } }]),
      ),
      device.publishAsync(
        telemetryTopic(METER),
        encodeTelemetry([{ ts: Date.now(), values: { temperature: meterTemperature } }]),
      ),
    ]);
  const activeAlerts = async () =>
    (
      (await (await fetch(`${backend.httpUrl}/api/alerts`)).json()) as {
        alerts: { id: string; ruleId: string; state: string; clearedAt: number | null }[];
      }
    ).alerts;

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { ...data.env, ALERT_RULES_FILE: rules.file, SIMULATOR_DEVICES: '24' },
    );
    session = await startBrowserSession(backend.httpUrl);
    device = await mqtt.connectAsync(backend.mqttUrl, {
      clientId: 'pulse-e2e-fit',
      reconnectPeriod: 0,
    });
    const retained = { retain: true, qos: 1 } as const;
    const meta = (name: string, group: string) =>
      JSON.stringify({ name, group, units: { temperature: '°C' }, intervalMs: 1000 });
    await device.publishAsync(metaTopic(PUMP), meta(PUMP_NAME, 'hall-a'), retained);
    await device.publishAsync(metaTopic(METER), meta('Feed meter 9 · Hall A', 'hall-a'), retained);
    await device.publishAsync(metaTopic(GONE), meta('E2E gone', 'e2e'), retained);
    await device.publishAsync(statusTopic(PUMP), 'online', retained);
    await device.publishAsync(statusTopic(METER), 'online', retained);
    await device.publishAsync(statusTopic(GONE), 'offline', retained);
    timer = setInterval(() => void publish().catch(() => undefined), 1000);
    // The meter's spike comes and goes before anyone acknowledges it: a cleared critical.
    meterTemperature = 80;
    await publish();
    const spike = await waitFor(
      async () => (await activeAlerts()).find((a) => a.ruleId === SPIKE.id),
      { timeoutMs: 10_000, message: "the meter's critical" },
    );
    meterTemperature = 20;
    await publish();
    await waitFor(
      async () =>
        (await activeAlerts()).some((a) => a.id === spike.id && a.clearedAt !== null) &&
        (await activeAlerts()).some((a) => a.ruleId === HOT.id) &&
        (await activeAlerts()).some((a) => a.ruleId === WARM.id),
      { timeoutMs: 10_000, message: "the meter's critical cleared, the pump's two on" },
    );
  });

  afterAll(async () => {
    if (timer) clearInterval(timer);
    await device?.endAsync(true).catch(() => undefined);
    await session?.close();
    await backend?.kill();
    rules.remove();
    data.remove();
  });

  /** A wall at `size` once `tiles` tiles show and every simulated one has its values. */
  async function openWall(path: string, size: { width: number; height: number }, tiles: number) {
    const wall = await session.open(path, (p) => p.setViewportSize(size));
    await waitFor(
      async () =>
        (await wall.locator('.wall-tile').count()) === tiles &&
        (await wall.locator('.wall-tile[data-device-id^=sim] .wall-value').allTextContents()).every(
          (v) => !v.startsWith('–'),
        ),
      { timeoutMs: 30_000, message: `the ${tiles} tiles with their values` },
    );
    return wall;
  }

  /** The tiles a hall-a wall shows: the devices of group hall-a (the test's two among them). */
  async function hallATiles(): Promise<number> {
    const res = await fetch(`${backend.httpUrl}/api/devices`);
    const { devices } = (await res.json()) as DeviceListResponse;
    return devices.filter((d) => d.meta?.group === 'hall-a').length;
  }

  it('names the device, message and age of the alert banner whole on a phone', async () => {
    const wall = await openWall('/wall?group=hall-a&fold=never', PHONE, await hallATiles());
    await wall.locator('[data-testid=wall-alert-banner] .wall-alert-line').first().waitFor();
    // Every line's (the pump's critical, then its major): severity, device, message and age.
    const line = '[data-testid=wall-alert-banner] .wall-alert-line';
    const parts = await seen(
      wall,
      `${line} .wall-alert-sev, ${line} .wall-alert-device, ${line} .wall-alert-message, ${line} .wall-alert-age`,
      '.wall-alert-line',
    );
    expect(parts.map((p) => p.text)).toEqual([
      'critical',
      PUMP_NAME,
      expect.stringContaining('Pump hot'),
      expect.stringMatching(/now|ago/),
      'major',
      PUMP_NAME,
      expect.stringContaining('Pump warm'),
      expect.stringMatching(/now|ago/),
    ]);
    expect(notWhole(parts, PHONE.width)).toEqual([]);
    await session.shot(wall, 'fit-phone-banner.png');
    await wall.context().close();
  });

  it('keeps the folded alert, the cleared-alert strip, the title and the clock readable in a phone header', async () => {
    const wall = await openWall('/wall?group=hall-a&fold=1', PHONE, await hallATiles());
    await wall.locator('header [data-testid=wall-alert-banner][data-folded=true]').waitFor({
      timeout: 10_000,
    });
    await wall.locator('header [data-testid=wall-alert-strip]').waitFor();
    const folded = 'header .wall-alert-folded';
    // Severity, device and age whole; the message may end in an ellipsis, at its own edge.
    expect(
      notWhole(
        await seen(
          wall,
          `${folded} .wall-alert-sev, ${folded} .wall-alert-device, ${folded} .wall-alert-age`,
          '.wall-alert-folded',
        ),
        PHONE.width,
      ),
    ).toEqual([]);
    expect(
      notWhole(
        await seen(wall, `${folded} .wall-alert-message`, '.wall-alert-folded'),
        PHONE.width,
        true,
      ),
    ).toEqual([]);
    // The strip's line: "CLEARED" and the device whole, the rest ending in an ellipsis.
    const strip = await seen(wall, '.wall-strip-item', '.wall-alert-strip');
    expect(strip.length).toBeGreaterThan(0);
    expect(notWhole(strip, PHONE.width, true)).toEqual([]);
    expect(
      notWhole(await seen(wall, '.wall-strip-item b', '.wall-strip-item'), PHONE.width),
    ).toEqual([]);
    // The title and the clock whole, the clock with its seconds.
    const head = await seen(wall, 'header .wall-title, header .wall-clock', 'header');
    expect(notWhole(head, PHONE.width)).toEqual([]);
    expect(head.map((h) => h.text)).toEqual([
      expect.stringContaining('Pulse · hall-a'),
      expect.stringMatching(/^\d\d:\d\d:\d\d$/),
    ]);
    await session.shot(wall, 'fit-phone-folded.png');
    await wall.context().close();
  });

  it("shows every count of the heat map's strip whole on a phone", async () => {
    const wall = await session.open('/wall?view=heatmap', (p) => p.setViewportSize(PHONE));
    await waitFor(
      async () => Number(await wall.getByTestId('heat-counts').getAttribute('data-total')) >= 27,
      { timeoutMs: 20_000, message: 'the heat map of every device' },
    );
    const counts = await seen(wall, '.heat-total, .heat-count', '.heat-strip');
    expect(counts.length).toBeGreaterThanOrEqual(6);
    expect(notWhole(counts, PHONE.width)).toEqual([]);
    await session.shot(wall, 'fit-phone-heatmap.png');
    await wall.context().close();
  });

  /** Values, states and the names' distinguishing ends of a wall's tiles that are not whole. */
  async function tileTextsCut(wall: Page, width: number) {
    return [
      ...notWhole(await seen(wall, '.wall-value', '.wall-tile'), width),
      ...notWhole(await seen(wall, '.wall-state', '.wall-tile'), width),
      ...notWhole(await seen(wall, '.wall-name .cut-tail', '.wall-tile'), width),
    ];
  }

  /** Each live tile's metric rows less their value's height (negative: a value over the next row). */
  const rowRoom = (wall: Page) =>
    wall.evaluate(() =>
      Array.from(document.querySelectorAll('.wall-tile[data-health=live] .wall-metric')).map(
        (row) => {
          const value = row.querySelector('.wall-value') as HTMLElement;
          return row.getBoundingClientRect().height - value.getBoundingClientRect().height;
        },
      ),
    );

  it('cuts no number, state or name on a wall of 27 tiles on a phone on its side', async () => {
    const wall = await openWall('/wall', PHONE_SIDE, 27);
    // The OFFLINE tile's word, and every text of it, inside its tile (a centred word wider
    // than its tile loses both ends: "FFLIN").
    const offline = await wall.evaluate((id) => {
      const tile = document.querySelector(`.wall-tile[data-device-id="${id}"]`) as HTMLElement;
      const state = tile.querySelector('.wall-state') as HTMLElement;
      const range = document.createRange();
      range.selectNodeContents(state);
      const t = range.getBoundingClientRect();
      const b = tile.getBoundingClientRect();
      return { inside: t.left >= b.left - 0.5 && t.right <= b.right + 0.5 };
    }, GONE);
    expect(offline.inside).toBe(true);
    expect(await tileTextsCut(wall, PHONE_SIDE.width)).toEqual([]);
    // Each metric row as tall as its value's line: no value drawn over the next row's.
    const rows = await rowRoom(wall);
    expect(rows.length).toBeGreaterThan(40);
    expect(Math.min(...rows)).toBeGreaterThanOrEqual(-0.5);
    await session.shot(wall, 'fit-phone-side.png');
    await wall.context().close();
  });

  /** A display token for a screen paired to the whole fleet, as the Screens page pairs one. */
  async function pairedScreenToken(name: string): Promise<string> {
    const api = (path: string, body: unknown, cookie?: string) =>
      fetch(`${backend.httpUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: backend.httpUrl,
          ...(cookie && { cookie }),
        },
        body: JSON.stringify(body),
      });
    const start = (await (await api('/api/screens/pairing', {})).json()) as {
      pairingId: string;
      code: string;
    };
    const login = await api('/api/auth/login', { username: 'admin', password: E2E_ADMIN_PASSWORD });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const paired = await api('/api/screens', { code: start.code, name }, cookie);
    expect(paired.status).toBe(201);
    const claim = (await (
      await api('/api/screens/pairing/claim', { pairingId: start.pairingId })
    ).json()) as { status: string; token?: string };
    expect(claim.status).toBe('paired');
    return claim.token as string;
  }

  // A paired screen is a wall whatever its shape (never a phone's scrolling board), and its
  // auto-fit must weigh the metric rows as a browser's does: a phone or a small panel on its side
  // paired as a wall had 7 × 4 tiles with rows a few px tall, every value drawn over the next.
  it('cuts no number on a paired screen of 27 tiles on its side: rows as tall as their values', async () => {
    const token = await pairedScreenToken('Side panel');
    const wall = await session.open('/wall', async (page) => {
      await page.setViewportSize(PHONE_SIDE);
      await page
        .context()
        .addInitScript((t) => localStorage.setItem('pulse.displayToken', t), token);
    });
    await waitFor(
      async () =>
        (await wall.locator('.wall-title').textContent())?.includes('Side panel') &&
        (await wall.locator('.wall-tile').count()) === 27 &&
        (await wall.locator('.wall-tile[data-device-id^=sim] .wall-value').allTextContents()).every(
          (v) => !v.startsWith('–'),
        ),
      { timeoutMs: 30_000, message: 'the paired screen with its 27 tiles and their values' },
    );
    const rows = await rowRoom(wall);
    expect(rows.length).toBeGreaterThan(40);
    expect(Math.min(...rows)).toBeGreaterThanOrEqual(-0.5);
    expect(await tileTextsCut(wall, PHONE_SIDE.width)).toEqual([]);
    await wall.context().close();
  });

  it('lowers a cols too many for a phone, says so, and cuts no number or name', async () => {
    const wall = await openWall('/wall?group=hall-a&cols=4', PHONE, await hallATiles());
    const cols = Number(await wall.locator('.wall-grid').getAttribute('data-cols'));
    expect(cols).toBeLessThan(4);
    expect(await wall.locator('.wall-errors').textContent()).toMatch(/cols.*4/);
    expect(await tileTextsCut(wall, PHONE.width)).toEqual([]);
    await session.shot(wall, 'fit-phone-cols.png');
    await wall.context().close();
  });

  it("ends the cleared-alert strip's line with an ellipsis at 1920 px", async () => {
    const wall = await openWall('/wall', DESK, 27);
    await wall.locator('header [data-testid=wall-alert-strip]').waitFor();
    const items = await seen(wall, '.wall-strip-item', '.wall-alert-strip');
    expect(items.length).toBeGreaterThan(0);
    // Longer than the strip at 1920 px (cut, or past the strip's edge): it ends in an ellipsis.
    expect(items.some((i) => i.cut || (i.within && i.right > i.within.right))).toBe(true);
    expect(notWhole(items, DESK.width, true)).toEqual([]);
    await wall.context().close();
  });

  it.each([
    [1920, 1080],
    [1400, 900],
  ])('shows every metric name of the overview whole at %i×%i', async (width, height) => {
    const page = await session.open('/', (p) => p.setViewportSize({ width, height }));
    await waitFor(
      async () =>
        (await page.locator('.tile[data-device-id^=sim] .metric-value').allTextContents()).filter(
          (v) => !v.startsWith('–'),
        ).length >= 40,
      { timeoutMs: 20_000, message: 'the first screen of tiles with their values' },
    );
    const names = await seen(page, '.tile .metric-name', '.tile');
    expect(names.length).toBeGreaterThanOrEqual(40);
    expect(notWhole(names, width)).toEqual([]);
    if (width === 1920) await session.shot(page, 'fit-overview-1920.png');
    await page.context().close();
  });

  it("shows an acknowledged alert's state and who acknowledged it whole on a phone", async () => {
    const page = await session.open('/login', (p) => p.setViewportSize(PHONE));
    await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
    const warm = (await activeAlerts()).find((a) => a.ruleId === WARM.id);
    const status = await page.evaluate(
      async (id) =>
        (
          await fetch(`/api/alerts/${encodeURIComponent(id)}/ack`, {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ note: 'looking' }),
          })
        ).status,
      warm?.id ?? '',
    );
    expect(status).toBe(200);
    await page.goto(`${backend.httpUrl}/alerts`);
    const row = `.alert-vrow .alert-row[data-rule-id="${WARM.id}"]`;
    await page.locator(`${row}[data-state=acknowledged]`).waitFor({ timeout: 10_000 });
    // The state inside the title's line (which clips), the facts inside the row.
    const state = await seen(page, `${row} .alert-state`, '.alert-title');
    const facts = await seen(page, `${row} .alert-facts`, '.alert-row');
    expect([...state, ...facts].map((t) => t.text)).toEqual([
      'acknowledged',
      expect.stringMatching(/acknowledged by admin at \d\d:\d\d:\d\d \(“looking”\)$/),
    ]);
    expect(notWhole([...state, ...facts], PHONE.width)).toEqual([]);
    // The meter's row, cleared and open: its figures ("cleared at …") and Acknowledge whole in it.
    const open = `.alert-vrow .alert-row[data-rule-id="${SPIKE.id}"]`;
    const cleared = [
      ...(await seen(page, `${open} .alert-facts`, '.alert-row')),
      ...(await seen(page, `${open} [data-testid=ack]`, '.alert-row')),
    ];
    expect(cleared.map((t) => t.text)).toEqual([
      expect.stringMatching(/cleared at \d\d:\d\d:\d\d$/),
      'Acknowledge',
    ]);
    expect(notWhole(cleared, PHONE.width)).toEqual([]);
    await session.shot(page, 'fit-phone-alerts-ack.png');
    await page.context().close();
  });
});

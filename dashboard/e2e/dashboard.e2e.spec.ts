import {
  DeviceInfo,
  encodeTelemetry,
  HistoryResponse,
  metaTopic,
  statusTopic,
  telemetryTopic,
} from '@pulse/protocol';
import { Backend, freePort, getJson, sleep, startBuiltBackend, waitFor } from '@pulse/test-support';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import {
  attr,
  BrowserSession,
  describeInBrowser,
  startBrowserSession,
  waitConnected,
} from './support/browser';
import { authEnv } from './support/auth';

const SIMULATED = ['sim-001', 'sim-002', 'sim-003', 'sim-004', 'sim-005', 'sim-006'];

describeInBrowser('dashboard in a real browser against the real stack', () => {
  let ports: { http: number; mqtt: number };
  let backend: Backend;
  let session: BrowserSession;
  // Users and sessions of this run only; anonymous viewing (loopback default) shows the fleet.
  const data = authEnv();
  const open = (path: string, setup?: (page: Page) => Promise<void>) => session.open(path, setup);
  const shot = (page: Page, name: string) => session.shot(page, name);
  const chartPoints = async (page: Page) =>
    Number(await attr(page, 'app-live-chart', 'data-points'));
  /** The chart's point count once it has some (`what`), and again `ms` later. */
  const chartGrowth = async (page: Page, ms: number, what: string) => {
    const before = await waitFor(() => chartPoints(page), { timeoutMs: 10_000, message: what });
    await sleep(ms);
    return { before, after: await chartPoints(page) };
  };

  beforeAll(async () => {
    ports = { http: await freePort(), mqtt: await freePort() };
    backend = await startBuiltBackend(ports, data.env);
    session = await startBrowserSession(backend.httpUrl);
  });

  afterAll(async () => {
    await session?.close();
    await backend?.kill();
    data.remove();
  });

  it('shows every simulated device on the fleet overview', async () => {
    // How each script crossed the wire (decision 0045: the build's Brotli siblings).
    const encodings = new Map<string, string>();
    const page = await open('/', async (p) => {
      p.on('response', (r) => {
        if (r.url().endsWith('.js'))
          void r.allHeaders().then((h) => encodings.set(r.url(), h['content-encoding'] ?? 'none'));
      });
    });
    await waitConnected(page);
    await waitFor(
      async () => (await page.locator('.tile[data-device-id]').count()) >= SIMULATED.length,
      { timeoutMs: 20_000, message: 'a tile per simulated device' },
    );
    const ids = await page
      .locator('.tile[data-device-id]')
      .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-device-id')));
    expect([...ids].sort()).toEqual(SIMULATED);
    // Live values and a ticking age on every tile.
    await waitFor(
      async () =>
        (await page.locator('.tile .metric-value').allTextContents()).every(
          (v) => !v.startsWith('–'),
        ),
      { timeoutMs: 10_000, message: 'latest values on every tile' },
    );
    await sleep(2000); // let the sparklines collect a few seconds
    await shot(page, 'overview.png');
    // The page ran from Brotli-compressed code: its entry point and most of its chunks.
    const forms = [...encodings];
    expect(forms.filter(([url]) => /\/main-[A-Z0-9]{8}\.js$/.test(url)).map(([, e]) => e)).toEqual([
      'br',
    ]);
    expect(forms.filter(([, e]) => e === 'br').length).toBeGreaterThan(forms.length / 2);
  });

  it.each([1920, 390])(
    'shows the whole search placeholder on a %i px wide overview, and says what it searches',
    async (width) => {
      const page = await open('/', (p) => p.setViewportSize({ width, height: 900 }));
      const search = page.getByTestId('fleet-search');
      await search.waitFor({ timeout: 20_000 });
      // The placeholder's width in the input's font against the room inside its padding.
      const fit = await search.evaluate((input: HTMLInputElement) => {
        const style = getComputedStyle(input);
        const ctx = document.createElement('canvas').getContext('2d') as CanvasRenderingContext2D;
        ctx.font = style.font;
        return {
          text: Math.ceil(ctx.measureText(input.placeholder).width),
          room: input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
        };
      });
      expect(fit.text).toBeLessThanOrEqual(fit.room);
      expect(await search.getAttribute('aria-label')).toMatch(/name, id or group/);
      await page.context().close();
    },
  );

  it('opens a device with one live chart per metric that gains points over time', async () => {
    const page = session.pages[0] ?? (await open('/')); // the overview of the previous test, or a fresh one
    await page.locator('.tile[data-device-id="sim-001"]').click({ timeout: 20_000 });
    await page.waitForURL(/\/devices\/sim-001$/);
    const metrics = await waitFor(async () => (await page.locator('app-live-chart').count()) || 0, {
      timeoutMs: 10_000,
      message: 'charts',
    });
    const info = (await (
      await fetch(`${backend.httpUrl}/api/devices/sim-001`)
    ).json()) as DeviceInfo;
    expect(metrics).toBe(info.metrics.length);
    const { before, after } = await chartGrowth(page, 3000, 'history points in the chart');
    expect(after).toBeGreaterThan(before);
    expect(Number(await attr(page, 'app-live-chart', 'data-gaps'))).toBe(0);
    await shot(page, 'device.png');

    // Pause freezes the picture while data keeps arriving; resume catches up.
    await page.getByRole('button', { name: 'Pause' }).click();
    await sleep(300);
    const frozen = await chartPoints(page);
    await sleep(1500);
    expect(await chartPoints(page)).toBe(frozen);
    await page.getByRole('button', { name: 'Resume' }).click();
    await waitFor(async () => (await chartPoints(page)) > frozen, {
      timeoutMs: 5000,
      message: 'the chart to catch up after resume',
    });

    // A 1 minute window holds at most a minute of 2/s readings.
    await page.getByRole('button', { name: '1m' }).click();
    await waitFor(async () => (await chartPoints(page)) <= 122, {
      timeoutMs: 5000,
      message: 'the 1m window',
    });
    expect(await page.locator('.stats').first().textContent()).toMatch(/min .* max .* avg/);
  });

  it('keeps updating over long-polling when WebSockets are blocked', async () => {
    // Every WebSocket to the gateway is closed at once: socket.io must fall back to polling.
    const blocked = await open('/devices/sim-002', (page) =>
      page.routeWebSocket(/\/socket\.io\//, (ws) => ws.close()),
    );
    await waitConnected(blocked, 'polling');
    const overBlocked = await chartGrowth(blocked, 3000, 'points over polling');
    expect(overBlocked.after).toBeGreaterThan(overBlocked.before);
    expect(await attr(blocked, '.conn', 'data-transport')).toBe('polling');

    // `?transport=polling` forces it without any blocking.
    const forced = await open('/devices/sim-003?transport=polling');
    await waitConnected(forced, 'polling');
    const overForced = await chartGrowth(forced, 2500, 'points over forced polling');
    expect(overForced.after).toBeGreaterThan(overForced.before);
  });

  it('wall mode shows a silent device as STALE and a Last-Will device as OFFLINE', async () => {
    const id = 'e2e-probe';
    const device = await mqtt.connectAsync(backend.mqttUrl, {
      clientId: 'pulse-e2e-probe',
      will: { topic: statusTopic(id), payload: Buffer.from('offline'), retain: true, qos: 1 },
      reconnectPeriod: 0,
    });
    await device.publishAsync(
      metaTopic(id),
      JSON.stringify({
        name: 'E2E probe',
        group: 'e2e',
        units: { temperature: '°C' },
        intervalMs: 500,
      }),
      { retain: true, qos: 1 },
    );
    await device.publishAsync(statusTopic(id), 'online', { retain: true, qos: 1 });
    let n = 0;
    const timer = setInterval(() => {
      n++;
      void device.publishAsync(
        telemetryTopic(id),
        encodeTelemetry([{ ts: Date.now(), values: { temperature: 20 + Math.sin(n / 5) * 2 } }]),
      );
    }, 500);
    try {
      const wall = await open(
        `/wall?devices=${id},sim-001,sim-002,sim-004&stale=3&window=1m&cols=2`,
      );
      const tile = `.wall-tile[data-device-id="${id}"]`;
      await waitFor(async () => (await attr(wall, tile, 'data-health')) === 'live', {
        timeoutMs: 15_000,
        message: 'the probe to be live on the wall',
      });
      expect(await wall.locator('.wall-tile').count()).toBe(4);
      expect(await wall.locator('[data-testid=wall-clock]').textContent()).toMatch(
        /^\d\d:\d\d:\d\d$/,
      );
      expect(await wall.locator('.wall').evaluate((el) => getComputedStyle(el).cursor)).toBe(
        'none',
      );
      await sleep(2000);
      await shot(wall, 'wall.png');

      // Silent but still connected: no Last Will, so STALE (not offline) after max(3 s, 3 × 500 ms).
      clearInterval(timer);
      await waitFor(async () => (await attr(wall, tile, 'data-health')) === 'stale', {
        timeoutMs: 15_000,
        message: 'the probe to turn stale',
      });
      expect(await wall.locator(`${tile} [data-testid=stale-label]`).textContent()).toMatch(
        /STALE \d+ s/,
      );
      await shot(wall, 'wall-stale.png');

      // The connection drops without DISCONNECT: the broker publishes the Last Will.
      device.stream.destroy();
      await waitFor(async () => (await attr(wall, tile, 'data-health')) === 'offline', {
        timeoutMs: 15_000,
        message: 'the Last Will to mark it offline',
      });
      expect(await wall.locator(`${tile} [data-testid=offline-label]`).textContent()).toContain(
        'OFFLINE',
      );
      await shot(wall, 'wall-offline.png');
    } finally {
      clearInterval(timer);
      await device.endAsync(true).catch(() => undefined);
    }
  });

  it('recovers by itself after the backend restarts and backfills the gap from history', async () => {
    const page = await open('/devices/sim-005');
    const wall = await open('/wall?devices=sim-001,sim-002,sim-003,sim-005&window=1m');
    await waitConnected(page);
    await waitConnected(wall);
    await waitFor(async () => (await chartPoints(page)) > 6, {
      timeoutMs: 15_000,
      message: 'a few points before the crash',
    });
    await waitFor(async () => (await wall.locator('.wall-tile[data-health=live]').count()) === 4, {
      timeoutMs: 15_000,
      message: 'live tiles on the wall',
    });
    expect(Number(await attr(page, 'app-live-chart', 'data-gaps'))).toBe(0);

    const killedAt = Date.now();
    await backend.kill();
    await waitFor(async () => (await attr(page, '.conn', 'data-phase')) !== 'connected', {
      timeoutMs: 15_000,
      message: 'the page to notice',
    });
    const banner = wall.locator('[data-testid=wall-banner]');
    await waitFor(
      async () =>
        /CONNECTION LOST — reconnecting (in \d+ s|now)/.test((await banner.textContent()) ?? ''),
      { timeoutMs: 15_000, message: 'the wall banner' },
    );
    await shot(wall, 'wall-disconnected.png');

    // Restart while the page is deep in its backoff, so the gateway collects
    // readings the page has not seen: they must come back with the acknowledgement. Right
    // after the 5th failed retry the next one is 8–16 s away (1 s doubling, 50–100 % jitter),
    // far more than a restart takes; after the 4th it was 4–8 s, and a slow start on a loaded
    // machine met the page's retry within a second.
    await waitFor(async () => Number(await attr(page, '.conn', 'data-attempt')) >= 5, {
      timeoutMs: 40_000,
      message: 'a few failed retries',
    });
    backend = await startBuiltBackend(ports, data.env);
    const restartedAt = Date.now();
    await waitConnected(page);
    const reconnectedAt = Date.now();
    await waitConnected(wall);
    await sleep(2500);

    expect(await banner.count()).toBe(0);
    // One gap only: the outage itself. The chart resumes at the very first reading the
    // restarted gateway holds: what arrived between the restart and the reconnect was filled
    // in from the subscribe acknowledgement. (When that first reading came in while the page
    // was still waiting to retry, as it normally does, the backfill is what put it there;
    // on a loaded machine the restarted simulator may be slower than the page's retry.)
    const gaps = Number(await attr(page, 'app-live-chart', 'data-gaps'));
    const lastGapEnd = Number(await attr(page, 'app-live-chart', 'data-last-gap-end'));
    const held = await getJson<HistoryResponse>(
      `${backend.httpUrl}/api/devices/sim-005/history?from=${killedAt}&maxPoints=100000`,
    );
    const firstAfterRestart = Math.min(...held.body.series.map((series) => series.t[0]));
    expect(gaps).toBe(1);
    expect(lastGapEnd).toBeGreaterThan(killedAt);
    expect(reconnectedAt - restartedAt).toBeGreaterThan(1000);
    expect(lastGapEnd).toBe(firstAfterRestart);
    process.stderr.write(
      `[e2e] restart: first reading ${firstAfterRestart - restartedAt} ms after the restart, page reconnected after ${reconnectedAt - restartedAt} ms${firstAfterRestart < reconnectedAt ? ' (backfilled)' : ''}\n`,
    );
    await shot(page, 'device-after-restart.png');
  });
});

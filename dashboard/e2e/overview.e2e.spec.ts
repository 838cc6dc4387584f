import { encodeTelemetry, metaTopic, statusTopic, telemetryTopic } from '@pulse/protocol';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import mqtt, { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import {
  BrowserSession,
  describeInBrowser,
  startBrowserSession,
  waitConnected,
} from './support/browser';
import { authEnv } from './support/auth';
import { overheatRule, rulesFile } from './support/rules';

/**
 * The fleet overview at fleet scale: 5,000 simulated devices (slow, so the machine stays free)
 * and one device of the test's own that a rule makes critical. Its name sorts last, so the end
 * of the default (name) order is a device the test knows. The page's socket frames are read as
 * an operator with the browser's network panel would: what it subscribed to, what it received.
 * Owns this stack and browser only.
 */
const FLEET = 5000;
const HOT = 'e2e-hot';
/** Longer than a tile's name line: its number must stay in sight beside the alert badge. */
const HOT_NAME = 'Zz boiler room sensor 0042 · Plant hall east';
const METRIC = 'e2e_temp';
/** Tiles in the DOM stay under this at any fleet size (a 1400×900 window shows about 20). */
const MAX_TILES = 300;

/** A socket.io frame of the `/live` namespace as `[event, payload]`, or null. */
function liveFrame(payload: string | Buffer): [string, unknown] | null {
  const match = /^42\/live,\d*(\[.*)$/s.exec(String(payload));
  if (!match) return null;
  try {
    return JSON.parse(match[1]) as [string, unknown];
  } catch {
    return null;
  }
}

/** What the page asked of the gateway and heard back, from its websocket frames. */
class SocketLog {
  readonly requests: Array<{ event: string; body: Record<string, unknown> }> = [];
  /** Device ids in `readings` frames received, with how many readings each. */
  readonly readings = new Map<string, number>();
  /** Sizes (characters) of the subscribe acknowledgements received, in order. */
  readonly ackSizes: number[] = [];
  /** Pages of the fleet asked over HTTP (`GET /api/fleet/summary`): how many devices, how big. */
  readonly fleetPages: Array<{ limit: number; bytes: number }> = [];

  attach(page: Page): void {
    page.on('response', async (res) => {
      const url = new URL(res.url());
      if (url.pathname !== '/api/fleet/summary') return;
      const body = await res.body().catch(() => Buffer.alloc(0));
      this.fleetPages.push({ limit: Number(url.searchParams.get('limit')), bytes: body.length });
    });
    page.on('websocket', (ws) => {
      ws.on('framesent', ({ payload }) => {
        const frame = liveFrame(payload);
        if (frame && (frame[0] === 'subscribe' || frame[0] === 'unsubscribe'))
          this.requests.push({ event: frame[0], body: frame[1] as Record<string, unknown> });
      });
      ws.on('framereceived', ({ payload }) => {
        const text = String(payload);
        if (text.startsWith('43/live,') && text.includes('"serverTime"'))
          this.ackSizes.push(text.length);
        const frame = liveFrame(payload);
        if (frame?.[0] !== 'readings') return;
        for (const r of frame[1] as Array<{ deviceId: string }>)
          this.readings.set(r.deviceId, (this.readings.get(r.deviceId) ?? 0) + 1);
      });
    });
  }

  /** Devices named in any subscribe so far. */
  everSubscribed(): Set<string> {
    return new Set(
      this.requests.flatMap((r) =>
        r.event === 'subscribe' ? ((r.body['devices'] as string[] | undefined) ?? []) : [],
      ),
    );
  }

  /** Devices subscribed and not unsubscribed since. */
  subscribed(): Set<string> {
    const devices = new Set<string>();
    for (const { event, body } of this.requests)
      for (const id of (body['devices'] as string[] | undefined) ?? [])
        if (event === 'subscribe') devices.add(id);
        else devices.delete(id);
    return devices;
  }
}

/**
 * Runs in the page before its scripts: notes when the first websocket message carrying the text
 * the test waits for arrives (performance.now()), before socket.io reads it (a value reaches its
 * tile in a `readings` frame; the text is the value alone, whatever the frame's form).
 */
function hookSocketArrivals(): void {
  const w = window as unknown as {
    WebSocket: typeof WebSocket;
    __arrivals: Record<string, number>;
    __watchFor: string | null;
  };
  w.__arrivals = {};
  w.__watchFor = null;
  const Native = w.WebSocket;
  w.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (event) => {
        const text = w.__watchFor;
        if (text && typeof event.data === 'string' && event.data.includes(text))
          w.__arrivals[text] ??= performance.now();
      });
    }
  };
}

describeInBrowser('fleet overview with 5,000 devices in a real browser', () => {
  let backend: Backend;
  let session: BrowserSession;
  let device: MqttClient;
  let page: Page;
  const socketLog = new SocketLog();
  const rules = rulesFile([overheatRule('e2e-hot-high', HOT, METRIC)]);
  const data = authEnv();
  const tileIds = (p: Page) =>
    p
      .locator('.tile[data-device-id]')
      .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-device-id')));
  const domNodes = (p: Page) => p.evaluate(() => document.getElementsByTagName('*').length);

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      {
        ...data.env,
        ALERT_RULES_FILE: rules.file,
        SIMULATOR_DEVICES: String(FLEET),
        // One reading per device every 50 s: a 5,000-device roster at 100 messages a second.
        SIMULATOR_RATE: '0.02',
      },
    );
    session = await startBrowserSession(backend.httpUrl);
    device = await mqtt.connectAsync(backend.mqttUrl, {
      clientId: 'pulse-e2e-hot',
      reconnectPeriod: 0,
    });
    await device.publishAsync(
      metaTopic(HOT),
      JSON.stringify({ name: HOT_NAME, group: 'e2e', units: { [METRIC]: '°C' } }),
      {
        retain: true,
        qos: 1,
      },
    );
    await device.publishAsync(statusTopic(HOT), 'online', { retain: true, qos: 1 });
    await device.publishAsync(
      telemetryTopic(HOT),
      encodeTelemetry([{ ts: Date.now(), values: { [METRIC]: 20 } }]),
    );
  });

  afterAll(async () => {
    await device?.endAsync(true).catch(() => undefined);
    await session?.close();
    await backend?.kill();
    rules.remove();
    data.remove();
  });

  it('shows the whole fleet with a bounded DOM and scrolls to the last device', async () => {
    page = await session.open('/', async (p) => {
      socketLog.attach(p);
      await p.addInitScript(hookSocketArrivals);
    });
    await waitConnected(page);
    await waitFor(
      async () =>
        (await page.locator('[data-testid=device-count]').textContent())?.includes(
          `${FLEET + 1} / ${FLEET + 1}`,
        ),
      { timeoutMs: 60_000, message: `all ${FLEET + 1} devices in the count` },
    );
    const top = await tileIds(page);
    expect(top.length).toBeGreaterThan(0);
    expect(top.length).toBeLessThan(MAX_TILES);
    const nodesAtTop = await domNodes(page);
    await session.shot(page, 'overview-fleet.png');
    // The first screen renders the rows in view only; the rows just below come once it is
    // live (the scroller's 400 px buffer): a tile more than 300 px below the window.
    await waitFor(
      () =>
        page.evaluate(() =>
          Array.from(document.querySelectorAll('.tile')).some(
            (t) => t.getBoundingClientRect().top > innerHeight + 300,
          ),
        ),
      { timeoutMs: 10_000, message: 'the rows below the first screen rendered' },
    );

    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const last = page.locator(`.tile[data-device-id="${HOT}"]`);
    await last.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await last.isVisible()).toBe(true);
    expect((await tileIds(page)).length).toBeLessThan(MAX_TILES);
    const nodesAtEnd = await domNodes(page);
    process.stderr.write(
      `overview at ${FLEET + 1} devices: ${top.length} tiles, ${nodesAtTop} DOM nodes at the top, ${nodesAtEnd} at the end\n`,
    );
    expect(nodesAtEnd).toBeLessThan(nodesAtTop * 2);
  });

  it('draws each tile in one compositor layer, and nothing else in one of its own', async () => {
    // Chromium makes every 2D canvas a layer of its own, and the CDK viewport's translateZ(0)
    // one more for each tile's text over it: a screen of 1,000-device tiles was 268 layers to
    // layerize and commit on every scrolled frame (24 fps; decision 0035). Since decision 0043
    // each tile is one layer on purpose (will-change: transform), rasterised when it changes and
    // only moved while the page scrolls; a layer for anything else (a sparkline, a tile's text
    // overlapping another layer) is the regression this test is for.
    // The hot device's sparkline at least (most simulated devices here publish once in 50 s);
    // a span.sparkline is the placeholder of a tile that has not drawn yet.
    const drawn = page.locator('.tile .sparkline:not(span)');
    await waitFor(async () => (await drawn.count()) >= 1, {
      timeoutMs: 10_000,
      message: 'a sparkline on screen',
    });
    const tiles = (await tileIds(page)).length;
    expect(tiles).toBeGreaterThanOrEqual(20);
    const cdp = await page.context().newCDPSession(page);
    try {
      const seen: { tree?: { layerId: string }[] } = {};
      cdp.on('LayerTree.layerTreeDidChange', (e) => {
        if (e.layers) seen.tree = e.layers;
      });
      await cdp.send('LayerTree.enable');
      // A frame to report the tree: nudge the scroll by a pixel.
      await page.evaluate(() => window.scrollBy(0, -1));
      await waitFor(async () => seen.tree !== undefined, {
        timeoutMs: 5000,
        message: 'the layer tree',
      });
      const tree = seen.tree ?? [];
      let tileLayers = 0;
      const others: string[] = [];
      for (const { layerId } of tree) {
        const why = await cdp
          .send('LayerTree.compositingReasons', { layerId })
          .catch(() => ({ compositingReasonIds: ['(gone)'] }));
        const ids: string[] = why.compositingReasonIds ?? [];
        if (ids.length === 1 && ids[0] === 'WillChangeTransform') tileLayers += 1;
        else others.push(ids.join('+') || '(root)');
      }
      const rendered = await page.locator('app-device-tile').count();
      const sparklines = await drawn.count();
      process.stderr.write(
        `overview: ${tiles} tiles on screen, ${rendered} rendered, ${sparklines} sparklines; ` +
          `${tree.length} compositor layers: ${tileLayers} tiles, others ${others.join(', ')}\n`,
      );
      expect(tileLayers).toBeLessThanOrEqual(rendered);
      expect(tileLayers).toBeGreaterThanOrEqual(tiles);
      expect(others.length).toBeLessThan(10);
      // Sparklines are SVG: a canvas per tile would be a layer each.
      expect(await page.locator('.tile canvas').count()).toBe(0);
    } finally {
      await cdp.detach().catch(() => undefined);
    }
  });

  it('subscribes the devices on screen only, following the scroll; the rest is paged from the gateway', async () => {
    // At the end of the list (the first test scrolled there): the tiles there are watched.
    const onScreen = async () => new Set((await tileIds(page)) as string[]);
    const same = (a: Set<string>, b: Set<string>) =>
      a.size === b.size && [...a].every((id) => b.has(id));
    await waitFor(async () => same(socketLog.subscribed(), await onScreen()), {
      timeoutMs: 5000,
      message: 'the subscribed devices are the tiles at the end of the list',
    });
    expect(socketLog.subscribed().has(HOT)).toBe(true);
    expect(socketLog.requests.some((r) => r.event === 'subscribe' && r.body['fleet'])).toBe(false);
    // Not the fleet's summary either: the page around the screen, asked over HTTP.
    expect(socketLog.requests.some((r) => r.event === 'subscribe' && r.body['summary'])).toBe(
      false,
    );
    expect(socketLog.fleetPages.length).toBeGreaterThan(0);
    // Each subscribe asks for what a sparkline draws, never more than a screenful of devices.
    for (const { event, body } of socketLog.requests.filter((r) => r.body['devices'])) {
      expect((body['devices'] as string[]).length).toBeLessThan(MAX_TILES);
      // (The first screen's rooms are asked first without history: decision 0049.)
      if (event === 'subscribe' && body['history'] !== false) expect(body['maxPoints']).toBe(60);
    }
    // Back to the top: the end's devices are left, the top's watched.
    await page.evaluate(() => window.scrollTo(0, 0));
    // The rows at the top rendered (not the end's, still there the moment after the scroll)…
    await waitFor(async () => !(await onScreen()).has(HOT), {
      timeoutMs: 5000,
      message: 'the top of the list on screen',
    });
    // …and the subscriptions followed.
    await waitFor(async () => same(socketLog.subscribed(), await onScreen()), {
      timeoutMs: 5000,
      message: 'the subscribed devices follow the scroll to the top',
    });
    expect(socketLog.subscribed().has(HOT)).toBe(false);
    expect(socketLog.everSubscribed().size).toBeLessThan(MAX_TILES);
    // The first screen's payload: a page of the fleet around the screen and a sparkline per tile
    // on screen, each far from the 5,001 devices' size.
    const firstPage = socketLog.fleetPages[0];
    expect(firstPage.limit).toBeLessThan(MAX_TILES);
    for (const { limit, bytes } of socketLog.fleetPages) {
      expect(limit).toBeLessThanOrEqual(1000);
      expect(bytes).toBeLessThan(200_000);
    }
    for (const size of socketLog.ackSizes) expect(size).toBeLessThan(1_000_000);
    process.stderr.write(
      `overview: first fleet page ${firstPage.limit} devices, ${(firstPage.bytes / 1000).toFixed(1)} kB (${socketLog.fleetPages.length} pages asked so far); tiles on screen ${socketLog.ackSizes.map((n) => (n / 1000).toFixed(1)).join(' / ')} kB\n`,
    );
    // Scroll back to the end for the search below.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.locator(`.tile[data-device-id="${HOT}"]`).waitFor({ timeout: 10_000 });
  });

  it('finds a device anywhere in the fleet by search, from the end of the list', async () => {
    await page.getByTestId('fleet-search').fill('sim-4321');
    await waitFor(async () => (await tileIds(page)).join() === 'sim-4321', {
      timeoutMs: 5000,
      message: 'only sim-4321 on screen',
    });
    expect(await page.locator('[data-testid=device-count]').textContent()).toContain(
      `1 / ${FLEET + 1}`,
    );
    await page.getByTestId('fleet-search').fill('');
  });

  it('puts a published value on its tile within a frame or so of its arrival on the socket', async () => {
    await page.getByTestId('fleet-search').fill(HOT);
    await waitFor(
      async () => (await tileIds(page)).join() === HOT && socketLog.subscribed().has(HOT),
      {
        timeoutMs: 5000,
        message: `only ${HOT} on screen, and subscribed`,
      },
    );
    // Whatever happens here, the search is cleared: the cases after this one need the whole fleet.
    try {
      await page.waitForTimeout(500); // its acknowledgement (history) is in
      const latencies: number[] = [];
      // Four decimals: no simulated value has more than three, so the marker is this reading's alone.
      for (const value of [31.3719, 32.4127, 33.5281, 34.6733, 35.7949]) {
        const text = value.toFixed(2); // as the tile shows it
        const seen = page.evaluate(
          ({ id, text, marker }) =>
            new Promise<number>((resolve, reject) => {
              const w = window as unknown as {
                __arrivals: Record<string, number>;
                __watchFor: string | null;
              };
              w.__watchFor = marker;
              const tile = document.querySelector(`.tile[data-device-id="${id}"]`);
              if (!tile) return reject(new Error('no tile'));
              const observer = new MutationObserver(() => {
                if (!tile.querySelector('.metric-value')?.textContent?.includes(text)) return;
                observer.disconnect();
                const arrived = w.__arrivals[marker];
                if (arrived === undefined)
                  reject(new Error(`${text} shown, but no websocket message carried it`));
                else resolve(performance.now() - arrived);
              });
              observer.observe(tile, { subtree: true, childList: true, characterData: true });
              setTimeout(() => reject(new Error(`${text} not shown within 5 s`)), 5000);
            }),
          { id: HOT, text, marker: String(value) },
        );
        await page.waitForTimeout(50); // the observer is in place
        await device.publishAsync(
          telemetryTopic(HOT),
          encodeTelemetry([{ ts: Date.now(), values: { [METRIC]: value } }]),
        );
        latencies.push(await seen);
      }
      process.stderr.write(
        `socket-to-screen on the overview: ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms\n`,
      );
      // Generous (a loaded shared machine); the benchmark measures it precisely.
      for (const ms of latencies) expect(ms).toBeLessThan(250);
      // The fleet sends ~100 readings a second; this page got only those of devices it showed.
      expect(socketLog.readings.get(HOT) ?? 0).toBeGreaterThanOrEqual(latencies.length);
      const everSubscribed = socketLog.everSubscribed();
      const strangers = [...socketLog.readings.keys()].filter((id) => !everSubscribed.has(id));
      expect(strangers).toEqual([]);
      process.stderr.write(
        `overview at ${FLEET + 1} devices: ${everSubscribed.size} devices ever subscribed, readings of ${socketLog.readings.size} devices received\n`,
      );
    } finally {
      await page.getByTestId('fleet-search').fill('');
    }
  });

  it('puts the alerting device first when sorted by alert severity', async () => {
    await device.publishAsync(
      telemetryTopic(HOT),
      encodeTelemetry([{ ts: Date.now(), values: { [METRIC]: 80 } }]),
    );
    const tiles = await waitFor(
      async () => {
        await page.getByTestId('fleet-sort').selectOption('severity');
        const ids = await tileIds(page);
        return ids[0] === HOT ? ids : null;
      },
      { timeoutMs: 10_000, message: `${HOT} first by severity` },
    );
    expect(tiles[0]).toBe(HOT);
    expect(
      await page
        .locator(`.tile[data-device-id="${HOT}"] [data-testid=alert-badge]`)
        .getAttribute('data-severity'),
    ).toBe('critical');
    // The number that tells the device apart is on screen, whole, in the name's box and clear of
    // the badge: the characters themselves are measured, whatever cut the rest of the name.
    const number = await page.locator(`.tile[data-device-id="${HOT}"]`).evaluate((tile) => {
      const name = tile.querySelector('.tile-name') as HTMLElement;
      const badge = tile.querySelector('[data-testid=alert-badge]') as HTMLElement;
      const walker = document.createTreeWalker(name, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent?.indexOf('0042') ?? -1;
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + 4);
        const digits = range.getBoundingClientRect();
        // Every box that clips it: the name line and each part of it.
        const boxes = [name, ...Array.from(name.querySelectorAll('span'))]
          .filter((el) => el.contains(node))
          .map((el) => el.getBoundingClientRect());
        return {
          text: name.textContent,
          seen: boxes.every((b) => digits.left >= b.left - 0.5 && digits.right <= b.right + 0.5),
          clear: digits.right <= badge.getBoundingClientRect().left,
        };
      }
      return { text: name.textContent, seen: false, clear: false };
    });
    expect(number).toEqual({ text: expect.stringContaining('0042'), seen: true, clear: true });
    await page.getByTestId('fleet-sort').selectOption('name');
    await waitFor(async () => (await tileIds(page))[0] !== HOT, {
      timeoutMs: 5000,
      message: 'name order back',
    });
  });

  it('groups the fleet under headings, still drawing only what is on screen', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByText('Group by group').click();
    const headings = () =>
      page
        .locator('.section-title')
        .evaluateAll((hs) => hs.map((h) => h.textContent?.trim().split(' ')[0]));
    await waitFor(async () => (await headings())[0] === 'e2e', {
      timeoutMs: 5000,
      message: 'group headings',
    });
    expect((await tileIds(page))[0]).toBe(HOT); // the only device of group e2e
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    // The last group (office, alphabetically) ends the list.
    await waitFor(
      async () => (await page.locator('.tile-where').last().textContent())?.includes('office'),
      { timeoutMs: 5000, message: 'an office device at the end' },
    );
    expect((await tileIds(page)).length).toBeLessThan(MAX_TILES);
    await page.getByText('Group by group').click();
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('re-cuts the rows when the window narrows', async () => {
    const perRow = () => page.locator('.tile-row').first().locator('.tile[data-device-id]').count();
    // Back at the top: its page of the fleet comes from the gateway a moment after the jump.
    await waitFor(async () => (await perRow()) === 5, {
      timeoutMs: 5000,
      message: 'five tiles a row', // 1400 px: five tiles of 262 px at least (TILE_MIN_PX)
    });
    // 800 px: two tiles (three of 245 px would cut "temperature", as six did at 1920 px).
    await page.setViewportSize({ width: 800, height: 900 });
    await waitFor(async () => (await perRow()) === 2, {
      timeoutMs: 5000,
      message: 'two tiles a row',
    });
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  it('fits the header and one tile per row on a 390 px phone', async () => {
    const phone = await session.open('/', (p) => p.setViewportSize({ width: 390, height: 844 }));
    await waitConnected(phone);
    await phone.locator('.tile[data-device-id]').nth(1).waitFor({ timeout: 30_000 });
    const layout = await phone.evaluate(() => {
      const conn = document.querySelector('.conn')?.getBoundingClientRect();
      const tiles = Array.from(document.querySelectorAll('.tile[data-device-id]'))
        .slice(0, 2)
        .map((t) => t.getBoundingClientRect());
      return {
        page: document.documentElement.scrollWidth,
        conn: conn && { left: conn.left, right: conn.right, top: conn.top, bottom: conn.bottom },
        tiles: tiles.map((t) => ({ left: t.left, right: t.right, top: t.top })),
      };
    });
    expect(layout.page).toBeLessThanOrEqual(390);
    expect(layout.conn).toBeDefined();
    expect(layout.conn?.left).toBeGreaterThanOrEqual(0);
    expect(layout.conn?.right).toBeLessThanOrEqual(390);
    expect(layout.conn?.top).toBeGreaterThanOrEqual(0);
    expect(layout.conn?.bottom).toBeLessThanOrEqual(844);
    // One per row: the second tile is below the first, not beside it.
    expect(layout.tiles[1].left).toBe(layout.tiles[0].left);
    expect(layout.tiles[1].top).toBeGreaterThan(layout.tiles[0].top);
    expect(layout.tiles[0].right).toBeLessThanOrEqual(390);
    await session.shot(phone, 'overview-phone.png');

    // A device's page on the phone: its window buttons and Pause on screen, big enough to tap.
    const id = await phone.locator('.tile[data-device-id]').first().getAttribute('data-device-id');
    const device = await session.open(`/devices/${id}`, (p) =>
      p.setViewportSize({ width: 390, height: 844 }),
    );
    await device.getByTestId('pause').waitFor({ timeout: 10_000 });
    const controls = await device.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      buttons: Array.from(document.querySelectorAll('.controls button')).map((b) => {
        const r = b.getBoundingClientRect();
        return { text: b.textContent?.trim(), left: r.left, right: r.right, height: r.height };
      }),
    }));
    expect(controls.page).toBeLessThanOrEqual(390);
    expect(controls.buttons.map((b) => b.text)).toContain('Pause');
    for (const button of controls.buttons) {
      expect(button.left).toBeGreaterThanOrEqual(0);
      expect(button.right).toBeLessThanOrEqual(390);
      expect(button.height).toBeGreaterThanOrEqual(40);
    }
  });
});

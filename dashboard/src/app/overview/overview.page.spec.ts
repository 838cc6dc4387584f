import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { By } from '@angular/platform-browser';
import { CdkVirtualScrollViewport } from '@angular/cdk/scrolling';
import type { DeviceInfo } from '@pulse/protocol/core';
import { LIVE_SOCKET_FACTORY } from '../core/live/live-socket';
import { FakeLiveSocket, fakeSocketFactory } from '../testing/fake-live-socket';
import { SummaryDevice } from '../testing/fleet-summary';
import { FakeFleetPages, fakeFleetPages } from '../testing/fleet-pages';
import { FETCH } from '../core/http/alerts-api';
import { viewportInjectsStyles } from './cdk-viewport-styles';
import { DeviceStore, PACE_MS } from '../core/stores/device.store';
import { FLEET_REFRESH_MS, OverviewPage } from './overview.page';

const device = (id: string, name: string, group: string, temperature?: number): SummaryDevice => ({
  id,
  name,
  group,
  values: temperature === undefined ? {} : { temperature },
});

/** What the gateway says of a device when it is subscribed (its meta, with the unit). */
const info = (d: SummaryDevice): DeviceInfo => ({
  deviceId: d.id,
  status: 'online',
  lastSeen: Date.now(),
  lastTs: Date.now(),
  meta: { name: d.name ?? undefined, group: d.group ?? undefined, units: { temperature: '°C' } },
  metrics: ['temperature'],
});

/** Let promises and zero-delay timers (the device set's first diff) run. */
const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pending subscribes for devices (the tiles on screen), oldest first. */
const deviceSubscribes = (socket: FakeLiveSocket) =>
  socket.subscribes.filter((s) => s.request.devices?.length);

describe('OverviewPage', () => {
  // jsdom has no layout: give the window (the scroller the overview uses) a screen's height.
  beforeAll(() =>
    Object.defineProperty(document.documentElement, 'clientHeight', {
      configurable: true,
      value: 900,
    }),
  );
  afterAll(() => delete (document.documentElement as { clientHeight?: number }).clientHeight);

  async function render(
    devices = [
      device('b-1', 'Boiler', 'hall-a', 71.5),
      device('p-1', 'Pump', 'hall-b', 20),
      device('f-1', 'Fan', 'hall-a', 30),
    ],
    { answerTiles = true } = {},
  ) {
    const sockets = fakeSocketFactory();
    const gateway: FakeFleetPages = fakeFleetPages(devices, ['temperature']);
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        { provide: LIVE_SOCKET_FACTORY, useValue: sockets.factory },
        { provide: FETCH, useValue: gateway.fetch },
      ],
    });
    const fixture = TestBed.createComponent(OverviewPage);
    await fixture.whenStable();
    const socket = sockets.last();
    socket.server.connected('websocket');
    await tick();
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    // The viewport measures the window once rendered; ask again now that rows exist.
    const viewport = fixture.debugElement.query(By.directive(CdkVirtualScrollViewport))
      .componentInstance as CdkVirtualScrollViewport;
    const settle = async () => {
      viewport.checkViewportSize();
      await fixture.whenStable();
      await tick();
      await fixture.whenStable();
    };
    await settle();
    // The gateway answers the subscribes of the tiles on screen: their rooms and meta, then (asked
    // once those are answered) a sparkline's history.
    const answered = new Set<object>();
    const answer = async () => {
      for (let round = 0; round < 4; round++) {
        const pending = deviceSubscribes(socket).filter((s) => !answered.has(s));
        if (pending.length === 0) break;
        for (const subscribe of pending) {
          answered.add(subscribe);
          subscribe.reply({
            ok: true,
            serverTime: Date.now(),
            devices: devices.filter((d) => subscribe.request.devices?.includes(d.id)).map(info),
            history: [],
            rooms: [],
          });
        }
        await settle();
      }
    };
    if (answerTiles) await answer();
    const tiles = () =>
      [...el.querySelectorAll('.tile')].map((t) => t.getAttribute('data-device-id'));
    /** Let the page ask the gateway again (its once-a-second refresh) and draw the answer. */
    const refreshed = async () => {
      await tick(FLEET_REFRESH_MS + 50);
      await settle();
    };
    return { fixture, el, socket, gateway, tiles, settle, answer, refreshed };
  }

  /** Choose an option of a select by value, as a person would. */
  const choose = (el: HTMLElement, selector: string, value: string) => {
    const select = el.querySelector(selector) as HTMLSelectElement;
    select.value = value;
    select.dispatchEvent(new Event('change'));
  };

  it('asks the gateway for the page of the fleet around the screen and subscribes only the devices on screen, with a sparkline of history', async () => {
    const { socket, gateway } = await render();
    expect(socket.subscribes.some((s) => s.request.fleet || s.request.summary)).toBe(false);
    expect(Object.fromEntries(gateway.asked[0])).toEqual({
      sort: 'name',
      offset: '0',
      limit: '240',
    });
    // The rooms first (their readings do not wait behind the points), then the sparklines' history.
    const visible = deviceSubscribes(socket);
    expect(visible.map((s) => s.request.history)).toEqual([false, true]);
    expect(visible[1].request).toMatchObject({ maxPoints: 60, timeDeltas: true });
    for (const { request } of visible)
      expect([...(request.devices ?? [])].sort()).toEqual(['b-1', 'f-1', 'p-1']);
  });

  it('shows the numbers of the first screen first, its sparklines once it has been up a moment', async () => {
    // Seen when the first number reaches the DOM (a microtask of the render that put it there),
    // so a slow machine cannot let the sparklines' timer run before the check.
    let sparklinesWithFirstNumber: number | null = null;
    const observer = new MutationObserver(() => {
      if (sparklinesWithFirstNumber === null && document.querySelector('.metric-value'))
        sparklinesWithFirstNumber = document.querySelectorAll('svg.sparkline').length;
    });
    observer.observe(document.body, { childList: true, subtree: true });
    const { el, settle } = await render();
    observer.disconnect();
    expect(sparklinesWithFirstNumber).toBe(0);
    await tick(200); // SCROLL_SETTLE_MS
    await settle();
    expect(el.querySelector('.tile[data-device-id="b-1"] svg.sparkline')).not.toBeNull();
  });

  it("draws the first screen's sparklines only once the tiles' own subscribe is answered", async () => {
    // Its values go on screen first: ~140 sparkline canvases made meanwhile held the answer up (issue 11).
    const { el, settle, answer } = await render(undefined, { answerTiles: false });
    await tick(400); // well past SCROLL_SETTLE_MS
    await settle();
    expect(el.querySelector('.tile[data-device-id="b-1"] .metric-value')).not.toBeNull();
    expect(el.querySelector('svg.sparkline')).toBeNull();
    await answer();
    await tick(200); // SCROLL_SETTLE_MS after the answer
    await settle();
    expect(el.querySelector('.tile[data-device-id="b-1"] svg.sparkline')).not.toBeNull();
  });

  it('shows every device as a tile, sorted by name, with its latest value and unit', async () => {
    const { el, tiles } = await render();
    expect(tiles()).toEqual(['b-1', 'f-1', 'p-1']);
    const boiler = el.querySelector('.tile[data-device-id="b-1"]') as HTMLElement;
    expect(boiler.textContent).toContain('Boiler');
    expect(boiler.textContent).toContain('hall-a');
    expect(boiler.querySelector('.metric-value')?.textContent?.trim()).toBe('71.50°C');
    expect(boiler.getAttribute('href')).toBe('/devices/b-1');
  });

  it('gives a tile in the same place another device instead of making a new one', async () => {
    // A row the scroller recycles keeps its tiles, links and sparklines (scrolling cost, issue 11).
    const { el, tiles, settle } = await render();
    await tick(200); // the first screen's sparklines
    await settle();
    const first = el.querySelector('.tile') as HTMLElement;
    const sparkline = first.querySelector('svg.sparkline');
    expect(first.getAttribute('data-device-id')).toBe('b-1');
    expect(sparkline).not.toBeNull();
    const input = el.querySelector('input[type=search]') as HTMLInputElement;
    input.value = 'pu';
    input.dispatchEvent(new Event('input'));
    await settle();
    expect(tiles()).toEqual(['p-1']);
    expect(el.querySelector('.tile')).toBe(first);
    expect(first.querySelector('svg.sparkline')).toBe(sparkline);
    expect(first.getAttribute('href')).toBe('/devices/p-1');
    expect(first.querySelector('.tile-name')?.textContent).toContain('Pump');
    expect(first.querySelector('.metric-value')?.textContent?.trim()).toBe('20.00°C');
  });

  it('filters by text and by group, and groups by group', async () => {
    const { el, tiles, settle } = await render();
    const input = el.querySelector('input[type=search]') as HTMLInputElement;
    input.value = 'pu';
    input.dispatchEvent(new Event('input'));
    await settle();
    expect(tiles()).toEqual(['p-1']);

    input.value = '';
    input.dispatchEvent(new Event('input'));
    const select = el.querySelector('select') as HTMLSelectElement;
    select.value = 'hall-a';
    select.dispatchEvent(new Event('change'));
    await settle();
    expect(tiles()).toEqual(['b-1', 'f-1']);
    expect([...select.options].map((o) => o.value)).toEqual(['', 'hall-a', 'hall-b']);

    select.value = '';
    select.dispatchEvent(new Event('change'));
    const groupBy = el.querySelector('input[type=checkbox]') as HTMLInputElement;
    groupBy.checked = true;
    groupBy.dispatchEvent(new Event('change'));
    await settle();
    expect(
      [...el.querySelectorAll('.section-title')].map((h) => h.textContent?.trim().split(' ')[0]),
    ).toEqual(['hall-a', 'hall-b']);
  });

  it('sorts alerting devices first, the most severe first, as the gateway orders them', async () => {
    const { fixture, el, gateway, tiles, settle } = await render([
      { ...device('b-1', 'Boiler', 'hall-a', 71.5) },
      { ...device('p-1', 'Pump', 'hall-b', 20), alert: ['warning', 1] },
      { ...device('f-1', 'Fan', 'hall-a', 30), alert: ['critical', 2] },
    ]);
    const sort = el.querySelector('[data-testid=fleet-sort]') as HTMLSelectElement;
    expect(sort.value).toBe('name');
    choose(el, '[data-testid=fleet-sort]', 'severity');
    await fixture.whenStable();
    await settle();
    expect(gateway.asked.at(-1)?.get('sort')).toBe('severity');
    expect(tiles()).toEqual(['f-1', 'p-1', 'b-1']);
  });

  it('keeps the DOM, the subscription and the devices held to the page around the screen, however large the fleet', async () => {
    const fleet = Array.from({ length: 2000 }, (_, i) =>
      device(`sim-${String(i + 1).padStart(4, '0')}`, `Env sensor ${i + 1}`, 'hall-a', i),
    );
    const { el, tiles, socket, gateway } = await render(fleet);
    expect(el.querySelector('[data-testid=device-count]')?.textContent).toContain('2000 / 2000');
    // 900 px of window (with the buffer below once the first screen is live), one tile per row
    // without layout width.
    expect(tiles().length).toBeGreaterThan(0);
    expect(tiles().length).toBeLessThan(12);
    expect(tiles()[0]).toBe('sim-0001');
    const subscribed = new Set(deviceSubscribes(socket).flatMap((s) => s.request.devices ?? []));
    expect([...subscribed].sort()).toEqual([...tiles()].sort());
    // The browser holds the page around the screen, not the fleet.
    const held = TestBed.inject(DeviceStore).size;
    expect(held).toBeGreaterThanOrEqual(tiles().length);
    expect(held).toBeLessThanOrEqual(240);
    expect(gateway.asked.every((p) => Number(p.get('limit')) <= 240)).toBe(true);
  });

  it("sorts by any metric's latest value, highest first, over the whole fleet", async () => {
    const fleet = Array.from({ length: 500 }, (_, i) =>
      device(`sim-${String(i).padStart(3, '0')}`, `Sensor ${i}`, 'hall-a', (i * 37) % 500),
    );
    const { fixture, el, tiles, settle } = await render(fleet);
    const sort = el.querySelector('[data-testid=fleet-sort]') as HTMLSelectElement;
    const options = [...sort.options].map((o) => o.value);
    expect(options).toContain('metric:temperature');
    choose(el, '[data-testid=fleet-sort]', 'metric:temperature');
    await fixture.whenStable();
    await settle();
    // 37 × i mod 500 is 499 for i = 27, then 498 for i = 54.
    expect(tiles().slice(0, 2)).toEqual(['sim-027', 'sim-054']);
  });

  it("shows a reading's value on its tile at the next change detection at a readable rate, faster ones within a pace", async () => {
    const { fixture, el, socket } = await render();
    // The pace is read from the clock: a fake one, so a stall of the machine between two
    // readings (a busy CI) cannot make the second one a pace later.
    jest.useFakeTimers({ now: Date.now() });
    try {
      const value = () =>
        el.querySelector('.tile[data-device-id="b-1"] .metric-value')?.textContent?.trim();
      const reading = (dt: number, temperature: number) =>
        socket.server.readings([{ deviceId: 'b-1', ts: Date.now() + dt, values: { temperature } }]);
      expect(value()).toBe('71.50°C');
      jest.advanceTimersByTime(PACE_MS + 10);
      reading(1000, 42.25);
      // Nothing may wait for a throttle timer (the frame's change detection is all).
      fixture.detectChanges();
      expect(value()).toBe('42.25°C');
      // A second reading half a pace later (faster than a person reads) waits for the pace's
      // boundary...
      jest.advanceTimersByTime(PACE_MS / 2);
      reading(1100, 42.5);
      fixture.detectChanges();
      expect(value()).toBe('42.25°C');
      jest.advanceTimersByTime(PACE_MS + 10);
      fixture.detectChanges();
      expect(value()).toBe('42.50°C');
      // ...and the next one a pace later shows at once again.
      jest.advanceTimersByTime(PACE_MS + 10);
      reading(2000, 43);
      fixture.detectChanges();
      expect(value()).toBe('43.00°C');
    } finally {
      jest.useRealTimers();
    }
  });

  it('follows the fleet as the gateway answers once a second: a device that left, a new one, a new order', async () => {
    const { el, gateway, tiles, refreshed } = await render();
    gateway.devices = gateway.devices.filter((d) => d.id !== 'p-1');
    gateway.devices.push(device('a-1', 'Air handler', 'hall-b', 18));
    await refreshed();
    expect(tiles()).toEqual(['a-1', 'b-1', 'f-1']);
    expect(el.querySelector('[data-testid=device-count]')?.textContent).toContain('3 / 3');
    // The device that left is gone from the browser too, once its tile's unsubscribe went out
    // (it was on screen): at the next answer.
    await refreshed();
    expect(TestBed.inject(DeviceStore).get('p-1')).toBeUndefined();
  });

  it('does not ask while the tab is hidden, and asks at once when it shows again', async () => {
    const { gateway, tiles, refreshed, settle } = await render();
    const hidden = jest.spyOn(document, 'hidden', 'get').mockReturnValue(true);
    try {
      const asked = gateway.asked.length;
      gateway.devices = gateway.devices.filter((d) => d.id !== 'b-1');
      await refreshed();
      expect(gateway.asked).toHaveLength(asked);
      hidden.mockReturnValue(false);
      document.dispatchEvent(new Event('visibilitychange'));
      await settle();
      expect(gateway.asked).toHaveLength(asked + 1);
      expect(tiles()).toEqual(['f-1', 'p-1']);
    } finally {
      hidden.mockRestore();
    }
  });

  it('keeps showing the last page while the gateway cannot be read, and catches up after', async () => {
    const { gateway, tiles, refreshed } = await render();
    gateway.down = true;
    gateway.devices = gateway.devices.filter((d) => d.id !== 'b-1');
    await refreshed();
    expect(tiles()).toEqual(['b-1', 'f-1', 'p-1']);
    gateway.down = false;
    await refreshed();
    expect(tiles()).toEqual(['f-1', 'p-1']);
  });

  it('shortens a long name in the middle and always shows the id', async () => {
    const { el } = await render([
      device('env-0042', 'Env sensor in the north wing 0042 · Hall A', 'hall-a'),
    ]);
    const tile = el.querySelector('.tile[data-device-id="env-0042"]') as HTMLElement;
    const name = tile.querySelector('.tile-name') as HTMLElement;
    // No layout in jsdom: the narrowest tile's budget, where only the number fits whole.
    expect(name.textContent?.trim()).toMatch(/^Env.*…0042…$/);
    expect(name.title).toBe('Env sensor in the north wing 0042 · Hall A (env-0042)');
    expect(tile.querySelector('[data-testid=tile-id]')?.textContent).toBe('env-0042');
  });

  it('adds no <style> element for the virtual scroller (the CSP refuses inline styles)', async () => {
    await render();
    expect(viewportInjectsStyles()).toBe(false);
    expect(document.head.querySelector('style')?.textContent ?? '').not.toContain(
      'cdk-virtual-scroll',
    );
  });
});

import { TestBed } from '@angular/core/testing';
import { LIMITS, RESUBSCRIBE_OVERLAP_MS, toTimeDeltas } from '@pulse/protocol/core';
import type { Reading, WireSeries } from '@pulse/protocol/core';
import { DeviceStore } from '../stores/device.store';
import { LIVE_SOCKET_FACTORY, LiveSocketHandlers, LiveSocketOptions, RANDOM } from './live-socket';
import { FakeLiveSocket as FakeSocket } from '../../testing/fake-live-socket';
import { LiveService } from './live.service';
import { SeriesStore } from '../stores/series.store';
import { countGaps } from '../stores/chart-series';
import { WEBSOCKET_GUARD_MS, readTransportRecord, writeTransportRecord } from './transport-memory';
import { FETCH } from '../http/alerts-api';
import { fakeHttp } from '../../testing/fake-http';

const ORIGIN = 'http://localhost'; // jsdom's
const remember = (verdict: 'worked' | 'blocked') =>
  writeTransportRecord(localStorage, ORIGIN, verdict, Date.now());

/** Let answered promises settle (no time passes): a window read over HTTP is a few hops deep. */
const flushPromises = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Answer the socket's last subscribe with this history. */
async function ack(
  socket: FakeSocket,
  history: WireSeries[],
  serverTime = Date.now(),
): Promise<void> {
  socket.subscribes[socket.subscribes.length - 1].reply({
    ok: true,
    serverTime,
    devices: [],
    history,
    rooms: [],
  });
  await flushPromises();
}

const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);
const reading = (ts: number, v: number): Reading => ({
  deviceId: 'd1',
  ts,
  values: { temperature: v },
});

function setup(search = '', http = fakeHttp()) {
  let socket: FakeSocket | undefined;
  const created: FakeSocket[] = [];
  TestBed.configureTestingModule({
    providers: [
      { provide: FETCH, useValue: http.fetch },
      {
        provide: LIVE_SOCKET_FACTORY,
        useValue: (options: LiveSocketOptions, handlers: LiveSocketHandlers) => {
          socket = new FakeSocket(options, handlers);
          created.push(socket);
          return socket;
        },
      },
      { provide: RANDOM, useValue: () => 0.5 },
    ],
  });
  if (search) window.history.replaceState({}, '', `/${search}`);
  const sut = TestBed.inject(LiveService);
  return {
    sut,
    socket: () => {
      if (!socket) throw new Error('no socket created');
      return socket;
    },
    /** Connection attempts over every socket created so far. */
    connects: () => created.reduce((n, sock) => n + sock.connects, 0),
    created,
    series: TestBed.inject(SeriesStore),
    devices: TestBed.inject(DeviceStore),
    http,
  };
}

describe('LiveService', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    window.history.replaceState({}, '', '/');
    localStorage.clear();
  });
  afterEach(() => {
    TestBed.resetTestingModule();
    jest.useRealTimers();
  });

  it('connects websocket-first with polling fallback, and remembers the websocket', () => {
    const { sut, socket } = setup();
    sut.start();
    expect(socket().options.transports).toEqual(['websocket', 'polling']);
    expect(socket().connects).toBe(1);
    expect(sut.connection().phase).toBe('connecting');
    socket().server.connected('websocket');
    jest.advanceTimersByTime(5000); // no guard once connected
    expect(sut.connection()).toMatchObject({ phase: 'connected', transport: 'websocket' });
    expect(sut.connection().attempt).toBe(0);
    expect(readTransportRecord(localStorage, ORIGIN)?.websocket).toBe('worked');
  });

  it('starts over long-polling where the websocket was blocked, and shows the upgrade', () => {
    remember('blocked');
    const { sut, socket } = setup();
    sut.start();
    expect(socket().options.transports).toEqual(['polling', 'websocket']);
    socket().server.connected('polling');
    expect(sut.connection()).toMatchObject({ phase: 'connected', transport: 'polling' });
    socket().server.transport('websocket');
    expect(sut.connection()).toMatchObject({ phase: 'connected', transport: 'websocket' });
    expect(readTransportRecord(localStorage, ORIGIN)?.websocket).toBe('worked');
  });

  it('gives a silent websocket a moment, then carries on over long-polling', () => {
    remember('worked');
    const { sut, socket, created } = setup();
    sut.start();
    const first = socket();
    jest.advanceTimersByTime(WEBSOCKET_GUARD_MS - 1);
    expect(created).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(created).toHaveLength(2);
    expect(first.disconnects).toBe(1);
    expect(socket().options.transports).toEqual(['polling', 'websocket']);
    expect(socket().connects).toBe(1);
    expect(sut.connection()).toMatchObject({ phase: 'connecting', attempt: 0 });
    expect(readTransportRecord(localStorage, ORIGIN)?.websocket).toBe('blocked');
    // The replaced socket is no longer listened to; the new one connects and upgrades later.
    first.server.connected('websocket');
    expect(sut.connection().phase).toBe('connecting');
    socket().server.connected('polling');
    expect(sut.connection()).toMatchObject({ phase: 'connected', transport: 'polling' });
    socket().server.upgradeFailed();
    expect(sut.connection()).toMatchObject({ phase: 'connected', transport: 'polling' });
  });

  it('forces long-polling with ?transport=polling', () => {
    const { sut, socket } = setup('?transport=polling');
    sut.start();
    expect(socket().options.transports).toEqual(['polling']);
  });

  it('retries with exponential backoff and jitter, exposing the next try for a countdown', () => {
    const { sut, socket, connects } = setup();
    sut.start();
    // random() = 0.5 with equal jitter: 0.75 × the raw delay (1 s, 2 s, 4 s, ...).
    const expected = [750, 1500, 3000, 6000, 7500, 7500, 7500];
    for (const delay of expected) {
      const connectsBefore = connects();
      socket().server.connectFailed('xhr poll error');
      const state = sut.connection();
      expect(state.phase).toBe('reconnecting');
      expect(state.nextRetryAt).toBe(Date.now() + delay);
      jest.advanceTimersByTime(delay - 1);
      expect(connects()).toBe(connectsBefore);
      jest.advanceTimersByTime(1);
      expect(connects()).toBe(connectsBefore + 1);
      expect(sut.connection().phase).toBe('connecting');
    }
    socket().server.connected('polling');
    expect(sut.connection()).toMatchObject({
      phase: 'connected',
      transport: 'polling',
      attempt: 0,
      nextRetryAt: null,
    });
    socket().server.disconnected('transport close');
    expect(sut.connection().nextRetryAt).toBe(Date.now() + 750);
  });

  it('starts with long-polling (then upgrades) once a websocket attempt failed', () => {
    const { sut, socket, created } = setup();
    sut.start();
    const first = socket();
    first.server.connectFailed('timeout');
    jest.advanceTimersByTime(750);
    expect(created).toHaveLength(2);
    expect(first.disconnects).toBe(1);
    expect(socket().options.transports).toEqual(['polling', 'websocket']);
    // The replaced socket is no longer listened to.
    first.server.connected('websocket');
    expect(sut.connection().phase).toBe('connecting');
    socket().server.connected('polling');
    socket().server.transport('websocket');
    expect(sut.connection()).toMatchObject({ phase: 'connected', transport: 'websocket' });
  });

  it('jitter spreads clients apart', () => {
    let r = 0;
    const { sut, socket } = setup();
    const values = [0, 0.999];
    (sut as unknown as { random: () => number }).random = () => values[r++];
    sut.start();
    socket().server.connectFailed('x');
    const first = (sut.connection().nextRetryAt ?? NaN) - Date.now();
    jest.advanceTimersByTime(first);
    socket().server.connectFailed('x');
    const second = (sut.connection().nextRetryAt ?? NaN) - Date.now();
    expect(first).toBe(500);
    expect(second).toBe(1999);
  });

  it('does not count a failed attempt twice when a disconnect follows it', () => {
    const { sut, socket } = setup();
    sut.start();
    socket().server.connectFailed('timeout');
    socket().server.disconnected('transport error');
    expect(sut.connection().attempt).toBe(1);
  });

  it('tries at once when the browser comes back online', () => {
    const { sut, socket, connects } = setup('?transport=polling');
    sut.start();
    socket().server.connectFailed('x');
    socket().server.connectFailed('x');
    expect(connects()).toBe(1);
    window.dispatchEvent(new Event('online'));
    expect(connects()).toBe(2);
  });

  it('re-subscribes after a reconnect with since = last ts held (less the overlap) and fills the gap from the acknowledgement', async () => {
    const { sut, socket, series } = setup();
    const spec = { devices: ['d1'], historyMs: 3_600_000, maxPoints: 3600, capacity: 3600 };
    const handle = sut.watch(spec);
    socket().server.connected('websocket');
    expect(socket().subscribes[0].request).toEqual({
      devices: ['d1'],
      since: T0 - 3_600_000,
      maxPoints: 3600,
      history: true,
      timeDeltas: true,
    });
    await ack(socket(), [
      { deviceId: 'd1', metric: 'temperature', t: [T0 - 2000, T0 - 1000], v: [1, 2] },
    ]);
    expect(sut.heldSince(spec)).toBe(T0 - 1000);

    // Live readings, then the connection drops for a while.
    socket().server.readings([reading(T0, 3), reading(T0 + 1000, 4)]);
    expect(sut.heldSince(spec)).toBe(T0 + 1000);
    socket().server.disconnected('transport close');
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');

    // Re-subscribed from the newest point held, with an overlap; the gateway's history covers the outage.
    expect(socket().subscribes[1].request).toMatchObject({
      devices: ['d1'],
      since: T0 + 1000 - RESUBSCRIBE_OVERLAP_MS,
    });
    // A live reading may beat the acknowledgement: merging must still be in order.
    socket().server.readings([reading(T0 + 6000, 9)]);
    // As the gateway answers a request with timeDeltas: `dt` for `t` (decision 0048).
    await ack(socket(), [
      toTimeDeltas({
        deviceId: 'd1',
        metric: 'temperature',
        t: [T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000, T0 + 5000],
        v: [4, 5, 6, 7, 8],
      }),
    ]);
    const buffer = series.get('d1', 'temperature');
    if (!buffer) throw new Error('no series');
    const ts: number[] = [];
    for (let i = 0; i < buffer.size; i++) ts.push(buffer.tAt(i) - T0);
    expect(ts).toEqual([-2000, -1000, 0, 1000, 2000, 3000, 4000, 5000, 6000]);
    expect(countGaps(buffer, 0, 3000)).toBe(0);
    // The reading that beat the acknowledgement is held, but the next re-subscribe asks from the
    // refill's newest point: had the refill been lost, a retry would still cover the outage.
    expect(sut.heldSince(spec)).toBe(T0 + 5000);
    handle.release();
  });

  const PAGE = { devices: ['d1'], historyMs: 3_600_000, maxPoints: 3600, windowOverHttp: true };
  const D1 = {
    deviceId: 'd1',
    status: 'online' as const,
    lastSeen: T0,
    lastTs: T0,
    meta: {},
    metrics: ['temperature'],
  };

  it('shows a device page at once and live before its window is in, the window read over HTTP once its room is joined', async () => {
    const { sut, socket, devices, series, http } = setup();
    sut.watch(PAGE);
    socket().server.connected('websocket');
    // The subscribe asks for the newest point only: the record and a value to show at once.
    expect(socket().subscribes.map((s) => s.request)).toEqual([
      {
        devices: ['d1'],
        since: T0 - 3_600_000,
        maxPoints: 1,
        history: true,
        timeDeltas: true,
      },
    ]);
    // Not before the room is joined: the read then holds every reading before the join, the
    // socket every one after it, whatever the clocks.
    expect(http.asked).toHaveLength(0);
    socket().subscribes[0].reply({
      ok: true,
      serverTime: T0,
      devices: [D1],
      history: [toTimeDeltas({ deviceId: 'd1', metric: 'temperature', t: [T0], v: [6] })],
      rooms: ['device:d1'],
    });
    await flushPromises();
    expect(devices.get('d1')?.latest['temperature']).toBe(6); // shown before the window
    expect(http.asked).toHaveLength(1);
    const { url } = http.asked[0];
    expect(url.pathname).toBe('/api/history');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      devices: 'd1',
      from: String(T0 - 3_600_000),
      maxPoints: '3600',
      timeDeltas: 'true',
    });
    // The readings flow while the window is on its way.
    socket().server.readings([reading(T0 + 500, 7)]);
    expect(devices.get('d1')?.latest['temperature']).toBe(7);
    http.asked[0].respond(200, {
      deviceId: 'd1',
      series: [{ deviceId: 'd1', metric: 'temperature', t: [T0 - 2000, T0 - 1000], v: [4, 5] }],
    });
    await flushPromises();
    const buffer = series.get('d1', 'temperature');
    const ts = Array.from({ length: buffer?.size ?? 0 }, (_, i) => (buffer?.tAt(i) ?? 0) - T0);
    expect(ts).toEqual([-2000, -1000, 0, 500]);
    expect(devices.get('d1')?.latest['temperature']).toBe(7); // the window did not go back
    expect(socket().subscribes).toHaveLength(1);
    // Merged: from now on the readings move the point a re-subscribe asks from.
    expect(sut.heldSince(PAGE)).toBe(T0 - 1000);
    socket().server.readings([reading(T0 + 1500, 8)]);
    expect(sut.heldSince(PAGE)).toBe(T0 + 1500);
  });

  it('asks the subscribe for the window when HTTP cannot give it, and a retry asks for the whole window', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const http = fakeHttp();
    http.down = true;
    const { sut, socket } = setup('', http);
    sut.watch(PAGE);
    socket().server.connected('websocket');
    await ack(socket(), []); // the last seconds
    const window = {
      devices: ['d1'],
      since: T0 - 3_600_000,
      maxPoints: 3600,
      history: true,
      timeDeltas: true,
    };
    expect(socket().subscribes[1].request).toEqual(window);
    socket().server.readings([reading(T0 + 500, 7)]);
    // The points never come (timed out): the retry asks for the whole window again, not from
    // the reading that came first (that would leave the hour before it empty).
    expect(sut.heldSince(PAGE)).toBeNull();
    socket().subscribes[1].fail(new Error('operation has timed out'));
    await flushPromises();
    expect(socket().subscribes[2].request).toMatchObject({ since: T0 - 3_600_000, maxPoints: 1 });
    await ack(socket(), []);
    expect(socket().subscribes[3].request).toEqual(window);
  });

  it('gives up a window read that does not answer, and asks the subscribe instead', async () => {
    const { sut, socket, http } = setup();
    sut.watch(PAGE);
    socket().server.connected('websocket');
    await ack(socket(), []);
    expect(http.asked[0].signal?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(http.asked[0].signal?.aborted).toBe(true);
    http.asked[0].respond(0); // the aborted fetch fails
    await flushPromises();
    // The window, counted from now.
    expect(socket().subscribes[1].request).toMatchObject({
      since: T0 + 10_000 - 3_600_000,
      history: true,
    });
  });

  it('asks nothing more when the connection drops while the window is read; the reconnect asks again', async () => {
    const http = fakeHttp();
    const { sut, socket } = setup('', http);
    sut.watch(PAGE);
    socket().server.connected('websocket');
    await ack(socket(), []);
    socket().server.disconnected('transport close');
    http.asked[0].respond(503);
    await flushPromises();
    expect(socket().subscribes).toHaveLength(1);
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');
    expect(socket().subscribes[1].request).toMatchObject({ maxPoints: 1 });
    await ack(socket(), []);
    expect(http.asked).toHaveLength(2);
  });

  it('reads the window again when the watch is asked again meanwhile (lagged), and when stopped reads nothing more', async () => {
    const { sut, socket, http } = setup();
    sut.watch(PAGE);
    socket().server.connected('websocket');
    await ack(socket(), []);
    socket().server.lagged({ since: T0 });
    expect(http.asked[0].signal?.aborted).toBe(true); // the first read is given up
    await ack(socket(), []);
    expect(http.asked).toHaveLength(2);
    sut.stop();
    expect(http.asked[1].signal?.aborted).toBe(true);
  });

  it('refills over HTTP after a long outage, over the socket after a short one', async () => {
    const { sut, socket, http } = setup();
    sut.watch(PAGE);
    socket().server.connected('websocket');
    await ack(socket(), []);
    http.asked[0].respond(200, {
      deviceId: 'd1',
      series: [{ deviceId: 'd1', metric: 'temperature', t: [T0 - 1000], v: [1] }],
    });
    await flushPromises();
    // A short outage: one subscribe from the window's merge (small; its newest point, 1 s
    // before, is within the overlap).
    socket().server.disconnected('transport close');
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');
    expect(socket().subscribes[1].request).toMatchObject({
      since: T0 - RESUBSCRIBE_OVERLAP_MS,
      maxPoints: 3600,
    });
    await ack(socket(), []);
    expect(http.asked).toHaveLength(1);
    // Two minutes without a point (a laptop asleep, a device silent): the newest point in the
    // subscribe, the gap over HTTP.
    jest.advanceTimersByTime(120_000);
    socket().server.disconnected('transport close');
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');
    expect(socket().subscribes[2].request).toMatchObject({ maxPoints: 1 });
    await ack(socket(), []);
    expect(http.asked).toHaveLength(2);
    // From the short outage's refill (at T0 + 750 ms: nothing newer then), less the overlap.
    expect(http.asked[1].url.searchParams.get('from')).toBe(
      String(T0 + 750 - RESUBSCRIBE_OVERLAP_MS),
    );
  });

  it('reads the window of a wall board over HTTP, one read for its devices, after the join', async () => {
    const { sut, socket, series, http } = setup();
    sut.watch({ devices: ['d1', 'd2'], historyMs: 60_000, maxPoints: 600, windowOverHttp: true });
    socket().server.connected('websocket');
    expect(socket().subscribes[0].request).toMatchObject({ devices: ['d1', 'd2'], maxPoints: 1 });
    expect(http.asked).toHaveLength(0);
    await ack(socket(), []);
    expect(http.asked).toHaveLength(1);
    expect(http.asked[0].url.searchParams.get('devices')).toBe('d1,d2');
    http.asked[0].respond(200, {
      series: [
        toTimeDeltas({
          deviceId: 'd1',
          metric: 'temperature',
          t: [T0 - 2000, T0 - 1000],
          v: [1, 2],
        }),
        { deviceId: 'd2', metric: 'temperature', t: [T0 - 1500], v: [3] },
      ],
    });
    await flushPromises();
    expect(series.get('d1', 'temperature')?.size).toBe(2);
    expect(series.get('d2', 'temperature')?.size).toBe(1);
    expect(socket().subscribes).toHaveLength(1);
  });

  it('keeps the windows read of a board whose other read is refused, and asks the subscribe for the refused devices’ alone', async () => {
    const ids = Array.from({ length: LIMITS.maxHistoryDevices + 1 }, (_, i) => `d${i}`);
    const { sut, socket, series, http } = setup();
    sut.watch({ devices: ids, historyMs: 60_000, maxPoints: 600, windowOverHttp: true });
    socket().server.connected('websocket');
    await ack(socket(), []);
    expect(http.asked).toHaveLength(2);
    http.asked[0].respond(200, {
      series: [{ deviceId: 'd0', metric: 'temperature', t: [T0 - 2000, T0 - 1000], v: [1, 2] }],
    });
    http.asked[1].respond(429); // the read budget
    await flushPromises();
    expect(series.get('d0', 'temperature')?.size).toBe(2);
    expect(socket().subscribes[1].request).toEqual({
      devices: [ids[LIMITS.maxHistoryDevices]],
      since: T0 - 60_000,
      maxPoints: 600,
      history: true,
      timeDeltas: true,
    });
    await ack(socket(), [
      { deviceId: ids[LIMITS.maxHistoryDevices], metric: 'temperature', t: [T0 - 1500], v: [3] },
    ]);
    expect(series.get(ids[LIMITS.maxHistoryDevices], 'temperature')?.size).toBe(1);
    expect(series.get('d0', 'temperature')?.size).toBe(2);
    expect(socket().subscribes).toHaveLength(2);
  });

  it('re-subscribes a wall board from its device furthest behind: a clock 10 s late loses nothing', async () => {
    const { sut, socket, http } = setup();
    sut.watch({ devices: ['d1', 'd2'], historyMs: 60_000, maxPoints: 600, windowOverHttp: true });
    socket().server.connected('websocket');
    await ack(socket(), []);
    http.asked[0].respond(200, { series: [] });
    await flushPromises();
    // Both arrive now; d2 stamps its readings 10 s behind the gateway's clock.
    socket().server.readings([
      { deviceId: 'd1', ts: T0, values: { temperature: 1 } },
      { deviceId: 'd2', ts: T0 - 10_000, values: { temperature: 2 } },
    ]);
    socket().server.disconnected('transport close');
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');
    // d2's readings stamped after T0 - 10 s reach the gateway during the outage: asked for.
    expect(socket().subscribes[1].request).toMatchObject({
      devices: ['d1', 'd2'],
      since: T0 - 10_000 - RESUBSCRIBE_OVERLAP_MS,
    });
  });

  it('asks one subscribe, window included, for a watch that does not read it over HTTP', () => {
    const { sut, socket, http } = setup();
    sut.watch({ devices: ['d1', 'd2'], historyMs: 60_000, maxPoints: 100 });
    sut.watch({ devices: ['d3'], historyMs: 60_000, maxPoints: 100 });
    socket().server.connected('websocket');
    expect(socket().subscribes.map((s) => s.request)).toEqual([
      {
        devices: ['d1', 'd2'],
        since: T0 - 60_000,
        maxPoints: 100,
        history: true,
        timeDeltas: true,
      },
      { devices: ['d3'], since: T0 - 60_000, maxPoints: 100, history: true, timeDeltas: true },
    ]);
    expect(http.asked).toHaveLength(0);
  });

  it('stops reading the window of a device page closed meanwhile, and keeps nothing of it', async () => {
    const { sut, socket, series, http } = setup();
    const handle = sut.watch(PAGE);
    socket().server.connected('websocket');
    await ack(socket(), []);
    handle.release();
    expect(http.asked[0].signal?.aborted).toBe(true);
    http.asked[0].respond(200, {
      deviceId: 'd1',
      series: [{ deviceId: 'd1', metric: 'temperature', t: [T0 - 2000], v: [4] }],
    });
    await flushPromises();
    expect(socket().subscribes).toHaveLength(1);
    expect(series.get('d1', 'temperature')).toBeUndefined();
    expect(socket().unsubscribes).toEqual([{ devices: ['d1'] }]);
  });

  it('asks again after a while when a subscribe is refused (busy, rate limited)', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    warn.mockClear();
    const { sut, socket } = setup();
    sut.watch({ devices: ['d1', 'd2'], historyMs: 60_000, maxPoints: 100 });
    socket().server.connected('websocket');
    socket().subscribes[0].reply({ ok: false, error: 'busy' });
    await flushPromises();
    expect(socket().subscribes).toHaveLength(1);
    jest.advanceTimersByTime(2000);
    expect(socket().subscribes).toHaveLength(2);
    expect(socket().subscribes[1].request).toEqual({
      ...socket().subscribes[0].request,
      since: T0 + 2000 - 60_000, // the window, counted from now
    });
    // Refused again: it waits twice as long, and the same refusal is not warned again.
    socket().subscribes[1].reply({ ok: false, error: 'busy' });
    await flushPromises();
    jest.advanceTimersByTime(3999);
    expect(socket().subscribes).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(socket().subscribes).toHaveLength(3);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('asks again when a subscribe times out on a live connection', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { sut, socket } = setup();
    sut.watch({ devices: ['d1'], historyMs: 60_000, maxPoints: 100 });
    socket().server.connected('websocket');
    socket().subscribes[0].fail(new Error('operation has timed out'));
    await flushPromises();
    expect(socket().subscribes).toHaveLength(2);
    expect(socket().subscribes[1].request).toMatchObject({ devices: ['d1'] });
  });

  it('re-subscribes every watch on lagged', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { sut, socket } = setup();
    sut.watch({ fleet: true, historyMs: 300_000, maxPoints: 300 });
    socket().server.connected('websocket');
    await ack(socket(), []);
    socket().server.readings([reading(T0 + 5000, 1)]);
    socket().server.lagged({ since: T0 });
    expect(socket().subscribes[1].request).toMatchObject({
      fleet: true,
      since: T0 + 5000 - RESUBSCRIBE_OVERLAP_MS,
    });
    expect(sut.lagged()).toBe(1);
  });

  it('shows that the gateway throttles this connection, and draws a merged reading’s range', async () => {
    const { sut, socket, series, devices } = setup();
    sut.watch({ devices: ['d1'], historyMs: 0, maxPoints: 10 });
    socket().server.connected('websocket');
    await ack(socket(), []);
    socket().server.readings([reading(T0 + 1000, 20)]);
    socket().server.throttle({ intervalMs: 1000 });
    expect(sut.throttleMs()).toBe(1000);
    // Stands for 40 readings between T0 + 1 s and T0 + 4 s, one of them a spike to 95.
    socket().server.readings([
      { ...reading(T0 + 4000, 22), range: { temperature: [19, 95] }, merged: 40 },
    ]);
    const held = series.get('d1', 'temperature');
    const points = Array.from({ length: held?.size ?? 0 }, (_, i) => [held?.tAt(i), held?.vAt(i)]);
    expect(points).toEqual([
      [T0 + 1000, 20],
      [T0 + 2000, 95],
      [T0 + 3000, 19],
      [T0 + 4000, 22],
    ]);
    expect(devices.get('d1')?.latest['temperature']).toBe(22);
    socket().server.throttle({ intervalMs: 0 });
    expect(sut.throttleMs()).toBe(0);
  });

  it('shares identical watches and unsubscribes when the last one is released', () => {
    const { sut, socket } = setup(); // the socket is created by the first watch
    const a = sut.watch({ fleet: true, historyMs: 0, maxPoints: 10 });
    const b = sut.watch({ fleet: true, historyMs: 0, maxPoints: 10 });
    socket().server.connected('websocket');
    expect(socket().subscribes.length).toBe(1);
    expect(socket().subscribes[0].request).toEqual({ fleet: true, maxPoints: 10, history: false });
    a.release();
    expect(socket().unsubscribes).toEqual([]);
    b.release();
    expect(socket().unsubscribes).toEqual([{ fleet: true }]);
  });

  it('keeps the gateway report and corrects for clock skew', () => {
    const { sut, socket } = setup();
    sut.start();
    socket().server.connected('websocket');
    socket().server.gateway({ broker: 'disconnected', serverTime: T0 + 5000, flushMs: 50 });
    expect(sut.gateway()?.broker).toBe('disconnected');
    expect(sut.serverNow()).toBe(T0 + 5000);
  });

  it('feeds readings to the stores', () => {
    const { sut, socket, devices, series } = setup();
    sut.start();
    socket().server.connected('websocket');
    socket().server.readings([reading(T0, 1), reading(T0 + 1000, 2)]);
    expect(devices.get('d1')?.latest['temperature']).toBe(2);
    expect(series.get('d1', 'temperature')?.size).toBe(2);
  });

  it('drops the points of a device the device store evicts', () => {
    const { sut, socket, devices, series } = setup();
    sut.start();
    socket().server.connected('websocket');
    devices.maxDevices = 2;
    const at = (deviceId: string, ts: number): Reading => ({ deviceId, ts, values: { v: 1 } });
    socket().server.readings([at('a', T0), at('b', T0)]);
    jest.advanceTimersByTime(1000);
    socket().server.readings([at('b', T0 + 1000), at('c', T0 + 1000)]);
    expect(series.get('a', 'v')).toBeUndefined();
    expect(series.get('b', 'v')?.size).toBe(2);
    expect(series.get('c', 'v')?.size).toBe(1);
  });

  it('stops retrying once stopped', () => {
    const { sut, socket } = setup();
    sut.start();
    const s = socket();
    sut.stop();
    s.server.connectFailed('x');
    jest.advanceTimersByTime(60_000);
    expect(s.connects).toBe(1);
    expect(sut.connection().phase).toBe('idle');
  });
});

import { TestBed } from '@angular/core/testing';
import { LIMITS } from '@pulse/protocol/core';
import { T0, connectLive, provideFakeLive, useFakeClock } from '../../testing/testbed';
import { LiveService } from './live.service';
import { DeviceStore } from '../stores/device.store';
import { SeriesStore } from '../stores/series.store';
import { DEVICE_SET_BATCH_MS } from './live-subscriptions';
import { RETRY_MS } from './refusals';
import { FETCH } from '../http/alerts-api';
import { fakeHttp } from '../../testing/fake-http';

/** Let the acknowledgements' promises settle (no time passes). */
const flushPromises = () => jest.advanceTimersByTimeAsync(0);

/**
 * Connected; the gateway's HTTP side refuses window reads unless `http` says otherwise (the first
 * screen's points then come in a subscribe, as from a gateway without `/api/history`).
 */
function setup(http = fakeHttp(true)) {
  const socket = provideFakeLive([{ provide: FETCH, useValue: http.fetch }]);
  const sut = connectLive(socket);
  const devicesAsked = () => socket().subscribes.map((s) => s.request.devices ?? []);
  return { sut, socket, devicesAsked, http };
}

/**
 * Connected, the gateway's HTTP side answering; a set showing `ids` whose rooms-only subscribe
 * (the first screen's) has been answered, its points' read asked and not answered yet.
 */
async function firstScreenReading(ids: string[]) {
  const fixture = setup(fakeHttp());
  const set = fixture.sut.watchDevices(SPARKLINE);
  set.set(ids);
  jest.advanceTimersByTime(0);
  fixture.socket().subscribes[0].reply(OK);
  await flushPromises();
  return { ...fixture, set };
}

/** The live service started, its connection not up yet. */
function setupUnconnected() {
  const socket = provideFakeLive();
  const live = TestBed.inject(LiveService);
  live.start();
  return { live, socket };
}

const SPARKLINE = { historyMs: 5 * 60_000, maxPoints: 60 };
/** The request for a sparkline's points of `devices`, asked at `at`. */
const sparklineRequest = (devices: string[], at = T0) => ({
  devices,
  maxPoints: 60,
  history: true,
  since: at - SPARKLINE.historyMs,
  timeDeltas: true,
});
/** An acknowledgement with nothing in it. */
const OK = { ok: true as const, serverTime: T0, devices: [], history: [], rooms: [] };

describe('LiveService device sets (the tiles on screen)', () => {
  useFakeClock();

  it('subscribes the devices of a set, then asks a sparkline of history', async () => {
    const { sut, socket } = setup();
    sut.watchDevices(SPARKLINE).set(['a', 'b']);
    expect(socket().subscribes).toHaveLength(0); // batched, even the first diff
    jest.advanceTimersByTime(0);
    // The rooms first, without history: their readings do not wait behind the points.
    expect(socket().subscribes.map((s) => s.request)).toEqual([
      { devices: ['a', 'b'], history: false },
    ]);
    socket().subscribes[0].reply(OK);
    await flushPromises();
    expect(socket().subscribes.map((s) => s.request)).toEqual([
      { devices: ['a', 'b'], history: false },
      sparklineRequest(['a', 'b']),
    ]);
  });

  it('reads the first screen’s points over HTTP once its rooms are joined, none in a subscribe', async () => {
    const { sut, socket, http } = setup(fakeHttp());
    sut.watchDevices(SPARKLINE).set(['a', 'b']);
    jest.advanceTimersByTime(0);
    expect(http.asked).toHaveLength(0); // not before the join
    socket().subscribes[0].reply(OK);
    await flushPromises();
    expect(http.asked).toHaveLength(1);
    expect(http.asked[0].url.pathname).toBe('/api/history');
    expect(Object.fromEntries(http.asked[0].url.searchParams)).toEqual({
      devices: 'a,b',
      from: String(T0 - SPARKLINE.historyMs),
      maxPoints: '60',
      timeDeltas: 'true',
    });
    http.asked[0].respond(200, {
      series: [
        { deviceId: 'a', metric: 't', dt: [T0 - 2000, 1000], v: [1, 2] },
        { deviceId: 'b', metric: 't', t: [T0 - 1000], v: [3] },
      ],
    });
    await flushPromises();
    expect(TestBed.inject(SeriesStore).get('a', 't')?.size).toBe(2);
    expect(TestBed.inject(SeriesStore).get('b', 't')?.size).toBe(1);
    expect(socket().subscribes).toHaveLength(1);
    // A scroll's batch asks rooms and points in one subscribe (small, and one round trip).
    sut.watchDevices(SPARKLINE).set(['c']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(socket().subscribes[1].request).toEqual(sparklineRequest(['c'], Date.now()));
    expect(http.asked).toHaveLength(1);
  });

  it('keeps none of the points read for a device that left the screen meanwhile', async () => {
    const { http, set } = await firstScreenReading(['a', 'b']);
    set.set(['b']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    http.asked[0].respond(200, {
      series: [
        { deviceId: 'a', metric: 't', t: [T0 - 1000], v: [1] },
        { deviceId: 'b', metric: 't', t: [T0 - 1000], v: [3] },
      ],
    });
    await flushPromises();
    expect(TestBed.inject(SeriesStore).get('a', 't')).toBeUndefined();
    expect(TestBed.inject(SeriesStore).get('b', 't')?.size).toBe(1);
  });

  it('asks the subscribe for the points HTTP cannot give, of the devices still on screen', async () => {
    const { socket, http, set } = await firstScreenReading(['a', 'b']);
    set.set(['b']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    http.asked[0].respond(503);
    await flushPromises();
    expect(socket().subscribes[1].request).toEqual(sparklineRequest(['b'], Date.now()));
  });

  it('draws the points of the reads that succeed and asks the subscribe for those of a refused read alone', async () => {
    // More tiles than one read takes: two reads, the second refused by the read budget (429).
    const ids = Array.from({ length: LIMITS.maxHistoryDevices + 2 }, (_, i) => `d${i}`);
    const { socket, http } = await firstScreenReading(ids);
    expect(http.asked).toHaveLength(2);
    const [first, second] = http.asked;
    first.respond(200, {
      series: ids
        .slice(0, LIMITS.maxHistoryDevices)
        .map((id) => ({ deviceId: id, metric: 't', t: [T0 - 1000], v: [1] })),
    });
    second.respond(429);
    await flushPromises();
    expect(TestBed.inject(SeriesStore).get('d0', 't')?.size).toBe(1);
    expect(socket().subscribes.map((s) => s.request)).toEqual([
      { devices: ids, history: false },
      sparklineRequest(ids.slice(LIMITS.maxHistoryDevices)),
    ]);
  });

  it('keeps sending a scroll’s batches while refused devices wait to be asked again', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { sut, socket, devicesAsked } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a']);
    jest.advanceTimersByTime(0);
    socket().subscribes[0].reply({ ok: false, error: 'busy' });
    await flushPromises();
    set.set(['a', 'b']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(devicesAsked()).toEqual([['a'], ['b']]); // not held back by a's retry
    jest.advanceTimersByTime(RETRY_MS - DEVICE_SET_BATCH_MS);
    expect(devicesAsked()).toEqual([['a'], ['b'], ['a']]);
  });

  it('gives up the first screen’s read when the connection is new (it asks again)', async () => {
    const { socket, http } = await firstScreenReading(['a']);
    expect(http.asked[0].signal?.aborted).toBe(false);
    socket().server.disconnected('transport close');
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');
    expect(http.asked[0].signal?.aborted).toBe(true);
  });

  it('stops reading the points when the live service stops', async () => {
    const { sut, http } = await firstScreenReading(['a']);
    expect(http.asked[0].signal?.aborted).toBe(false);
    sut.stop();
    expect(http.asked[0].signal?.aborted).toBe(true);
  });

  it('asks no history for devices that left while their rooms were being answered', async () => {
    const { sut, socket } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a', 'b']);
    jest.advanceTimersByTime(0);
    set.set(['b']); // scrolled on before the gateway answered
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(socket().unsubscribes).toEqual([{ devices: ['a'] }]);
    socket().subscribes[0].reply(OK);
    await flushPromises();
    // A subscribe for `a` now would join the room it just left.
    expect(socket().subscribes.map((s) => s.request.devices)).toEqual([['a', 'b'], ['b']]);
    expect(socket().subscribes[1].request).toMatchObject({ history: true });
  });

  it('sends the first diff at the end of the task that set it, before any timer', async () => {
    // Real microtasks, fake timers: a diff queued behind a timer would wait for the browser to
    // paint the tiles that asked for it first.
    jest.useFakeTimers({ now: T0, doNotFake: ['queueMicrotask'] });
    const { sut, socket } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a']);
    set.set(['a', 'b']); // the same task: one diff
    expect(socket().subscribes).toHaveLength(0);
    await Promise.resolve();
    expect(socket().subscribes.map((s) => s.request.devices)).toEqual([['a', 'b']]);
  });

  it('sends at once on flush(), except within the batch interval of the last diff', () => {
    const { sut, devicesAsked } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a']);
    set.flush();
    expect(devicesAsked()).toEqual([['a']]); // no task boundary, no timer
    set.set(['a', 'b']);
    set.flush();
    expect(devicesAsked()).toEqual([['a']]);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(devicesAsked()).toEqual([['a'], ['b']]);
  });

  it('sends one diff per batch interval while the view scrolls', () => {
    const { sut, socket, devicesAsked } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a', 'b']);
    jest.advanceTimersByTime(0);
    // A scroll: three moves within one interval.
    set.set(['b', 'c']);
    set.set(['c', 'd']);
    set.set(['b', 'c', 'd']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS - 1);
    expect(devicesAsked()).toEqual([['a', 'b']]);
    expect(socket().unsubscribes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(devicesAsked()).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(socket().unsubscribes).toEqual([{ devices: ['a'] }]);
  });

  it('never unsubscribes a device another view still watches', () => {
    const { sut, socket } = setup();
    const page = sut.watch({ devices: ['b'], historyMs: 0, maxPoints: 1 });
    const tiles = sut.watchDevices(SPARKLINE);
    const wall = sut.watchDevices(SPARKLINE);
    tiles.set(['a', 'b', 'x']);
    wall.set(['x']);
    jest.advanceTimersByTime(0);
    tiles.set([]);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    // `b` is the device page's, `x` the wall's: only `a` is left.
    expect(socket().unsubscribes).toEqual([{ devices: ['a'] }]);
    page.release();
    expect(socket().unsubscribes).toEqual([{ devices: ['a'] }, { devices: ['b'] }]);
    wall.release();
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(socket().unsubscribes).toEqual([
      { devices: ['a'] },
      { devices: ['b'] },
      { devices: ['x'] },
    ]);
  });

  it('a device that scrolls out and back within one interval costs nothing', () => {
    const { sut, socket, devicesAsked } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a']);
    jest.advanceTimersByTime(0);
    set.set([]);
    set.set(['a']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS * 2);
    expect(devicesAsked()).toEqual([['a']]);
    expect(socket().unsubscribes).toEqual([]);
  });

  it('subscribes the whole set again after a reconnect', () => {
    const { sut, socket, devicesAsked } = setup();
    sut.watchDevices(SPARKLINE).set(['a', 'b']);
    jest.advanceTimersByTime(0);
    socket().server.disconnected('transport close');
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');
    expect(devicesAsked()).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('says when no subscribe of its sets waits for the gateway any more (answered or refused)', async () => {
    const { sut, socket } = setup();
    const set = sut.watchDevices(SPARKLINE);
    let answered = 0;
    const wait = () => void set.answered().then(() => answered++);
    wait();
    await flushPromises();
    expect(answered).toBe(1); // nothing asked: at once
    set.set(['a', 'b']);
    set.flush();
    wait();
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    set.set(['a', 'b', 'c']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS); // a second subscribe in flight
    await flushPromises();
    expect(answered).toBe(1);
    socket().subscribes[0].reply(OK); // the first's rooms: its history is asked next
    await flushPromises();
    expect(socket().subscribes[2].request).toMatchObject({ devices: ['a', 'b'], history: true });
    expect(answered).toBe(1);
    socket().subscribes[1].reply({ ok: false, error: 'rate limited' });
    await flushPromises();
    expect(answered).toBe(1); // the first's history still waits
    socket().subscribes[2].reply(OK);
    await flushPromises();
    expect(answered).toBe(2);
  });

  it('says a set made before the connection is answered only once the connection has asked for it', async () => {
    // The overview's first page can come over HTTP before the socket is up: its first screen's
    // sparklines must still wait for the tiles' subscribe (issue 11, first live tile).
    const { live, socket } = setupUnconnected();
    const set = live.watchDevices(SPARKLINE);
    set.set(['a']);
    let answered = false;
    void set.answered().then(() => (answered = true));
    jest.advanceTimersByTime(0);
    await flushPromises();
    expect(answered).toBe(false);
    socket().server.connected('websocket');
    jest.advanceTimersByTime(0);
    await flushPromises();
    expect(answered).toBe(false);
    expect(socket().subscribes.map((s) => s.request.devices)).toEqual([['a']]);
    socket().subscribes[0].reply(OK);
    await flushPromises();
    expect(answered).toBe(false); // the rooms are answered; the sparklines' points not yet
    socket().subscribes[1].reply(OK);
    await flushPromises();
    expect(answered).toBe(true);
  });

  it('resolves a wait on a set let go before the connection, and on stop', async () => {
    const { live, socket } = setupUnconnected();
    const set = live.watchDevices(SPARKLINE);
    set.set(['a']);
    let answered = 0;
    void set.answered().then(() => answered++);
    const other = live.watchDevices(SPARKLINE);
    other.set(['b']);
    void other.answered().then(() => answered++);
    await flushPromises();
    expect(answered).toBe(0);
    set.release();
    await flushPromises();
    expect(answered).toBe(1);
    live.stop();
    await flushPromises();
    expect(answered).toBe(2);
    expect(socket().subscribes).toHaveLength(0);
  });

  it('asks again for the history of a device whose record went while it stayed in the set', async () => {
    // The overview lets a device go when it leaves the page it holds; back on screen within one
    // batch, its tile must still get its sparkline's history.
    const { sut, socket, devicesAsked } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a']);
    jest.advanceTimersByTime(0);
    socket().subscribes[0].reply(OK);
    await flushPromises();
    socket().subscribes[1].reply(OK);
    await flushPromises();
    TestBed.inject(DeviceStore).ingest([{ deviceId: 'a', ts: T0, values: { t: 1 } }], T0);
    TestBed.inject(DeviceStore).remove(['a']);
    set.set([]);
    set.set(['a']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(devicesAsked()).toEqual([['a'], ['a'], ['a']]);
    expect(socket().subscribes[2].request).toMatchObject({ devices: ['a'], history: true });
  });

  it('asks rooms and points in one request once the first screen went out (a scroll)', async () => {
    const { sut, socket } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a']);
    jest.advanceTimersByTime(0);
    set.set(['a', 'b']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    // Two events a batch (subscribe, unsubscribe), well inside the gateway's 20 a second.
    expect(socket().subscribes.map((s) => s.request)).toEqual([
      { devices: ['a'], history: false },
      sparklineRequest(['b'], T0 + DEVICE_SET_BATCH_MS),
    ]);
  });

  it('leaves a room the gateway joined after the screen had left it', async () => {
    // A subscribe with history can wait for the gateway's ack budget while the unsubscribe sent
    // after it is handled at once: its answer lists the room again.
    const { sut, socket } = setup();
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a', 'b']);
    jest.advanceTimersByTime(0);
    socket().subscribes[0].reply({ ...OK, rooms: ['device:a', 'device:b'] });
    await flushPromises();
    set.set(['b']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(socket().unsubscribes).toEqual([{ devices: ['a'] }]);
    socket().subscribes[1].reply({
      ...OK,
      rooms: ['device:a', 'device:b', 'summary'],
      history: [
        { deviceId: 'a', metric: 't', t: [T0 - 1000], v: [1] },
        { deviceId: 'b', metric: 't', t: [T0 - 1000], v: [2] },
      ],
    });
    await flushPromises();
    expect(socket().unsubscribes).toEqual([{ devices: ['a'] }, { devices: ['a'] }]);
    // And the points of the device that left are not held again.
    expect(TestBed.inject(SeriesStore).get('a', 't')).toBeUndefined();
    expect(TestBed.inject(SeriesStore).get('b', 't')?.size).toBe(1);
  });

  it('asks again for devices the gateway refused (rate limited)', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { sut, socket, devicesAsked } = setup();
    sut.watchDevices(SPARKLINE).set(['a', 'b']);
    jest.advanceTimersByTime(0);
    socket().subscribes[0].reply({ ok: false, error: 'rate limited' });
    await flushPromises();
    jest.advanceTimersByTime(RETRY_MS - 1);
    expect(devicesAsked()).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(devicesAsked()).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('backs off while the gateway keeps refusing, warns once, and starts over after an answer', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    warn.mockClear();
    const { sut, socket, devicesAsked } = setup();
    sut.watchDevices(SPARKLINE).set(['a']);
    jest.advanceTimersByTime(0);
    const refuseLast = async () => {
      socket().subscribes[socket().subscribes.length - 1].reply({ ok: false, error: 'busy' });
      await flushPromises();
    };
    // Refused three times in a row: asked again after 2, 4, then 8 s (the fake random: no jitter).
    for (const wait of [RETRY_MS, 2 * RETRY_MS, 4 * RETRY_MS]) {
      const asked = devicesAsked().length;
      await refuseLast();
      jest.advanceTimersByTime(wait - 1);
      expect(devicesAsked()).toHaveLength(asked);
      jest.advanceTimersByTime(1);
      expect(devicesAsked()).toHaveLength(asked + 1);
    }
    expect(warn).toHaveBeenCalledTimes(1);
    // Answered: the next refusal waits RETRY_MS again, and is warned again.
    socket().subscribes[socket().subscribes.length - 1].reply({ ...OK, rooms: ['device:a'] });
    await flushPromises();
    sut.watchDevices(SPARKLINE).set(['b']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    const asked = devicesAsked().length;
    expect(devicesAsked()[asked - 1]).toEqual(['b']);
    await refuseLast();
    jest.advanceTimersByTime(RETRY_MS);
    expect(devicesAsked()).toHaveLength(asked + 1);
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('fills the sparklines from the acknowledgement', async () => {
    const { sut, socket } = setup();
    sut.watchDevices(SPARKLINE).set(['a']);
    jest.advanceTimersByTime(0);
    socket().subscribes[0].reply({ ...OK, rooms: ['device:a'] });
    await flushPromises();
    socket().subscribes[1].reply({
      ok: true,
      serverTime: T0,
      devices: [],
      history: [{ deviceId: 'a', metric: 't', t: [T0 - 2000, T0 - 1000], v: [1, 2] }],
      rooms: ['device:a'],
    });
    await flushPromises();
    expect(sut.serverNow()).toBe(T0);
    expect(TestBed.inject(SeriesStore).get('a', 't')?.size).toBe(2);
  });

  it('lets go of the points of a device that left the screen, unless a fleet watch covers it', async () => {
    const { sut, socket } = setup();
    const series = TestBed.inject(SeriesStore);
    const set = sut.watchDevices(SPARKLINE);
    set.set(['a']);
    jest.advanceTimersByTime(0);
    series.push('a', 't', T0, 1);
    set.set([]);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(socket().unsubscribes).toEqual([{ devices: ['a'] }]);
    expect(series.get('a', 't')).toBeUndefined();

    const wall = sut.watch({ fleet: true, historyMs: 0, maxPoints: 1 });
    set.set(['b']);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    series.push('b', 't', T0, 1);
    set.set([]);
    jest.advanceTimersByTime(DEVICE_SET_BATCH_MS);
    expect(series.get('b', 't')?.size).toBe(1); // the wall still draws it
    wall.release();
  });
});

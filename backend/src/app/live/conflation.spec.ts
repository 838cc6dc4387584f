import { Logger } from '@nestjs/common';
import { Reading } from '@pulse/protocol';
import { performance } from 'node:perf_hooks';
import {
  CONFLATE_KEEPING_UP_BYTES,
  CONFLATE_TIERS_MS,
  ConflationEmitter,
  Conflator,
} from './conflation';
import { FanOutMeter } from './fan-out-meter';
import { LAG_PAUSE_BYTES, LAG_REFILL_BYTES } from './lag-gate';
import { LAG_CHECK_MS, LAG_DISCONNECT_MS, LagMonitor, SocketProbe } from './lag-monitor';
import type { LiveSocket } from './live-io.server';

// The sockets are fakes with a queue the test sets (what the engine adapter would read); the
// frames the emitter would write are recorded. Real throttled clients over the wire are in
// backend/test/slow-client.spec.ts. Time runs on fake timers.

interface FakeSocket {
  id: string;
  connected: boolean;
  bytes: number;
  packets: number;
  rooms: string[];
  frames: Reading[][];
  throttles: number[];
  heartbeatsHeld: number;
  disconnected: boolean;
}

describe('Conflator', () => {
  let sockets: Map<string, FakeSocket>;
  let sut: Conflator;

  const socket = (id: string, rooms = ['device:d1']): FakeSocket => {
    const s: FakeSocket = {
      id,
      connected: true,
      bytes: 0,
      packets: 0,
      rooms,
      frames: [],
      throttles: [],
      heartbeatsHeld: 0,
      disconnected: false,
    };
    Object.assign(s, {
      disconnect: () => {
        s.disconnected = true;
        s.connected = false;
      },
    });
    sockets.set(id, s);
    return s;
  };
  const live = (s: FakeSocket) => s as unknown as LiveSocket;
  const fake = (s: LiveSocket) => s as unknown as FakeSocket;
  const emitter: ConflationEmitter = {
    writeMerged: (room, except, batch, take) => {
      let written = 0;
      for (const s of sockets.values()) {
        if (!s.rooms.includes(room) || !take(s.id)) continue;
        if (except.some((r) => s.rooms.includes(r))) continue;
        s.frames.push(batch);
        written++;
      }
      return written;
    },
    throttle: (s, intervalMs) => void fake(s).throttles.push(intervalMs),
    socket: (id) => sockets.get(id) as unknown as LiveSocket | undefined,
    sockets: () => [...sockets.values()].filter((s) => s.connected).map(live),
  };
  const probe = {
    queuedBytes: (s: LiveSocket) => fake(s).bytes,
    queuedPackets: (s: LiveSocket) => fake(s).packets,
  };
  const reading = (ts: number, t: number, extra: Record<string, number> = {}): Reading => ({
    deviceId: 'd1',
    ts,
    values: { t, ...extra },
  });
  /** Time passes by `ms` (the tier ticks run). */
  const pass = (ms: number) => jest.advanceTimersByTime(ms);

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    sockets = new Map();
    sut = new Conflator(emitter, probe);
  });

  afterEach(() => {
    sut.stop();
    jest.useRealTimers();
  });

  it('sends a throttled socket one merged reading per device per tick: newest values, the range and count of what it stands for', () => {
    const slow = socket('slow');
    sut.enter(live(slow));
    expect(slow.throttles).toEqual([CONFLATE_TIERS_MS[0]]);
    sut.absorb('device:d1', [], [reading(1, 20), reading(2, 95, { h: 40 })]);
    sut.absorb('device:d1', [], [reading(3, 21), reading(2.5, 5)]); // a late one: in the range only
    pass(CONFLATE_TIERS_MS[0]);
    expect(slow.frames).toEqual([
      [
        {
          deviceId: 'd1',
          ts: 3,
          values: { t: 21, h: 40 },
          range: { t: [5, 95], h: [40, 40] },
          merged: 4,
        },
      ],
    ]);
    // Nothing new: nothing sent at the next tick.
    pass(CONFLATE_TIERS_MS[0]);
    expect(slow.frames).toHaveLength(1);
  });

  it('tells the fan-out meter how long each tick ran (what the overload floor weighs)', () => {
    // Real performance.now() here: each merged frame takes 2 ms to write.
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['performance'] });
    const meter = new FanOutMeter();
    const slowWriter: ConflationEmitter = {
      ...emitter,
      writeMerged: (room, except, batch, take) => {
        const until = performance.now() + 2;
        while (performance.now() < until) {
          /* writing */
        }
        return emitter.writeMerged(room, except, batch, take);
      },
    };
    const metered = new Conflator(slowWriter, probe, meter);
    try {
      const slow = socket('slow');
      metered.enter(live(slow));
      metered.absorb('device:d1', [], [reading(1, 20)]);
      pass(CONFLATE_TIERS_MS[0]);
      expect(slow.frames).toHaveLength(1);
      expect(meter.totalMs).toBeGreaterThanOrEqual(2);
    } finally {
      metered.stop();
    }
  });

  it('sends a single reading as it is, and keeps a room’s `except` (no reading twice through a wider room)', () => {
    const deviceOnly = socket('device-only', ['device:d1']);
    const both = socket('both', ['device:d1', 'fleet']);
    sut.enter(live(deviceOnly));
    sut.enter(live(both));
    sut.absorb('fleet', [], [reading(1, 20)]);
    sut.absorb('device:d1', ['fleet'], [reading(1, 20)]);
    pass(CONFLATE_TIERS_MS[0]);
    expect(deviceOnly.frames).toEqual([[reading(1, 20)]]);
    expect(both.frames).toEqual([[reading(1, 20)]]);
  });

  it('holds every connection to the floor while the gateway is overloaded, sockets that keep up included, and lets them recover once it is lowered', () => {
    const a = socket('a');
    const b = socket('b');
    sut.raiseFloor();
    // Everyone throttled at once, at the fastest tier, told so.
    expect([a.throttles, b.throttles]).toEqual([[CONFLATE_TIERS_MS[0]], [CONFLATE_TIERS_MS[0]]]);
    sut.raiseFloor();
    expect(sut.stats().floorMs).toBe(CONFLATE_TIERS_MS[1]);
    // Reached at the tier's next tick (no merge missed), though both keep up.
    pass(CONFLATE_TIERS_MS[0]);
    expect([sut.intervalOf('a'), sut.intervalOf('b')]).toEqual([
      CONFLATE_TIERS_MS[1],
      CONFLATE_TIERS_MS[1],
    ]);
    // Keeping up does not take them faster than the floor.
    pass(CONFLATE_TIERS_MS[1] * 5);
    expect(sut.intervalOf('a')).toBe(CONFLATE_TIERS_MS[1]);
    // A connection opened meanwhile is held to it too.
    const late = socket('late');
    sut.applyFloor();
    expect(sut.isThrottled('late')).toBe(true);
    // The floor lowered all the way: each recovers on its own pace, to every reading.
    sut.lowerFloor();
    sut.lowerFloor();
    pass(CONFLATE_TIERS_MS[1] * 4);
    for (const s of [a, b, late]) {
      expect(sut.isThrottled(s.id)).toBe(false);
      expect(s.throttles.at(-1)).toBe(0);
    }
    expect(sut.stats().floorMs).toBe(0);
  });

  it('keeps every reading a connection held to the floor would have had, merged', () => {
    const a = socket('a');
    sut.raiseFloor();
    sut.raiseFloor();
    let t = 0;
    const seen: number[] = [];
    for (let step = 0; step < 40; step++) {
      sut.absorb('device:d1', [], [reading(++t, t)]);
      pass(CONFLATE_TIERS_MS[0] / 2);
    }
    pass(CONFLATE_TIERS_MS[2]);
    for (const frame of a.frames)
      for (const r of frame) {
        const [low, high] = r.range?.['t'] ?? [r.values['t'], r.values['t']];
        for (let v = low; v <= high; v++) seen.push(v);
      }
    // Every reading once, in order, in the ranges of the merged ones.
    expect(seen).toEqual(Array.from({ length: t }, (_, i) => i + 1));
  });

  it('slows a socket that stays behind down a tier per tick, to the slowest, telling it each time', () => {
    const slow = socket('slow');
    sut.enter(live(slow));
    slow.bytes = LAG_PAUSE_BYTES;
    pass(CONFLATE_TIERS_MS[0]);
    expect(sut.intervalOf('slow')).toBe(CONFLATE_TIERS_MS[1]);
    pass(CONFLATE_TIERS_MS[1]);
    expect(sut.intervalOf('slow')).toBe(CONFLATE_TIERS_MS[2]);
    pass(CONFLATE_TIERS_MS[2] * 3);
    expect(sut.intervalOf('slow')).toBe(CONFLATE_TIERS_MS[2]);
    expect(slow.throttles).toEqual([...CONFLATE_TIERS_MS]);
    expect(sut.stats()).toMatchObject({ throttled: 1, entered: 1, demoted: 2 });
  });

  it('moves back up once it keeps up, to every reading again (`throttle` 0), and leaves no gap at a move', () => {
    const slow = socket('slow');
    sut.enter(live(slow));
    slow.bytes = LAG_PAUSE_BYTES;
    pass(CONFLATE_TIERS_MS[0] + CONFLATE_TIERS_MS[1]); // down to the slowest
    expect(sut.intervalOf('slow')).toBe(CONFLATE_TIERS_MS[2]);
    slow.bytes = CONFLATE_KEEPING_UP_BYTES;
    let ts = 0;
    let whileThrottled = 0;
    // A reading every 50 ms all along: each one absorbed while throttled must be in a frame's range
    // (after the move to live the socket gets them as they come).
    const timer = setInterval(() => {
      sut.absorb('device:d1', [], [reading(++ts, ts)]);
      if (sut.isThrottled('slow')) whileThrottled = ts;
    }, 50);
    for (let i = 0; i < 40 && sut.isThrottled('slow'); i++) pass(CONFLATE_TIERS_MS[0]);
    clearInterval(timer);
    expect(sut.isThrottled('slow')).toBe(false);
    expect(slow.throttles.slice(-3)).toEqual([CONFLATE_TIERS_MS[1], CONFLATE_TIERS_MS[0], 0]);
    expect(sut.stats()).toMatchObject({ throttled: 0, recovered: 1 });
    // Every reading absorbed while throttled is covered, once: counts add up, ranges abut.
    const frames = slow.frames.flat();
    expect(frames.reduce((n, r) => n + (r.merged ?? 1), 0)).toBe(whileThrottled);
    let next = 1;
    for (const r of frames) {
      const [low, high] = r.range?.['t'] ?? [r.values['t'], r.values['t']];
      expect([low, high]).toEqual([next, next + (r.merged ?? 1) - 1]);
      next = high + 1;
    }
  });

  it('merges nothing while nobody is throttled', () => {
    sut.absorb('device:d1', [], [reading(1, 20)]);
    const late = socket('late');
    sut.enter(live(late));
    pass(CONFLATE_TIERS_MS[0]);
    expect(late.frames).toEqual([]);
    expect(sut.active).toBe(true);
    sut.leave('late');
    expect(sut.active).toBe(false);
  });

  describe('with the lag monitor', () => {
    let lag: LagMonitor;
    let told: string[];

    beforeEach(() => {
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      told = [];
      const socketProbe: SocketProbe = {
        queuedPackets: (s) => fake(s).packets,
        queuedBytes: (s) => fake(s).bytes,
        unansweredPing: () => null,
        holdHeartbeat: (s) => void fake(s).heartbeatsHeld++,
      };
      const lagEmitter = {
        sockets: () => [...sockets.values()] as unknown as LiveSocket[],
        lagged: (s: LiveSocket) => told.push(s.id),
      };
      lag = new LagMonitor(lagEmitter as never, socketProbe, sut);
      lag.start();
    });

    afterEach(() => {
      lag.stop();
      jest.restoreAllMocks();
    });

    it('throttles (does not pause) a socket that falls behind, and keeps a slow reader connected', () => {
      const slow = socket('slow');
      lag.behind(live(slow));
      expect([lag.isPaused('slow'), sut.isThrottled('slow'), told]).toEqual([true, true, []]);
      // Reading slowly: its queue shrinks a little every second, for longer than the stuck limit.
      slow.bytes = 8 << 20;
      for (let s = 0; s < LAG_DISCONNECT_MS / LAG_CHECK_MS + 10; s++) {
        slow.bytes -= 4096;
        pass(LAG_CHECK_MS);
      }
      expect(slow.disconnected).toBe(false);
      expect(slow.heartbeatsHeld).toBeGreaterThan(60);
      expect(sut.isThrottled('slow')).toBe(true);
    });

    it('disconnects a throttled socket that reads nothing for LAG_DISCONNECT_MS', () => {
      const stuck = socket('stuck');
      lag.behind(live(stuck));
      stuck.bytes = 2 << 20;
      pass(LAG_DISCONNECT_MS + 2 * LAG_CHECK_MS);
      expect(stuck.disconnected).toBe(true);
      expect(sut.isThrottled('stuck')).toBe(false);
      expect(lag.stats().lagDisconnects).toBe(1);
    });

    it('pauses (the `lagged` path, refilled from history) a throttled socket whose queue still grows past LAG_REFILL_BYTES', () => {
      const hoarder = socket('hoarder');
      lag.behind(live(hoarder));
      hoarder.bytes = LAG_REFILL_BYTES;
      pass(LAG_CHECK_MS);
      expect([sut.isThrottled('hoarder'), lag.isPaused('hoarder'), told]).toEqual([
        false,
        true,
        ['hoarder'],
      ]);
    });
  });
});

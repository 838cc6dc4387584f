import {
  AlertEvent,
  DeviceInfo,
  FLEET_ROOM,
  Reading,
  deviceRoom,
  groupRoom,
} from '@pulse/protocol';
import { DeviceRegistryService } from '../devices/device-registry.service';
import {
  DEVICE_EVENTS_MS,
  FLUSH_AT_READINGS,
  FLUSH_GAP_FACTOR,
  IDLE_MS,
  IDLE_GAP_FACTOR,
  gapFactorFor,
  BUSY_WINDOW_MS,
  HIGH_BUSY,
  LOW_BUSY,
  LiveEvents,
  LiveHubService,
  ROOM_BUFFER_LIMIT,
  BUSY_RATE,
  CALM_RATE,
  MAX_RATE_GAP_MS,
  minGapFor,
} from './live-hub.service';
import { FanOutMeter } from './fan-out-meter';
import { ReadingsFanOut, RelayedHandler } from './readings-fan-out';

/** Time spent inside emits (ms): the fake clock runs ahead of the fake timers by this much. */
let spentMs = 0;

/** The fan-out port and the emitter's events in one recorder. */
class FakeSink implements ReadingsFanOut, LiveEvents {
  /** Simulated cost of one readings send (encode + socket writes), in ms. */
  costPerEmit = 0;
  rooms = new Set<string>();
  emitted: { room: string; except: readonly string[]; batch: Reading[] }[] = [];
  devices: DeviceInfo[][] = [];
  hasMembers(room: string): boolean {
    return this.rooms.has(room);
  }
  send(room: string, except: readonly string[], batch: Reading[]): void {
    spentMs += this.costPerEmit;
    this.emitted.push({ room, except, batch });
  }
  /** Batches another gateway flushed arrive here (as CrossGatewayFanOut's Redis messages do). */
  relay: RelayedHandler | null = null;
  onRelayed(handler: RelayedHandler): void {
    this.relay = handler;
  }
  local: { room: string; except: readonly string[]; batch: Reading[] }[] = [];
  sendLocal(room: string, except: readonly string[], batch: Reading[]): void {
    spentMs += this.costPerEmit;
    this.local.push({ room, except, batch });
  }
  emitDevices(devices: readonly DeviceInfo[]): void {
    this.devices.push([...devices]);
  }
  emitGateway(): void {
    /* not under test */
  }
  alerts: AlertEvent[] = [];
  emitAlert(alert: AlertEvent): void {
    this.alerts.push(alert);
  }
}

const reading = (deviceId: string, ts: number): Reading => ({
  deviceId,
  ts,
  values: { a: ts },
});

describe('LiveHubService', () => {
  let sink: FakeSink;
  let sut: LiveHubService;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    spentMs = 0;
    sink = new FakeSink();
    // Emits cost CPU and wall time alike: both clocks run ahead of the timers by spentMs.
    sut = new LiveHubService({ FLUSH_MS: 50 }, sink, sink, {
      now: () => Date.now() + spentMs,
      cpu: () => spentMs,
    });
  });

  afterEach(() => {
    sut.close();
    jest.useRealTimers();
  });

  it('flushes the first reading after idle on the next turn, without waiting FLUSH_MS', () => {
    sink.rooms.add(deviceRoom('d1'));
    sut.publishReadings('d1', undefined, [reading('d1', 1)]);
    expect(sink.emitted).toHaveLength(0);
    jest.advanceTimersByTime(0); // runs setImmediate
    expect(sink.emitted).toEqual([
      { room: 'device:d1', except: [FLEET_ROOM], batch: [reading('d1', 1)] },
    ]);
  });

  it('tells the fan-out meter how long each flush ran (what the overload floor weighs)', () => {
    const meter = new FanOutMeter();
    const metered = new LiveHubService(
      { FLUSH_MS: 50 },
      sink,
      sink,
      { now: () => Date.now() + spentMs, cpu: () => spentMs },
      undefined,
      meter,
    );
    try {
      sink.rooms.add(deviceRoom('d1'));
      sink.costPerEmit = 0.5;
      metered.publishReadings('d1', undefined, [reading('d1', 1)]);
      jest.advanceTimersByTime(0);
      expect(sink.emitted).toHaveLength(1);
      expect(meter.totalMs).toBeCloseTo(0.5);
      jest.advanceTimersByTime(100);
      metered.publishReadings('d1', undefined, [reading('d1', 2)]);
      jest.advanceTimersByTime(0);
      expect(meter.totalMs).toBeCloseTo(1);
    } finally {
      metered.close();
    }
  });

  it('keeps sending at once while flushes are cheap (light load: no coalescing delay)', () => {
    sink.rooms.add(deviceRoom('d1'));
    sink.costPerEmit = 0.1; // 100 µs per flush → next flush allowed 1.2 ms after it
    for (let i = 0; i < 5; i++) {
      sut.publishReadings('d1', undefined, [reading('d1', i)]);
      jest.advanceTimersByTime(0);
      expect(sink.emitted).toHaveLength(i + 1); // each reading went out on the next turn
      jest.advanceTimersByTime(10); // 100 readings/s
    }
    expect(sut.stats().lastFlushCostMs).toBeCloseTo(0.1);
  });

  it('sends a reading that finds the hub idle (IDLE_MS of silence) once IDLE_GAP_FACTOR × cost has passed', () => {
    sink.rooms.add(deviceRoom('d1'));
    sink.costPerEmit = 2; // duty-cycle gap 24 ms, idle gap 4 ms
    sut.publishReadings('d1', undefined, [reading('d1', 1)]);
    jest.advanceTimersByTime(0);
    jest.advanceTimersByTime(IDLE_MS + 1); // silence: the next reading is alone
    sut.publishReadings('d1', undefined, [reading('d1', 2)]);
    jest.advanceTimersByTime(0);
    expect(sink.emitted.map((e) => e.batch.length)).toEqual([1, 1]);
    // Close behind it (load): it waits for the duty cycle and coalesces.
    jest.advanceTimersByTime(1);
    sut.publishReadings('d1', undefined, [reading('d1', 3)]);
    jest.advanceTimersByTime(1);
    sut.publishReadings('d1', undefined, [reading('d1', 4)]);
    jest.advanceTimersByTime(2 * FLUSH_GAP_FACTOR - 3);
    expect(sink.emitted).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(sink.emitted.map((e) => e.batch.length)).toEqual([1, 1, 2]);
  });

  it('spaces flushes by cost × FLUSH_GAP_FACTOR and coalesces what arrives in between', () => {
    sink.rooms.add(deviceRoom('d1'));
    sink.costPerEmit = 2; // → 24 ms gap after each flush
    sut.publishReadings('d1', undefined, [reading('d1', 1)]);
    jest.advanceTimersByTime(0);
    expect(sink.emitted).toHaveLength(1);
    sut.publishReadings('d1', undefined, [reading('d1', 2)]);
    sut.publishReadings('d1', undefined, [reading('d1', 3)]);
    // The gap (2 ms × FLUSH_GAP_FACTOR) runs from the end of the flush; the fake clock is
    // already 2 ms ahead of the timers (the flush's cost), so it is that many ms of timer time.
    jest.advanceTimersByTime(2 * FLUSH_GAP_FACTOR - 1);
    expect(sink.emitted).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(sink.emitted.map((e) => e.batch.length)).toEqual([1, 2]);
  });

  describe('with the event loop load measured', () => {
    /** Share of wall time the fake loop spends active. */
    let busyShare: number;
    const t0 = 1_000_000;
    let hub: LiveHubService;

    beforeEach(() => {
      busyShare = 0;
      hub = new LiveHubService({ FLUSH_MS: 50 }, sink, sink, {
        now: () => Date.now() + spentMs,
        cpu: () => spentMs,
        active: () => (Date.now() + spentMs - t0) * busyShare,
      });
    });

    afterEach(() => hub.close());

    /** One flush at t0 (starts the window), BUSY_WINDOW_MS of the given load, one flush (samples it). */
    const loadFor = (share: number) => {
      busyShare = share;
      sink.rooms.add(deviceRoom('d1'));
      sink.costPerEmit = 2;
      hub.publishReadings('d1', undefined, [reading('d1', 1)]);
      jest.advanceTimersByTime(0);
      jest.advanceTimersByTime(BUSY_WINDOW_MS);
      hub.publishReadings('d1', undefined, [reading('d1', 2)]);
      jest.advanceTimersByTime(0);
      sink.emitted = [];
    };

    /** Timer ms until two readings published 1 ms after a flush go out (in one batch). */
    const waitOfCloseReadings = () => {
      jest.advanceTimersByTime(1);
      hub.publishReadings('d1', undefined, [reading('d1', 3)]);
      hub.publishReadings('d1', undefined, [reading('d1', 4)]);
      for (let waited = 1; waited <= 100; waited++) {
        jest.advanceTimersByTime(1);
        if (sink.emitted.length > 0) {
          expect(sink.emitted.map((e) => e.batch.length)).toEqual([2]);
          return waited;
        }
      }
      return Infinity;
    };

    it('sends readings close together after IDLE_GAP_FACTOR × cost while the loop has room', () => {
      loadFor(LOW_BUSY - 0.1);
      // The gap runs from the flush's end (the clock's time after its cost); the readings came
      // 1 ms after it, so they wait the gap less that 1 ms.
      expect(waitOfCloseReadings()).toBe(2 * IDLE_GAP_FACTOR - 1);
    });

    it('keeps the full FLUSH_GAP_FACTOR once the loop is HIGH_BUSY or busier', () => {
      loadFor(HIGH_BUSY + 0.1);
      expect(waitOfCloseReadings()).toBe(2 * FLUSH_GAP_FACTOR - 1);
    });

    it('scales the factor linearly between LOW_BUSY and HIGH_BUSY', () => {
      expect(gapFactorFor(0)).toBe(IDLE_GAP_FACTOR);
      expect(gapFactorFor(LOW_BUSY)).toBe(IDLE_GAP_FACTOR);
      expect(gapFactorFor((LOW_BUSY + HIGH_BUSY) / 2)).toBeCloseTo(
        (IDLE_GAP_FACTOR + FLUSH_GAP_FACTOR) / 2,
      );
      expect(gapFactorFor(HIGH_BUSY)).toBe(FLUSH_GAP_FACTOR);
      expect(gapFactorFor(1)).toBe(FLUSH_GAP_FACTOR);
    });
  });

  describe('the rate floor', () => {
    let hub: LiveHubService;
    /** Timer time of each flush of `hub` (its sends to the device room). */
    let flushedAt: number[];

    beforeEach(() => {
      // FLUSH_MS above MAX_RATE_GAP_MS, so the floor is what spaces the flushes; cheap flushes
      // (0.1 ms) that the duty cycle alone would repeat every ~1 ms.
      hub = new LiveHubService({ FLUSH_MS: 100 }, sink, sink, {
        now: () => Date.now() + spentMs,
        cpu: () => spentMs,
      });
      sink.rooms.add(deviceRoom('d1'));
      sink.costPerEmit = 0.1;
      flushedAt = [];
      const send = sink.send.bind(sink);
      sink.send = (room, except, batch) => {
        flushedAt.push(Date.now());
        send(room, except, batch);
      };
      hub.publishLocal = hub.publishLocal.bind(hub);
    });

    afterEach(() => hub.close());

    /**
     * Readings for `ms`, one per `gapMs(i)` ms (default: `perSecond` evenly); their ts are 0, 1,
     * 2, … Returns each reading's publish time (timer time).
     */
    const feed = (perSecond: number, ms: number, gapMs?: (i: number) => number) => {
      const publishedAt: number[] = [];
      for (let i = 0, t = 0; t < ms; i++) {
        publishedAt.push(Date.now());
        hub.publishReadings('d1', undefined, [reading('d1', i)]);
        const gap = gapMs ? gapMs(i) : 1000 / perSecond;
        jest.advanceTimersByTime(gap);
        t += gap;
      }
      jest.advanceTimersByTime(200);
      return publishedAt;
    };
    const delivered = () => sink.emitted.flatMap((e) => e.batch.map((r) => r.ts));
    /** Gaps between flushes once the rate is measured (the first two windows left out). */
    const steadyGaps = () =>
      flushedAt
        .filter((t) => t >= flushedAt[0] + 2 * BUSY_WINDOW_MS)
        .map((t, i, all) => (i === 0 ? Infinity : t - all[i - 1]))
        .slice(1);

    it('spaces flushes 50 ms apart at 1,000 readings/s, every reading once and in order', () => {
      feed(1000, 2000);
      expect(delivered()).toEqual(Array.from({ length: 2000 }, (_, i) => i));
      const gaps = steadyGaps();
      expect(gaps.length).toBeGreaterThan(20);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(49);
      // 20 frames a second in the last second of readings, not one per reading.
      const lastSecond = flushedAt.filter(
        (t) => t >= flushedAt[0] + 1000 && t < flushedAt[0] + 2000,
      );
      expect(lastSecond.length).toBeGreaterThanOrEqual(19);
      expect(lastSecond.length).toBeLessThanOrEqual(21);
    });

    it('is not undone by the short silences of random arrivals (the idle rule waits while it is up)', () => {
      // 1,000 readings/s on average, every tenth after 5 ms of silence (more than IDLE_MS).
      feed(1000, 2000, (i) => (i % 10 === 9 ? 5 : 5 / 9));
      expect(Math.min(...steadyGaps())).toBeGreaterThanOrEqual(49);
    });

    it('leaves readings at CALM_RATE or slower to the duty cycle: close ones go out within ms', () => {
      // 100 readings/s in pairs 1 ms apart: the second of each pair is not idle, the floor must
      // not hold it (the duty cycle's gap here is 0.1 ms × FLUSH_GAP_FACTOR).
      const publishedAt = feed(100, 2000, (i) => (i % 2 === 0 ? 1 : 19));
      const at = new Map<number, number>();
      sink.emitted.forEach((e, k) => e.batch.forEach((r) => at.set(r.ts, flushedAt[k])));
      const waits = publishedAt.map((t, ts) => (at.get(ts) ?? Infinity) - t);
      expect(waits).toHaveLength(200);
      expect(Math.max(...waits)).toBeLessThanOrEqual(2);
    });

    it("takes the busiest room's rate: a peer's reading relayed in three rooms is 350/s, not 1,050; refills do not count", () => {
      sink.rooms.add(FLEET_ROOM).add(groupRoom('g'));
      // 350 readings/s from a peer, each relayed in its fleet, group and device batches.
      let sinceMeasured = 0;
      for (let i = 0; i < 700; i++) {
        if (i === 175) sinceMeasured = sink.local.length; // 500 ms in: the rate is measured
        const r = [reading('d1', i)];
        sink.relay?.(FLEET_ROOM, [], r);
        sink.relay?.(groupRoom('g'), [FLEET_ROOM], r);
        sink.relay?.(deviceRoom('d1'), [FLEET_ROOM, groupRoom('g')], r);
        jest.advanceTimersByTime(1000 / 350);
      }
      // Each room's rate is 350/s, a floor of minGapFor(350) ≈ 9 ms, ~160 flushes of three rooms
      // in the last 1.5 s; summed over the rooms it would be 50 ms, 30 flushes.
      expect(sink.local.length - sinceMeasured).toBeGreaterThan(3 * 100);
      // A refill of 20,000 readings read back from history does not raise the floor either:
      // close readings right after it still go out within ms.
      hub.publishLocal(
        'd1',
        'g',
        Array.from({ length: 20_000 }, (_, i) => reading('d1', i)),
      );
      jest.advanceTimersByTime(300);
      flushedAt = [];
      sink.emitted = [];
      const publishedAt = feed(100, 600, (i) => (i % 2 === 0 ? 1 : 19));
      const at = new Map<number, number>();
      sink.emitted.forEach((e, k) => e.batch.forEach((r) => at.set(r.ts, flushedAt[k])));
      const waits = publishedAt.map((t, ts) => (at.get(ts) ?? Infinity) - t);
      expect(Math.max(...waits)).toBeLessThanOrEqual(2);
    });

    it("does not hold readings only the peers' screens watch (several gateways: theirs floor them)", () => {
      (sink as ReadingsFanOut).hasLocalMembers = () => false;
      feed(1000, 1000);
      expect(delivered()).toHaveLength(1000);
      expect(Math.max(...steadyGaps())).toBeLessThan(10);
    });

    it('does not hold 1,000 readings/s spread over 100 watched devices (10/s a room)', () => {
      for (let d = 0; d < 100; d++) sink.rooms.add(deviceRoom(`s${d}`));
      for (let i = 0; i < 2000; i++) {
        hub.publishReadings(`s${i % 100}`, undefined, [reading(`s${i % 100}`, i)]);
        jest.advanceTimersByTime(1);
      }
      jest.advanceTimersByTime(200);
      // Flushes (each a round of sends) keep the duty cycle's pace: ms apart, not 50.
      const rounds = new Set(flushedAt).size;
      expect(rounds).toBeGreaterThan(500);
    });

    it('rises linearly from 0 at CALM_RATE to MAX_RATE_GAP_MS at BUSY_RATE', () => {
      expect(minGapFor(0)).toBe(0);
      expect(minGapFor(CALM_RATE)).toBe(0);
      expect(minGapFor((CALM_RATE + BUSY_RATE) / 2)).toBeCloseTo(MAX_RATE_GAP_MS / 2);
      expect(minGapFor(BUSY_RATE)).toBe(MAX_RATE_GAP_MS);
      expect(minGapFor(50 * BUSY_RATE)).toBe(MAX_RATE_GAP_MS);
    });
  });

  it('coalesces readings under load into one emit per room per FLUSH_MS at most', () => {
    sink.rooms.add(deviceRoom('d1')).add(deviceRoom('d2'));
    sink.costPerEmit = 5; // 5 ms per room: cost × factor far above FLUSH_MS
    sut.publishReadings('d1', undefined, [reading('d1', 1)]);
    jest.advanceTimersByTime(0);
    sink.emitted = [];
    // The flush ran 5 ms on the clock (which is now 5 ms ahead of the timers): FLUSH_MS from
    // its start is 45 ms of timer time from now. Readings come every 3 ms (< IDLE_MS): load.
    for (let i = 0; i < 10; i++) {
      sut.publishReadings('d1', undefined, [reading('d1', 10 + i)]);
      sut.publishReadings('d2', undefined, [reading('d2', 10 + i)]);
      jest.advanceTimersByTime(3);
    }
    jest.advanceTimersByTime(14);
    expect(sink.emitted).toHaveLength(0); // 44 ms
    jest.advanceTimersByTime(1);
    expect(sink.emitted.map((e) => [e.room, e.batch.length])).toEqual([
      ['device:d1', 10],
      ['device:d2', 10],
    ]);
    expect(sut.stats()).toMatchObject({
      emits: 3,
      readingsSent: 21,
      flushes: 2,
    });
  });

  it('buffers batches other gateways flushed and sends them on its own tick, to its own sockets only', () => {
    // The peer has no screens of its own and flushes almost at once (a reading a batch); this
    // gateway holds the screens (a flush costs 5 ms): one frame per room per tick, not one per
    // peer batch, and never passed on (sendLocal, not send).
    sink.costPerEmit = 5;
    sink.relay?.(FLEET_ROOM, [], [reading('d1', 1)]);
    jest.advanceTimersByTime(0); // idle: out at once
    expect(sink.local).toHaveLength(1);
    sink.local = [];
    for (let i = 0; i < 15; i++) {
      sink.relay?.(FLEET_ROOM, [], [reading(`d${i % 3}`, 10 + i)]);
      jest.advanceTimersByTime(3);
    }
    jest.advanceTimersByTime(60);
    expect(sink.local.map((e) => [e.room, e.batch.length])).toEqual([[FLEET_ROOM, 15]]);
    expect(sink.local[0].batch.map((r) => r.ts)).toEqual(
      Array.from({ length: 15 }, (_, i) => 10 + i),
    );
    expect(sink.emitted).toHaveLength(0);
  });

  it('routes to fleet, group and device rooms, excluding wider rooms so nobody gets a reading twice', () => {
    sink.rooms.add(FLEET_ROOM).add(groupRoom('g')).add(deviceRoom('d1'));
    sut.publishReadings('d1', 'g', [reading('d1', 1)]);
    jest.advanceTimersByTime(0);
    expect(sink.emitted.map((e) => [e.room, e.except])).toEqual([
      [FLEET_ROOM, []],
      ['group:g', [FLEET_ROOM]],
      ['device:d1', [FLEET_ROOM, 'group:g']],
    ]);
  });

  it('buffers nothing for rooms without members', () => {
    sut.publishReadings('d1', 'g', [reading('d1', 1)]);
    jest.runAllTimers();
    expect(sink.emitted).toEqual([]);
  });

  it('flushes at once when a room buffer fills up, even inside the gap (no overflow drops under a flood)', () => {
    sink.rooms.add(FLEET_ROOM);
    sink.costPerEmit = 10; // the tick alone would wait FLUSH_MS
    sut.publishReadings('d1', undefined, [reading('d1', 0)]);
    jest.advanceTimersByTime(0);
    const batch = Array.from({ length: 100 }, (_, i) => reading('d1', i + 1));
    for (let i = 0; i < FLUSH_AT_READINGS / 100; i++) sut.publishReadings('d1', undefined, batch);
    expect(sink.emitted.map((e) => e.batch.length)).toEqual([1, FLUSH_AT_READINGS]);
    expect(sut.stats().droppedOverflow).toBe(0);
  });

  it('bounds a room buffer, dropping the oldest readings and counting them', () => {
    sink.rooms.add(deviceRoom('d1'));
    const many = Array.from({ length: ROOM_BUFFER_LIMIT + 5 }, (_, i) => reading('d1', i));
    sut.publishReadings('d1', undefined, many);
    jest.advanceTimersByTime(0);
    expect(sink.emitted[0].batch).toHaveLength(ROOM_BUFFER_LIMIT);
    expect(sink.emitted[0].batch[0].ts).toBe(5);
    expect(sut.stats().droppedOverflow).toBe(5);
  });

  it('emits alerts at once to every client, not batched with readings', () => {
    const alert = { id: 'al-1', deviceId: 'd1' } as AlertEvent;
    sut.publishAlert(alert);
    sut.publishAlert(alert);
    expect(sink.alerts).toEqual([alert, alert]);
    expect(sut.stats().alertsSent).toBe(2);
    sut.close();
    sut.publishAlert(alert);
    expect(sink.alerts).toHaveLength(2);
  });

  it('sends device changes batched, each device once with its newest state', () => {
    const device = (deviceId: string, status: DeviceInfo['status']): DeviceInfo => ({
      deviceId,
      status,
      lastSeen: 1,
      lastTs: null,
      meta: { group: 'g' },
      metrics: [],
    });
    sut.publishDevice(device('d1', 'offline'));
    sut.publishDevice(device('d2', 'online'));
    sut.publishDevice(device('d1', 'online'));
    jest.advanceTimersByTime(DEVICE_EVENTS_MS - 1);
    expect(sink.devices).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sink.devices).toEqual([[device('d1', 'online'), device('d2', 'online')]]);
    // Quiet afterwards: nothing more; the next change starts a new batch.
    jest.advanceTimersByTime(10 * DEVICE_EVENTS_MS);
    sut.publishDevice(device('d2', 'offline'));
    sut.close(); // what is pending goes out at close
    expect(sink.devices).toEqual([
      [device('d1', 'online'), device('d2', 'online')],
      [device('d2', 'offline')],
    ]);
    expect(sut.stats().devicesSent).toBe(3);
  });

  it('drops the pending change of a device that left the registry before it is sent', () => {
    const registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
    sut.close();
    sut = new LiveHubService(
      { FLUSH_MS: 50 },
      sink,
      sink,
      { now: () => Date.now(), cpu: () => 0 },
      undefined,
      undefined,
      registry,
    );
    for (const id of ['gone', 'kept']) {
      const info = registry.applyStatus(id, 'online', 1);
      if (info) sut.publishDevice(info);
    }
    registry.remove('gone');
    jest.advanceTimersByTime(DEVICE_EVENTS_MS);
    expect(sink.devices.flat().map((d) => d.deviceId)).toEqual(['kept']);
  });

  it('sends pending device changes before an alert, so a screen meets the device first', () => {
    const device: DeviceInfo = {
      deviceId: 'd9',
      status: 'offline',
      lastSeen: 1,
      lastTs: null,
      meta: null,
      metrics: [],
    };
    sut.publishDevice(device);
    expect(sink.devices).toEqual([]);
    sut.publishAlert({ id: 'al-9', deviceId: 'd9' } as AlertEvent);
    expect(sink.devices).toEqual([[device]]);
    expect(sink.alerts).toHaveLength(1);
  });
});

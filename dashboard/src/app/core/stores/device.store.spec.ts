import { summaryEntry } from '../../testing/fleet-summary';
import { TestBed } from '@angular/core/testing';
import type { DeviceInfo, Reading } from '@pulse/protocol/core';
import { DeviceStore, MAX_SHARED_METRIC_LISTS, NOTIFY_MS, ORDER_MS, PACE_MS } from './device.store';
import { deviceHealth } from './device-health';
import { SeriesStore } from './series.store';

const reading = (deviceId: string, ts: number, values: Record<string, number>): Reading => ({
  deviceId,
  ts,
  values,
});

describe('DeviceStore', () => {
  let sut: DeviceStore;
  let series: SeriesStore;

  beforeEach(() => {
    jest.useFakeTimers();
    sut = TestBed.inject(DeviceStore);
    series = TestBed.inject(SeriesStore);
  });

  afterEach(() => jest.useRealTimers());

  it('keeps latest values and metrics from readings, leaving points to the live service', () => {
    sut.ingest(
      [
        reading('d1', 1000, { temperature: 20, power: 5 }),
        reading('d1', 2000, { temperature: 21 }),
      ],
      2000,
    );
    const d = sut.get('d1');
    expect(d?.latest).toEqual({ temperature: 21, power: 5 });
    expect(d?.metrics).toEqual(['temperature', 'power']);
    expect(d?.status).toBe('online');
    expect(series.get('d1', 'temperature')).toBeUndefined();
  });

  it('shares one metric list between devices that have the same, copying it when one grows', () => {
    sut.ingest([reading('a', 1000, { t: 1, h: 2 }), reading('b', 1000, { t: 3, h: 4 })], 1000);
    const a = sut.get('a');
    const b = sut.get('b');
    expect(a?.metrics).toEqual(['t', 'h']);
    expect(b?.metrics).toBe(a?.metrics); // one array for both
    sut.ingest([reading('b', 2000, { co2: 400 })], 2000);
    expect(sut.get('b')?.metrics).toEqual(['t', 'h', 'co2']);
    expect(a?.metrics).toEqual(['t', 'h']); // untouched
    expect(Object.isFrozen(b?.metrics)).toBe(true);
    expect(a?.units).toEqual({});
  });

  it('reaches the same shared list whichever order of arrivals built it', () => {
    sut.ingest([reading('a', 1000, { t: 1 })], 1000);
    sut.ingest([reading('a', 2000, { h: 2 })], 2000);
    sut.ingest([reading('b', 1000, { t: 1, h: 2 })], 1000);
    sut.ingest([reading('c', 1000, { t: 1 }), reading('c', 2000, { h: 2 })], 2000);
    const shared = sut.get('a')?.metrics;
    expect(shared).toEqual(['t', 'h']);
    expect(sut.get('b')?.metrics).toBe(shared);
    expect(sut.get('c')?.metrics).toBe(shared);
    sut.ingest([reading('d', 1000, { h: 1, t: 2 })], 1000); // first-seen order differs: its own
    expect(sut.get('d')?.metrics).toEqual(['h', 't']);
  });

  it('gives each device its own list beyond MAX_SHARED_METRIC_LISTS distinct ones', () => {
    for (let i = 0; i <= MAX_SHARED_METRIC_LISTS; i++)
      sut.ingest([reading(`d${i}`, 1000, { [`m${i}`]: 1 })], 1000);
    sut.ingest([reading('x', 1000, { [`m${MAX_SHARED_METRIC_LISTS}`]: 1 })], 1000);
    const last = sut.get(`d${MAX_SHARED_METRIC_LISTS}`);
    expect(sut.get('x')?.metrics).toEqual(last?.metrics);
    expect(sut.get('x')?.metrics).not.toBe(last?.metrics);
    expect(sut.get('d0')?.metrics).toEqual(['m0']);
  });

  it('learns the cadence and ignores outages when doing so', () => {
    for (let i = 0; i < 10; i++) sut.ingest([reading('d1', i * 2000, { v: i })], i * 2000);
    expect(sut.get('d1')?.cadenceMs).toBeCloseTo(2000);
    sut.ingest([reading('d1', 18_000 + 600_000, { v: 0 })], 618_000);
    expect(sut.get('d1')?.cadenceMs).toBeCloseTo(2000);
  });

  it('turns a silent device stale and back to live', () => {
    sut.ingest([reading('d1', 0, { v: 1 }), reading('d1', 1000, { v: 1 })], 1000);
    const d = sut.get('d1');
    if (!d) throw new Error('missing');
    expect(deviceHealth(d, 5000, 10_000)).toBe('live');
    expect(deviceHealth(d, 12_000, 10_000)).toBe('stale');
    sut.ingest([reading('d1', 12_000, { v: 1 })], 12_000);
    expect(deviceHealth(d, 12_500, 10_000)).toBe('live');
  });

  it('applies device info (meta, status)', () => {
    const info: DeviceInfo = {
      deviceId: 'd1',
      status: 'offline',
      lastSeen: 5000,
      lastTs: 4000,
      meta: { name: 'Boiler', group: 'hall-a', units: { temperature: '°C' }, intervalMs: 1000 },
      metrics: ['temperature'],
    };
    sut.upsertInfo(info);
    expect(sut.get('d1')).toMatchObject({
      name: 'Boiler',
      group: 'hall-a',
      status: 'offline',
      lastHeard: 5000,
      intervalMs: 1000,
    });
  });

  it('bounds the device map, evicting the least recently heard device and saying so', () => {
    const evicted: string[] = [];
    sut.onEvict((id) => evicted.push(id));
    sut.maxDevices = 3;
    sut.ingest([reading('a', 1, { v: 1 })], 100);
    sut.ingest([reading('b', 1, { v: 1 })], 300);
    sut.ingest([reading('c', 1, { v: 1 })], 200);
    sut.ingest([reading('d', 1, { v: 1 })], 400);
    expect(sut.size).toBe(3);
    expect(sut.get('a')).toBeUndefined();
    expect(evicted).toEqual(['a']);
    expect(sut.evicted).toBe(1);
  });

  it("shows a device's metrics in its own order once its info comes, whatever order the fleet summary knew them in", () => {
    // The summary's values follow the gateway's fleet-wide metric table, built in another order
    // at every boot: tiles listed a device's metrics in that order (QA: rows swapped on the
    // wall after a restart), where its page and the API list them as the device sent them.
    const fleet = ['power', 'vibration', 'temperature', 'humidity'];
    const values = { power: 5, vibration: 0.2, temperature: 21 };
    sut.applySummary([summaryEntry({ id: 'm1', values }, fleet)], fleet, 1000);
    expect(sut.get('m1')?.metrics).toEqual(['power', 'vibration', 'temperature']);
    const info: DeviceInfo = {
      deviceId: 'm1',
      status: 'online',
      lastSeen: 1000,
      lastTs: 1000,
      meta: null,
      metrics: ['vibration', 'temperature'],
    };
    sut.upsertInfo(info);
    // Its own order first; one the info does not list yet (bounded lists) stays, after them.
    expect(sut.get('m1')?.metrics).toEqual(['vibration', 'temperature', 'power']);
    sut.applySummary([summaryEntry({ id: 'm1', values }, fleet)], fleet, 2000);
    expect(sut.get('m1')?.metrics).toEqual(['vibration', 'temperature', 'power']);
  });

  it('leaves out (and counts) new devices of a fleet summary when full, rather than churn the store', () => {
    const evicted: string[] = [];
    sut.onEvict((id) => evicted.push(id));
    sut.maxDevices = 2;
    const entries = ['a', 'b', 'c'].map((id) => summaryEntry({ id, values: { v: 1 } }, ['v']));
    for (let push = 0; push < 3; push++) sut.applySummary(entries, ['v'], 1000 + push);
    expect(sut.all().map((d) => d.deviceId)).toEqual(['a', 'b']);
    expect(evicted).toEqual([]);
    expect(sut.summaryRefused).toBe(3);
  });

  it('keeps the whole-store revision at a bounded rate however fast readings arrive', () => {
    const before = sut.revision();
    for (let i = 0; i < 100; i++) sut.ingest([reading('d1', i, { v: i })], i);
    expect(sut.revision()).toBe(before);
    jest.advanceTimersByTime(NOTIFY_MS);
    expect(sut.revision()).toBe(before + 1);
  });

  it("bumps a device's own version at once on each reading, and no other device's", () => {
    sut.ingest([reading('d1', 1, { v: 1 }), reading('d2', 1, { v: 1 })], 1);
    const d1 = sut.version('d1');
    const d2 = sut.version('d2');
    const [v1, v2] = [d1(), d2()];
    for (let i = 2; i <= 4; i++) {
      sut.ingest([reading('d1', i, { v: i })], i);
      // Every value is seen: one version per reading, no timer in between.
      expect(d1()).toBe(v1 + i - 1);
      expect(sut.get('d1')?.latest['v']).toBe(i);
    }
    expect(d2()).toBe(v2);
  });

  it("bumps a tile's paced version at once for every reading at a rate a person reads", () => {
    const d1 = sut.pacedVersion('d1');
    for (let i = 1; i <= 5; i++) {
      const before = d1();
      sut.ingest([reading('d1', i * 1000, { v: i })], i * 1000);
      // 1 reading/s: on screen the next frame, none skipped, no timer in between.
      expect(d1()).toBe(before + 1);
      jest.advanceTimersByTime(1000);
    }
  });

  it("bumps a tile's paced version at once for what is not a reading, even right after one", () => {
    const d1 = sut.pacedVersion('d1');
    sut.ingest([reading('d1', 1, { v: 1 })], 1);
    const afterReading = d1();
    // The tile's history and status arrive just after its first reading: neither waits.
    sut.noteHistory('d1', 'v', 0, 0);
    expect(d1()).toBe(afterReading + 1);
    sut.setStatus('d1', 'offline');
    expect(d1()).toBe(afterReading + 2);
    expect(sut.get('d1')?.status).toBe('offline');
  });

  it('paces faster devices to the same boundaries, at most 4 times a second, ending on the newest', () => {
    // Wherever the clock stands against the pace's boundaries.
    for (let offset = 0; offset < PACE_MS; offset += 10) {
      jest.setSystemTime(1_000_000 + offset);
      const store = new DeviceStore();
      const [d1, d2] = [store.pacedVersion('d1'), store.pacedVersion('d2')];
      const steps: Array<[number, number, number]> = [];
      let last = [d1(), d2()];
      const beforeLast = [0, 0];
      // Two devices at 10 Hz for 2 s, out of step with each other.
      for (let ms = 0; ms < 2000; ms += 50) {
        const which = ms % 100 === 0 ? 0 : 1;
        beforeLast[which] = which === 0 ? d1() : d2();
        store.ingest([reading(which === 0 ? 'd1' : 'd2', ms, { v: ms })], ms);
        jest.advanceTimersByTime(50);
        const now = [d1(), d2()];
        if (now[0] !== last[0] || now[1] !== last[1])
          steps.push([now[0] - last[0], now[1] - last[1], ms]);
        last = now;
      }
      const bumps = [0, 1].map((i) => steps.reduce((n, s) => n + s[i], 0));
      // 20 readings each in 2 s: at most 2 s / PACE_MS bumps, +1 for the first shown at once.
      for (const n of bumps) {
        expect(n).toBeLessThanOrEqual(2000 / PACE_MS + 1);
        expect(n).toBeGreaterThanOrEqual(2000 / PACE_MS - 1);
      }
      // Once each has waited for a boundary (within two paces), both change in the same frames.
      const settled = steps.filter(([, , ms]) => ms >= 2 * PACE_MS);
      expect(settled.length).toBeGreaterThanOrEqual(5);
      expect(settled.every(([a, b]) => a === 1 && b === 1)).toBe(true);
      // The last readings are not lost: each shows within one pace of its arrival.
      jest.advanceTimersByTime(PACE_MS);
      expect(d1()).toBeGreaterThan(beforeLast[0]);
      expect(d2()).toBeGreaterThan(beforeLast[1]);
      expect(store.get('d2')?.latest['v']).toBe(1950);
    }
  });

  it('re-orders lists once a second for sort keys, within 250 ms for new devices or names', () => {
    sut.ingest([reading('d1', 1, { v: 1 })], 1);
    jest.advanceTimersByTime(ORDER_MS);
    const [members, order] = [sut.members(), sut.order()];
    for (let i = 2; i < 50; i++) sut.ingest([reading('d1', i, { v: i })], i);
    jest.advanceTimersByTime(ORDER_MS - 1);
    expect(sut.order()).toBe(order);
    jest.advanceTimersByTime(1);
    expect(sut.order()).toBe(order + 1);
    expect(sut.members()).toBe(members); // values only: the membership did not change
    sut.ingest([reading('d2', 1, { v: 1 })], 1);
    jest.advanceTimersByTime(NOTIFY_MS);
    expect(sut.members()).toBe(members + 1);
  });

  it('takes removed devices out, with their series, and lists fleet-wide metric names', () => {
    const gone: string[] = [];
    sut.onEvict((id) => gone.push(id));
    sut.ingest([reading('a', 1, { t: 1 }), reading('b', 1, { h: 2 })], 1);
    expect(sut.metricNames()).toEqual(['t', 'h']);
    sut.remove(['a', 'unknown']);
    expect(sut.get('a')).toBeUndefined();
    expect(gone).toEqual(['a']);
  });
});

describe('SeriesStore', () => {
  it('bounds each series by the default capacity unless a view pins more', () => {
    const sut = TestBed.inject(SeriesStore);
    for (let i = 0; i < 1000; i++) sut.push('d1', 'v', i, i);
    expect(sut.get('d1', 'v')?.size).toBe(300);
    const unpin = sut.pinCapacity('d1', 3600);
    for (let i = 1000; i < 10_000; i++) sut.push('d1', 'v', i, i);
    expect(sut.get('d1', 'v')?.size).toBe(3600);
    unpin();
    expect(sut.get('d1', 'v')?.size).toBe(300);
    expect(sut.get('d1', 'v')?.lastTs).toBe(9999);
  });

  it('caps what a view can pin', () => {
    const sut = TestBed.inject(SeriesStore);
    sut.pinCapacity('d1', 1e9);
    expect(sut.capacityFor('d1')).toBe(3600);
  });

  it('caps metrics per device', () => {
    const sut = TestBed.inject(SeriesStore);
    for (let i = 0; i < 100; i++) sut.push('d1', `m${i}`, 1, 1);
    expect(sut.metricsOf('d1').length).toBe(64);
  });
});

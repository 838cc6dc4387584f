import {
  AlertEvent,
  AlertSeverity,
  decodeFleetSummary,
  DeviceSummary,
  DS,
  FleetSummary,
  LIMITS,
} from '@pulse/protocol';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { asciiJson } from '../live/ascii-json';
import { pageOf } from './fleet-query';
import {
  FleetSummaryModel,
  scopedEvent,
  shownIn,
  significant,
  SUMMARY_HOLD_PUSHES,
  SUMMARY_VALUES_PER_PUSH,
  SummaryShare,
} from './fleet-summary';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

function alert(deviceId: string, id: string, severity: AlertSeverity, active = true): AlertEvent {
  return {
    id,
    ruleId: 'r',
    deviceId,
    metric: 'temperature',
    severity,
    state: active ? 'raised' : 'cleared',
    message: 'm',
    value: 1,
    raisedAt: T0,
    acknowledgedAt: null,
    acknowledgedBy: null,
    clearedAt: null,
    ruleName: 'r',
    threshold: 1,
    updatedAt: T0,
    flapping: false,
    count: 1,
    active,
  } as AlertEvent;
}

describe('FleetSummaryModel (with the real device registry)', () => {
  let registry: DeviceRegistryService;
  let sut: FleetSummaryModel;
  const reading = (deviceId: string, values: Record<string, number>) => [
    { deviceId, ts: T0, values },
  ];
  /** What the ingest does for one telemetry message. */
  const ingest = (deviceId: string, values: Record<string, number>, now = T0) => {
    const r = reading(deviceId, values);
    if (registry.applyReadings(deviceId, r, now) === undefined) return;
    sut.applyReadings(deviceId, r);
  };

  const delta = (at: number) => {
    const taken = sut.takeDelta(at);
    if (!taken) throw new Error('expected a delta');
    return taken;
  };

  beforeEach(() => {
    registry = new DeviceRegistryService({ MAX_DEVICES: 20_000, DEVICE_IDLE_EVICT_MS: 1000 });
    sut = new FleetSummaryModel(registry);
    registry.onGone((id) => sut.remove(id));
  });

  it('keeps the latest value per metric against a fleet-wide metric table', () => {
    registry.applyMeta('d1', { name: 'Boiler room', group: 'g1' }, T0);
    ingest('d1', { temperature: 20, humidity: 40 }, T0);
    ingest('d1', { temperature: 21.5 }, T0 + 500);
    ingest('d2', { humidity: 55 }, T0 + 600);
    expect(sut.snapshot(null, T0 + 1000)).toEqual({
      at: T0 + 1000,
      metrics: ['temperature', 'humidity'],
      devices: [
        ['d1', 'Boiler room', 'g1', 'unknown', 500, [21.5, 40]],
        ['d2', null, null, 'unknown', 400, [null, 55]],
      ],
    });
  });

  it('keeps the value of the newest reading when an older one arrives after it', () => {
    const late = (ts: number, values: Record<string, number>) => {
      const r = [{ deviceId: 'd1', ts, values }];
      registry.applyReadings('d1', r, T0);
      sut.applyReadings('d1', r);
    };
    late(T0 + 2000, { temperature: 22 });
    late(T0 + 1000, { temperature: 21, humidity: 40 }); // a backfilled reading, older
    expect(sut.snapshot(null, T0).devices[0][DS.values]).toEqual([22, 40]);
  });

  describe('values from the history store (after a restart)', () => {
    it('shows them for a device not heard since, without queueing a push', () => {
      registry.applyMeta('d1', { name: 'Plug' }, T0);
      sut.takeDelta(T0);
      sut.applyStored('d1', 'power', 42, T0 - 5000);
      sut.applyStored('d1', 'temperature', 18.5, T0 - 1000);
      sut.applyStored('nobody', 'power', 1, T0); // not in the registry: no entry
      expect(sut.snapshot(null, T0 + 1000)).toEqual({
        at: T0 + 1000,
        metrics: ['power', 'temperature'],
        devices: [['d1', 'Plug', null, 'unknown', 1000, [42, 18.5]]],
      });
      expect(sut.size()).toBe(1);
      // Nobody can hold a snapshot from before (the gateway did not listen yet): no device goes out.
      expect(delta(T0 + 1000).changed).toEqual([]);
    });

    it('gives way to a reading at least as new, whichever comes first, and outlives an older one', () => {
      const reading = (ts: number, values: Record<string, number>) => {
        const r = [{ deviceId: 'd1', ts, values }];
        registry.applyReadings('d1', r, T0);
        sut.applyReadings('d1', r);
      };
      reading(T0, { temperature: 21 }); // pending, not merged yet
      sut.applyStored('d1', 'temperature', 19, T0 - 1000);
      sut.applyStored('d1', 'humidity', 40, T0 - 1000);
      reading(T0 - 2000, { humidity: 10 }); // a late reading, older than the stored one
      expect(sut.snapshot(null, T0).devices[0][DS.values]).toEqual([21, 40]);
      sut.applyStored('d1', 'temperature', 5, T0); // merged value of the same reading time
      reading(T0 - 1000, { humidity: 41 }); // the stored reading again
      delta(T0);
      expect(sut.snapshot(null, T0).devices[0][DS.values]).toEqual([21, 41]);
    });
  });

  it('converges with another gateway through shares, whichever ingested the newest reading', () => {
    // Gateway B: its own registry and summary, fed only by A's shares and its own readings.
    const registryB = new DeviceRegistryService({ MAX_DEVICES: 20_000 });
    const b = new FleetSummaryModel(registryB);
    sut.startSharing();
    b.startSharing();
    const on = (registry: DeviceRegistryService, model: FleetSummaryModel) => {
      return (deviceId: string, ts: number, values: Record<string, number>, now: number) => {
        const r = [{ deviceId, ts, values }];
        registry.applyReadings(deviceId, r, now);
        model.applyReadings(deviceId, r);
      };
    };
    const toB = (share: SummaryShare | null) => {
      if (!share) return;
      for (const device of share.devices) {
        const [id, lastSeen, lastTs, values] = device;
        const names: string[] = [];
        for (let i = 0; i < values.length; i += 3) names.push(share.metrics[values[i]]);
        registryB.applyShared(id, lastSeen, lastTs, names, lastSeen);
        b.applyShared(share.metrics, device);
      }
    };
    on(registry, sut)('only-a', T0, { temperature: 20, humidity: 40 }, T0 + 10);
    on(registryB, b)('both', T0 + 2000, { power: 7 }, T0 + 2010); // B's own, newer
    on(registry, sut)('both', T0 + 1000, { power: 5 }, T0 + 1010); // A's, older
    toB(sut.takeShare(1000));
    // A shared each device it ingested once, and nothing more until it ingests again.
    expect(sut.takeShare(1000)).toBeNull();
    const snapshot = b.snapshot(null, T0 + 3000);
    const row = (id: string) => {
      const found = snapshot.devices.find((d) => d[DS.id] === id);
      if (!found) throw new Error(`${id} is not in B's summary`);
      return found;
    };
    const value = (id: string, metric: string) =>
      row(id)[DS.values][snapshot.metrics.indexOf(metric)];
    // A device B never heard is known to it now, with A's values and last seen.
    expect(value('only-a', 'temperature')).toBe(20);
    expect(value('only-a', 'humidity')).toBe(40);
    expect(row('only-a')[DS.age]).toBe(3000 - 10);
    expect(registryB.get('only-a')?.metrics).toEqual(['temperature', 'humidity']);
    // B's newer reading of `both` is not replaced by A's older one; its last seen stays B's.
    expect(value('both', 'power')).toBe(7);
    expect(row('both')[DS.age]).toBe(3000 - 2010);
    // The share is bounded: at most `max` devices per call, the rest in the next.
    for (let i = 0; i < 5; i++) on(registry, sut)(`n${i}`, T0, { temperature: i }, T0);
    expect(sut.takeShare(3)?.devices.map((d) => d[0])).toEqual(['n0', 'n1', 'n2']);
    expect(sut.takeShare(3)?.devices.map((d) => d[0])).toEqual(['n3', 'n4']);
  });

  it('pushes only what changed since the last push, with the table when it grew', () => {
    ingest('d1', { temperature: 20 });
    ingest('d2', { temperature: 30 });
    const first = sut.takeDelta(T0);
    expect(first?.changed.map((d) => d[DS.id])).toEqual(['d1', 'd2']);
    expect(first?.removed).toEqual([]);
    expect(sut.takeDelta(T0 + 1000)).toBeNull();
    ingest('d2', { temperature: 31 });
    ingest('d2', { temperature: 32 });
    const delta = sut.takeDelta(T0 + 2000);
    expect(delta?.changed).toEqual([['d2', null, null, 'unknown', 2000, [32]]]);
    expect(delta?.metrics).toBeUndefined();
    ingest('d2', { co2: 400 });
    expect(sut.takeDelta(T0 + 3000)?.metrics).toEqual(['temperature', 'co2']);
  });

  describe('a push of a large fleet', () => {
    const BUDGET = SUMMARY_VALUES_PER_PUSH;
    const id = (i: number) => `d${String(i).padStart(5, '0')}`;
    const ids = (devices: readonly DeviceSummary[]) => devices.map((d) => d[DS.id]);
    const range = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => id(from + k));
    const fleet = (n: number) => {
      for (let i = 0; i < n; i++) ingest(id(i), { temperature: 1 });
      return delta(T0 + 1000).changed;
    };

    it('sends every new device at once, however many', () => {
      expect(ids(fleet(BUDGET + 500))).toEqual(range(0, BUDGET + 500));
    });

    it('holds devices whose values alone changed beyond the budget for the next push, oldest change first, with their newest values', () => {
      const n = BUDGET + 500;
      fleet(n);
      for (let i = 0; i < n; i++) ingest(id(i), { temperature: 2 }, T0 + 1500);
      expect(ids(delta(T0 + 2000).changed)).toEqual(range(0, BUDGET));
      // While held, one of them reads again; and ten of those just sent change again.
      ingest(id(n - 1), { temperature: 3 }, T0 + 2500);
      for (let i = 0; i < 10; i++) ingest(id(i), { temperature: 3 }, T0 + 2500);
      const next = delta(T0 + 3000).changed;
      expect(ids(next)).toEqual([...range(BUDGET, n), ...range(0, 10)]);
      expect(next.find((d) => d[DS.id] === id(n - 1))?.[DS.values]).toEqual([3]);
      expect(next.find((d) => d[DS.id] === id(BUDGET))?.[DS.values]).toEqual([2]);
      expect(sut.takeDelta(T0 + 4000)).toBeNull();
    });

    it('holds no device for more than SUMMARY_HOLD_PUSHES pushes, however large the fleet', () => {
      const n = SUMMARY_HOLD_PUSHES * BUDGET + 500;
      fleet(n);
      for (let i = 0; i < n; i++) ingest(id(i), { temperature: 2 }, T0 + 1500);
      const sent: string[][] = [];
      for (let p = 0; p < SUMMARY_HOLD_PUSHES; p++)
        sent.push(ids(delta(T0 + 2000 + p * 1000).changed));
      expect(sent[0]).toHaveLength(Math.ceil(n / SUMMARY_HOLD_PUSHES));
      expect(sent.flat()).toEqual(range(0, n)); // all of them, once, in order of change
      expect(sut.takeDelta(T0 + 9000)).toBeNull();
    });

    it('spreads a steady fleet evenly over the pushes', () => {
      const n = 10_000;
      fleet(n);
      const last = new Map<string, number>();
      for (let p = 0; p < 8; p++) {
        for (let i = 0; i < n; i++) ingest(id(i), { temperature: p }, T0 + 1500 + p * 1000);
        const changed = delta(T0 + 2000 + p * 1000).changed;
        expect(changed).toHaveLength(BUDGET);
        for (const d of changed) last.set(d[DS.id], p);
      }
      // Every device went out within the last SUMMARY_HOLD_PUSHES pushes.
      expect(last.size).toBe(n);
      expect(Math.min(...last.values())).toBeGreaterThan(7 - SUMMARY_HOLD_PUSHES);
    });

    it('never holds a status, name or alert change, even with the budget spent', () => {
      const n = BUDGET + 10;
      fleet(n);
      for (let i = 0; i < n; i++) ingest(id(i), { temperature: 2 }, T0 + 1500);
      sut.applyAlert(alert(id(n - 1), 'a1', 'major'));
      registry.applyMeta(id(n - 2), { name: 'Renamed' }, T0 + 1500);
      sut.applyDevice(id(n - 2));
      const pushed = delta(T0 + 2000).changed;
      expect(ids(pushed)).toEqual([...range(0, BUDGET), id(n - 2), id(n - 1)]);
      expect(pushed.at(-1)?.[DS.alert]).toEqual(['major', 1]);
      expect(pushed.at(-2)?.[DS.name]).toBe('Renamed');
      expect(ids(delta(T0 + 3000).changed)).toEqual(range(BUDGET, n - 2));
    });
  });

  it('carries the highest active severity and the count, and drops it when none is active', () => {
    registry.applyStatus('d1', 'online', T0);
    sut.applyDevice('d1');
    sut.applyAlert(alert('d1', 'a1', 'minor'));
    sut.applyAlert(alert('d1', 'a2', 'critical'));
    expect(sut.takeDelta(T0)?.changed).toEqual([
      ['d1', null, null, 'online', 0, [], ['critical', 2]],
    ]);
    sut.applyAlert(alert('d1', 'a2', 'critical', false));
    expect(sut.takeDelta(T0)?.changed[0][DS.alert]).toEqual(['minor', 1]);
    sut.applyAlert(alert('d1', 'a1', 'minor', false));
    expect(sut.takeDelta(T0)?.changed[0]).toHaveLength(6);
    sut.applyAlert(alert('d1', 'a1', 'minor', false));
    expect(sut.takeDelta(T0)).toBeNull();
  });

  it('counts only alerts whose condition is on: one cleared, not acknowledged yet, is not', () => {
    // A device that is fine again must not sort or colour as critical until someone acknowledges.
    registry.applyStatus('d1', 'online', T0);
    sut.applyDevice('d1');
    sut.applyAlert(alert('d1', 'a1', 'minor'));
    sut.applyAlert(alert('d1', 'a2', 'critical'));
    expect(sut.takeDelta(T0)?.changed[0][DS.alert]).toEqual(['critical', 2]);
    const cleared = { ...alert('d1', 'a2', 'critical'), state: 'cleared', clearedAt: T0 + 500 };
    sut.applyAlert(cleared as AlertEvent); // still on the active list: nobody acknowledged it
    expect(sut.takeDelta(T0 + 1000)?.changed[0][DS.alert]).toEqual(['minor', 1]);
    // A cleared alert of a device not known yet is not kept for it either.
    sut.applyAlert({ ...cleared, deviceId: 'later' } as AlertEvent);
    ingest('later', { temperature: 20 });
    expect(delta(T0 + 2000).changed.find((d) => d[DS.id] === 'later')?.[DS.alert]).toBeUndefined();
  });

  it("keeps another gateway's alert of a device not known yet until the device is", () => {
    // A peer's engine raised it; this gateway hears of the device with the peer's next share.
    sut.applyAlert(alert('later', 'a1', 'critical'));
    sut.applyAlert(alert('later', 'a2', 'minor'));
    sut.applyAlert(alert('later', 'a2', 'minor', false));
    sut.applyAlert(alert('never', 'a3', 'major'));
    sut.applyAlert(alert('never', 'a3', 'major', false));
    expect(sut.size()).toBe(0);
    ingest('later', { temperature: 20 });
    expect(delta(T0).changed).toEqual([['later', null, null, 'unknown', 0, [20], ['critical', 1]]]);
  });

  it('sends an evicted device as a removal, and not as a change', () => {
    registry = new DeviceRegistryService({ MAX_DEVICES: 2, DEVICE_IDLE_EVICT_MS: 1000 });
    sut = new FleetSummaryModel(registry);
    registry.onGone((id) => sut.remove(id));
    ingest('d1', { a: 1 }, T0);
    ingest('d2', { a: 1 }, T0);
    sut.takeDelta(T0);
    ingest('d1', { a: 2 }, T0 + 500);
    ingest('d3', { a: 3 }, T0 + 5000); // d1 and d2 idle: the oldest goes
    const delta = sut.takeDelta(T0 + 5000);
    expect(delta?.removed.map((r) => r.id)).toEqual(['d1']);
    expect(delta?.changed.map((d) => d[DS.id])).toEqual(['d3']);
    expect(sut.snapshot(null).devices.map((d) => d[DS.id])).toEqual(['d2', 'd3']);
  });

  it('bounds the metrics per device and the metric table', () => {
    const values: Record<string, number> = {};
    for (let i = 0; i < LIMITS.maxMetricsPerReading + 10; i++) values[`m${i}`] = i;
    ingest('d1', values);
    expect(sut.snapshot(null).devices[0][DS.values]).toHaveLength(LIMITS.maxMetricsPerReading);
    for (let d = 0; d < 10; d++) {
      const more: Record<string, number> = {};
      for (let i = 0; i < 40; i++) more[`x${d}_${i}`] = i;
      ingest(`e${d}`, more);
    }
    sut.takeDelta(T0); // the push: the shared snapshot is rebuilt after it
    expect(sut.snapshot(null).metrics).toHaveLength(LIMITS.maxSummaryMetrics);
    expect(sut.droppedMetrics).toBeGreaterThan(0);
  });

  it('shares one unscoped snapshot until the next push, which carries what changed since', () => {
    ingest('d1', { a: 1 });
    const first = sut.snapshot(null, T0);
    ingest('d1', { a: 2 });
    expect(sut.snapshot(null, T0 + 10)).toBe(first);
    expect(delta(T0 + 1000).changed).toEqual([['d1', null, null, 'unknown', 1000, [2]]]);
    expect(sut.snapshot(null, T0 + 1000).devices[0][DS.values]).toEqual([2]);
  });

  it('gives a scoped client its groups only, and a removal when a device leaves them', () => {
    registry.applyMeta('d1', { group: 'g1' }, T0);
    registry.applyMeta('d2', { group: 'g2' }, T0);
    ingest('d1', { a: 1 });
    ingest('d2', { a: 1 });
    expect(sut.snapshot(['g1']).devices.map((d) => d[DS.id])).toEqual(['d1']);
    const first = delta(T0);
    expect(scopedEvent(first, ['g1']).changed.map((d) => d[DS.id])).toEqual(['d1']);
    expect(scopedEvent(first, null).changed.map((d) => d[DS.id])).toEqual(['d1', 'd2']);
    registry.applyMeta('d1', { group: 'g2' }, T0);
    sut.applyDevice('d1');
    const moved = scopedEvent(delta(T0), ['g1']);
    expect(moved).toMatchObject({ changed: [], removed: ['d1'] });
  });

  it("names a scoped client's metrics only as its devices come to have values for them", () => {
    registry.applyMeta('d1', { group: 'g1' }, T0);
    registry.applyMeta('d2', { group: 'g2' }, T0);
    ingest('d1', { temp: 20 });
    ingest('d2', { temp: 21, co2: 400 });
    const snapshot = sut.snapshot(['g1']);
    expect(snapshot.metrics).toEqual(['temp', '']); // indices stay the fleet's
    expect(sut.snapshot(null).metrics).toEqual(['temp', 'co2']);
    const shown = shownIn(snapshot.metrics);
    delta(T0);
    // The fleet's table grows with a g2 metric: not a name for g1.
    ingest('d2', { lux: 5 });
    const grown = delta(T0 + 1000);
    expect(scopedEvent(grown, null).metrics).toEqual(['temp', 'co2', 'lux']);
    expect(scopedEvent(grown, ['g1'], shown).metrics).toBeUndefined();
    ingest('d1', { temp: 22 });
    const same = scopedEvent(delta(T0 + 2000), ['g1'], shown);
    expect(same.metrics).toBeUndefined();
    // d1 comes to report lux and co2: both named, at the fleet's indices, once.
    ingest('d1', { lux: 7, co2: 390 });
    const named = scopedEvent(delta(T0 + 3000), ['g1'], shown);
    expect(named.metrics).toEqual(['temp', 'co2', 'lux']);
    expect(named.changed[0][DS.values]).toEqual([22, 390, 7]);
    ingest('d1', { lux: 8 });
    expect(scopedEvent(delta(T0 + 4000), ['g1'], shown).metrics).toBeUndefined();
  });

  it('sends the snapshot of 10,000 mixed devices well under 1 MB, decoding to the same summary', () => {
    // Like the simulator's fleet: half environment sensors, a quarter power meters, a quarter
    // machines, each kind with its own metrics, named "<kind> <number> · <hall>".
    const kinds = [
      { label: 'Env sensor', metrics: ['temperature', 'humidity', 'pressure', 'co2'] },
      { label: 'Env sensor', metrics: ['temperature', 'humidity', 'pressure', 'co2'] },
      { label: 'Power meter', metrics: ['power', 'voltage', 'current', 'energy'] },
      { label: 'Machine', metrics: ['temperature', 'power', 'vibration'] },
    ];
    const groups = ['hall-a', 'hall-b', 'lab', 'office'];
    for (let i = 0; i < 10_000; i++) {
      const n = String(i + 1).padStart(5, '0');
      const id = `sim-${n}`;
      const kind = kinds[(i * 7) % 4];
      const group = groups[(i * 3 + (i >> 2)) % 4];
      registry.applyMeta(id, { name: `${kind.label} ${n} · ${group}`, group }, T0);
      registry.applyStatus(id, i % 10 === 0 ? 'offline' : 'online', T0);
      const values: Record<string, number> = {};
      // Full doubles, as real sensors and the simulator send them.
      kind.metrics.forEach((m, k) => (values[m] = (k + 1) * 100 * (1 + Math.sin(i + k) / 7)));
      ingest(id, values, T0 + (i % 1000));
      if (i % 20 === 0) sut.applyAlert(alert(id, `a${i}`, 'major'));
    }
    const readable = sut.snapshot(null, T0 + 1000);
    expect(readable.devices).toHaveLength(10_000);
    const wire = sut.wireSnapshot(null, T0 + 1000);
    // As the socket carries it: names outside ASCII escaped (live/ascii-json.ts).
    const bytes = Buffer.byteLength(asciiJson(JSON.stringify(wire)));
    const before = Buffer.byteLength(JSON.stringify(readable));
    console.log(
      `fleet summary of 10,000 mixed devices: ${bytes} bytes on the wire (${before} readable)`,
    );
    // 593 kB in decision 0023; the escapes of decision 0038 add ~8 % (a "·" in each name).
    expect(bytes).toBeLessThan(750_000);
    // Nothing lost: the wire form reads back to the same devices (in name order).
    const decoded = decodeFleetSummary(JSON.parse(JSON.stringify(wire)));
    const byId = (a: DeviceSummary, b: DeviceSummary) => (a[DS.id] < b[DS.id] ? -1 : 1);
    expect(decoded?.devices.sort(byId)).toEqual(readable.devices.slice().sort(byId));
    // Shared until the next push, like the readable snapshot.
    expect(sut.wireSnapshot(null)).toBe(wire);
  });
});

describe('summary values', () => {
  it.each([
    [21.48392093112, 21.4839],
    [0.000123456789, 0.000123457],
    [1013.2500000001, 1013.25],
    [-4.99999999, -5],
    [1234567.89, 1234570],
    [412, 412],
    [0, 0],
  ])('rounds %p to six significant digits: %p', (value, expected) => {
    expect(significant(value)).toBe(expected);
    expect(JSON.stringify(significant(value))).toBe(JSON.stringify(expected));
  });
});

describe('pageOf (GET /api/fleet/summary)', () => {
  const summary: FleetSummary = {
    at: T0,
    metrics: ['temperature'],
    devices: [
      ['b', 'Zeta pump', null, 'online', 50, [30]],
      ['a', null, null, 'offline', 5000, [], ['minor', 1]],
      ['c', 'Alpha boiler', null, 'online', 10, [20], ['critical', 1]],
    ],
  };
  const ids = (q: Parameters<typeof pageOf>[1]) => pageOf(summary, q).devices.map((d) => d[DS.id]);

  it('sorts by name (the id when none), last seen, severity and a metric, missing values last', () => {
    expect(ids({})).toEqual(['a', 'c', 'b']);
    expect(ids({ sort: 'lastSeen' })).toEqual(['c', 'b', 'a']);
    expect(ids({ sort: 'severity' })).toEqual(['c', 'a', 'b']);
    expect(ids({ sort: 'metric:temperature' })).toEqual(['b', 'c', 'a']);
    expect(ids({ sort: 'metric:temperature', order: 'asc' })).toEqual(['c', 'b', 'a']);
  });

  it('searches ids and names, and pages with the total matched', () => {
    expect(ids({ q: 'BOIL' })).toEqual(['c']);
    const page = pageOf(summary, { offset: 1, limit: 1 });
    expect(page.total).toBe(3);
    expect(page.fleet).toBe(3);
    expect(page.devices.map((d) => d[DS.id])).toEqual(['c']);
  });

  describe('groups', () => {
    const grouped: FleetSummary = {
      at: T0,
      metrics: ['temperature'],
      devices: [
        ['p1', 'Pump 1', 'plant', 'online', 50, [30]],
        ['h2', 'Boiler 2', 'hall', 'online', 10, [25]],
        ['x', 'Loose probe', null, 'online', 10, [99]],
        ['h1', 'Boiler 1', 'hall', 'online', 10, [20]],
        ['p2', 'Pump 2', 'plant', 'offline', 900, [10]],
      ],
    };
    const page = (q: Parameters<typeof pageOf>[1]) => pageOf(grouped, q);
    const idsOf = (q: Parameters<typeof pageOf>[1]) => page(q).devices.map((d) => d[DS.id]);

    it('lists every group by name with its matches, devices without a group last', () => {
      expect(page({}).groups).toEqual([
        { name: 'hall', count: 2 },
        { name: 'plant', count: 2 },
        { name: null, count: 1 },
      ]);
      // Groups without a match stay listed (the group menu), with 0.
      expect(page({ q: 'pump' }).groups).toEqual([
        { name: 'hall', count: 0 },
        { name: 'plant', count: 2 },
        { name: null, count: 0 },
      ]);
      expect(page({ q: 'pump' }).fleet).toBe(5);
    });

    it('orders groups as people read them, whatever their case', () => {
      const mixed: FleetSummary = {
        at: T0,
        metrics: [],
        devices: [
          ['z', null, 'Zeta', 'online', 0, []],
          ['a', null, 'alpha', 'online', 0, []],
        ],
      };
      expect(pageOf(mixed, {}).groups.map((g) => g.name)).toEqual(['alpha', 'Zeta']);
      expect(pageOf(mixed, { grouped: true }).devices.map((d) => d[DS.id])).toEqual(['a', 'z']);
    });

    it('filters by one group and searches the group too', () => {
      expect(idsOf({ group: 'hall' })).toEqual(['h1', 'h2']);
      expect(page({ group: 'hall' }).total).toBe(2);
      expect(idsOf({ q: 'PLANT' })).toEqual(['p1', 'p2']);
    });

    it('orders by group first when grouped, then by the sort, paging across groups', () => {
      expect(idsOf({ grouped: true })).toEqual(['h1', 'h2', 'p1', 'p2', 'x']);
      expect(idsOf({ grouped: true, sort: 'metric:temperature' })).toEqual([
        'h2',
        'h1',
        'p1',
        'p2',
        'x',
      ]);
      expect(idsOf({ grouped: true, offset: 1, limit: 2 })).toEqual(['h2', 'p1']);
      // Not grouped, the sort alone.
      expect(idsOf({ sort: 'metric:temperature' })).toEqual(['x', 'p1', 'h2', 'h1', 'p2']);
    });

    it('lists at most LIMITS.maxSummaryGroups groups and says so', () => {
      const many: FleetSummary = {
        at: T0,
        metrics: [],
        devices: Array.from(
          { length: LIMITS.maxSummaryGroups + 1 },
          (_, i): DeviceSummary => [
            `d${i}`,
            null,
            `g${String(i).padStart(5, '0')}`,
            'online',
            0,
            [],
          ],
        ),
      };
      const result = pageOf(many, { limit: 1 });
      expect(result.groups).toHaveLength(LIMITS.maxSummaryGroups);
      expect(result.groupsTruncated).toBe(true);
      expect(result.groups[0]).toEqual({ name: 'g00000', count: 1 });
      expect(page({}).groupsTruncated).toBeUndefined();
    });

    it('gives the same order for the same snapshot and query, whatever the page', () => {
      const first = page({ sort: 'lastSeen', grouped: true, limit: 2 });
      const second = page({ sort: 'lastSeen', grouped: true, offset: 2 });
      expect([...first.devices, ...second.devices].map((d) => d[DS.id])).toEqual(
        idsOf({ sort: 'lastSeen', grouped: true }),
      );
    });
  });
});

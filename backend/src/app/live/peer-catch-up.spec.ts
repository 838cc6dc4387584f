import { Reading } from '@pulse/protocol';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService, storeLagMs } from '../history/history.service';
import { CATCH_UP_BUDGET_PER_S, CATCH_UP_MAX_READINGS, PeerCatchUp } from './peer-catch-up';
import { INTEREST_REPEAT_MS } from './room-interest';

// Real window and registry of one gateway of several (shared ingest); the clock is frozen.
describe('PeerCatchUp', () => {
  const config = {
    HISTORY_WINDOW_MS: 3_600_000,
    HISTORY_MAX_POINTS: 100_000,
    HISTORY_FLUSH_MS: 500,
    REDIS_URL: 'redis://127.0.0.1:6379',
    MQTT_URL: 'mqtt://127.0.0.1',
  };
  const T = 1_800_000_000_000;
  const span = storeLagMs(config) + INTEREST_REPEAT_MS + 1_000;
  let history: HistoryService;
  let registry: DeviceRegistryService;
  let sut: PeerCatchUp;

  beforeEach(() => {
    jest.useFakeTimers({ now: T });
    history = new HistoryService(config);
    registry = new DeviceRegistryService({ MAX_DEVICES: 20_000 });
    sut = new PeerCatchUp(config, history, registry);
  });
  afterEach(() => jest.useRealTimers());

  /** Readings of `deviceId` a second apart over the last 10 s, ingested here. */
  function ingested(deviceId: string, group?: string): number[] {
    const times: number[] = [];
    if (group) registry.applyMeta(deviceId, { group }, T - 20_000);
    for (let ts = T - 10_000; ts <= T; ts += 1000) {
      jest.setSystemTime(ts); // received as read
      const readings: Reading[] = [{ deviceId, ts, values: { t: ts % 13, h: 40 } }];
      registry.applyReadings(deviceId, readings, ts);
      history.record(deviceId, readings);
      times.push(ts);
    }
    jest.setSystemTime(T);
    return times;
  }
  const recent = (times: number[]) => times.filter((ts) => ts >= T - span);

  it("sends a device room's readings of the last span, metrics together, in order", () => {
    const times = ingested('d1');
    ingested('d2');
    const out = sut.catchUp('device:d1');
    expect(out.map((r) => r.ts)).toEqual(recent(times));
    expect(out.every((r) => r.deviceId === 'd1' && 't' in r.values && r.values['h'] === 40)).toBe(
      true,
    );
    expect(sut.catchUp('device:nobody')).toEqual([]);
  });

  it("covers a group's devices, the fleet's, and what came in lately with an older ts", () => {
    ingested('d1', 'hall');
    ingested('d2', 'hall');
    ingested('d3', 'yard');
    const late: Reading = { deviceId: 'd3', ts: T - 60_000, values: { t: 1 } };
    history.record('d3', [late]); // received now
    expect(new Set(sut.catchUp('group:hall').map((r) => r.deviceId))).toEqual(
      new Set(['d1', 'd2']),
    );
    const fleet = sut.catchUp('fleet');
    expect(new Set(fleet.map((r) => r.deviceId))).toEqual(new Set(['d1', 'd2', 'd3']));
    // Every device's span first, then what came in lately from before it (the late one too).
    expect(fleet).toContainEqual(late);
    const firstOlder = fleet.findIndex((r) => r.ts < T - span);
    expect(fleet.slice(0, firstOlder).every((r) => r.ts >= T - span)).toBe(true);
    expect(fleet.slice(firstOlder).every((r) => r.ts < T - span && r.deviceId === 'd3')).toBe(true);
  });

  it('sends at most CATCH_UP_MAX_READINGS, counts a catch-up cut there, and skips over the budget', () => {
    for (let i = 0; i < 3000; i++) ingested(`d${i}`);
    const out = sut.catchUp('fleet');
    expect(out).toHaveLength(CATCH_UP_MAX_READINGS);
    // Whole devices: the last one is cut to its newest, none after it.
    expect(new Set(out.map((r) => r.deviceId)).size).toBe(
      Math.ceil(CATCH_UP_MAX_READINGS / recent(ingested('x')).length),
    );
    expect(sut.stats()).toMatchObject({ capped: 1, skipped: 0 });
    expect(sut.catchUp('device:d1')).toHaveLength(recent(ingested('x')).length);
    expect(sut.stats()).toMatchObject({ capped: 1, skipped: 0 });
    // The same second: fleet catch-ups (5,000 readings and 3,000 devices each) until the budget
    // is spent, then none; the next second again.
    let answered = 0;
    while (sut.catchUp('fleet').length > 0) answered++;
    expect(answered).toBeLessThanOrEqual(Math.ceil(CATCH_UP_BUDGET_PER_S / 8_000));
    expect(sut.stats().skipped).toBe(1);
    jest.setSystemTime(T + 1000);
    expect(sut.catchUp('device:d1').length).toBeGreaterThan(0);
  });

  it("keeps a peer's relayed readings in the window, for devices this gateway knows only", () => {
    ingested('d1');
    const batch: Reading[] = [
      { deviceId: 'd1', ts: T + 500, values: { t: 5 } },
      { deviceId: 'd1', ts: T + 600, values: { t: 6 } },
      { deviceId: 'stranger', ts: T + 500, values: { t: 1 } },
    ];
    sut.remember(batch);
    expect(history.query('d1', T + 1)[0].t).toEqual([T + 500, T + 600]);
    expect(history.query('stranger')).toEqual([]);
    expect(sut.stats().remembered).toBe(2);
  });
});

import { Reading } from '@pulse/protocol';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService, storeLagMs } from '../history/history.service';
import { CATCH_UP_MAX_READINGS, PeerCatchUp } from './peer-catch-up';

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
  const span = storeLagMs(config) + 1_000;
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
    expect(fleet.filter((r) => r.deviceId === 'd3')[0].ts).toBe(late.ts);
  });

  it('sends at most CATCH_UP_MAX_READINGS and counts a catch-up cut there', () => {
    for (let i = 0; i < 3000; i++) ingested(`d${i}`);
    const out = sut.catchUp('fleet');
    expect(out).toHaveLength(CATCH_UP_MAX_READINGS);
    expect(sut.stats()).toMatchObject({ catchUps: 1, readings: CATCH_UP_MAX_READINGS, capped: 1 });
    sut.catchUp('device:d1');
    expect(sut.stats()).toMatchObject({ catchUps: 2, capped: 1 });
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

import { FLEET_ROOM, Reading } from '@pulse/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { SqliteDeviceStore } from '../devices/sqlite-device.store';
import { Database } from '../store/database';
import { HistoryService } from '../history/history.service';
import { HISTORY_DATABASE_FILE, SqliteHistoryStore } from '../history/sqlite-history.store';
import type { MembershipListener } from '../ownership/device-ownership.service';
import {
  LostPeerRefill,
  REFILL_MAX_ROWS,
  REFILL_MAX_SERIES,
  REFILL_SILENT_MS,
} from './lost-peer-refill';
import { storeLagMs } from '../history/history.service';

// A real window, registry and SQLite store (the shared store of several gateways); the hub and
// the rooms are recorded. "Here" ingested even seconds, the departed peer odd ones and stored them.
describe('LostPeerRefill', () => {
  const config = {
    HISTORY_WINDOW_MS: 3_600_000,
    HISTORY_MAX_POINTS: 100_000,
    HISTORY_FLUSH_MS: 500,
    REDIS_URL: 'redis://127.0.0.1:6379',
    MQTT_URL: 'mqtt://127.0.0.1',
  };
  let dir: string;
  let store: SqliteHistoryStore;
  let history: HistoryService;
  let registry: DeviceRegistryService;
  let rooms: string[];
  let published: { deviceId: string; group: string | undefined; readings: Reading[] }[];
  let listener: MembershipListener | null;
  let departures: number[];
  let sut: LostPeerRefill;
  const now = Date.now();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-refill-'));
    store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await store.open();
    history = new HistoryService(config);
    registry = new DeviceRegistryService({ MAX_DEVICES: 20_000 });
    rooms = [];
    published = [];
    listener = null;
    departures = [];
    sut = new LostPeerRefill(
      config,
      history,
      registry,
      { readingsRooms: () => rooms },
      {
        publishLocal: (deviceId, group, readings) =>
          published.push({ deviceId, group, readings: [...readings] }),
      },
      { enabled: true, self: 'gw-a', onChange: (l) => (listener = l) },
      store,
      { peerDeparted: (at) => departures.push(at) },
    );
    sut.onModuleInit();
  });
  afterEach(async () => {
    sut.onModuleDestroy();
    jest.useRealTimers();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `deviceId`'s last 8 s: even seconds ingested here (window), odd ones by the peer (store). */
  async function shared(deviceId: string, group?: string): Promise<number[]> {
    if (group) registry.applyMeta(deviceId, { group }, now - 20_000);
    const peer = {
      deviceIds: [] as string[],
      metrics: [] as string[],
      ts: [] as number[],
      values: [] as number[],
    };
    const times: number[] = [];
    for (let i = 8; i >= 1; i--) {
      const ts = now - i * 1000;
      times.push(ts);
      if (i % 2 === 0) {
        const readings: Reading[] = [{ deviceId, ts, values: { t: i, h: 40 } }];
        registry.applyReadings(deviceId, readings, ts);
        history.record(deviceId, readings);
      } else
        for (const [metric, value] of [
          ['t', i],
          ['h', 40],
        ] as const) {
          peer.deviceIds.push(deviceId);
          peer.metrics.push(metric);
          peer.ts.push(ts);
          peer.values.push(value);
        }
    }
    await store.write(peer);
    return times;
  }
  /** The peer's share of `times` (odd seconds back: the second entry, the fourth, …). */
  const peerShare = (times: number[]) => times.filter((_, k) => k % 2 === 1);
  const depart = () => sut.departed(['gw-b'], Date.now());

  it("hands the screens of a watched device the peer's stored share the window lacked, and keeps it", async () => {
    const times = await shared('d1', 'hall');
    await shared('d2');
    rooms = ['device:d1'];
    await depart();

    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ deviceId: 'd1', group: 'hall' });
    expect(published[0].readings.map((r) => r.ts)).toEqual(peerShare(times));
    expect(published[0].readings[0].values).toEqual({ t: 7, h: 40 });
    const [t] = history.query('d1', -Infinity, Infinity, Infinity, ['t']);
    expect(t.t).toEqual(times); // whole in the window now
    expect(sut.stats()).toMatchObject({ lostPeers: 1, lostPeerReadings: 4, lostPeerCapped: 0 });
  });

  it('covers the devices of watched groups and of the fleet, each once, and nothing unwatched', async () => {
    await shared('d1', 'hall');
    await shared('d2', 'hall');
    await shared('d3', 'yard');
    rooms = ['group:hall', 'device:d1'];
    await depart();
    expect(published.map((p) => p.deviceId).sort()).toEqual(['d1', 'd2']);

    published = [];
    rooms = [FLEET_ROOM, 'group:hall'];
    await depart();
    // d1 and d2 hold their share now: only the yard's device was lacking.
    expect(published.map((p) => p.deviceId)).toEqual(['d3']);
  });

  it('refills when a peer departs, not when one joins or this gateway itself leaves, and hands nothing twice', async () => {
    await shared('d1');
    rooms = ['device:d1'];
    listener?.(['gw-a'], ['gw-a', 'gw-b']);
    listener?.(['gw-a', 'gw-b'], ['gw-b']);
    await sut.settled();
    expect(published).toEqual([]);
    listener?.(['gw-a', 'gw-b'], ['gw-a']);
    await sut.settled();
    expect(published).toHaveLength(1);
    await depart();
    expect(published).toHaveLength(1);
    expect(sut.stats().lostPeers).toBe(2);
    expect(departures).toHaveLength(2); // the reader told at each, for charts opened later
  });

  /** Rows of one series `deviceId`/`metric` at `times`, as the peer stored them. */
  const storedByPeer = (deviceId: string, metric: string, times: number[]) =>
    store.write({
      deviceIds: times.map(() => deviceId),
      metrics: times.map(() => metric),
      ts: times,
      values: times.map((_, i) => i),
    });

  it('reads at most REFILL_MAX_SERIES series for one departure (a look-up in the store is one), and counts the cut', async () => {
    const many = REFILL_MAX_SERIES; // none in the window: a look-up and two metrics each
    const batch = {
      deviceIds: [] as string[],
      metrics: [] as string[],
      ts: [] as number[],
      values: [] as number[],
    };
    for (let d = 0; d < many; d++) {
      registry.applyReadings(
        `m${d}`,
        [{ deviceId: `m${d}`, ts: now - 1000, values: { t: d } }],
        now - 1000,
      );
      for (const metric of ['t', 'h']) {
        batch.deviceIds.push(`m${d}`);
        batch.metrics.push(metric);
        batch.ts.push(now - 1000);
        batch.values.push(d);
      }
    }
    await store.write(batch);
    rooms = Array.from({ length: many }, (_, d) => `device:m${d}`);
    await depart();
    expect(published).toHaveLength(Math.ceil(REFILL_MAX_SERIES / 3));
    expect(sut.stats()).toMatchObject({
      lostPeerCapped: 1,
      lostPeerReadings: Math.ceil(REFILL_MAX_SERIES / 3),
    });
  });

  it('keeps the newest REFILL_MAX_ROWS of a series, not the oldest', async () => {
    history.record('busy', [{ deviceId: 'busy', ts: now - 9_000, values: { t: 0 } }]);
    const times = Array.from({ length: REFILL_MAX_ROWS + 500 }, (_, i) => now - 8_000 + i);
    await storedByPeer('busy', 't', times);
    rooms = ['device:busy'];
    await depart();
    expect(published[0].readings.map((r) => r.ts)).toEqual(times.slice(-REFILL_MAX_ROWS));
    expect(sut.stats().lostPeerCapped).toBe(1);
  });

  it('leaves out devices this gateway has not heard of for REFILL_SILENT_MS', async () => {
    const at = Date.now();
    const span = at - 10_000; // well inside the departure's span
    const long = span - REFILL_SILENT_MS - 60_000;
    history.record('quiet', [{ deviceId: 'quiet', ts: long, values: { t: 1 } }]);
    history.record('slow', [{ deviceId: 'slow', ts: span - 120_000, values: { t: 1 } }]);
    await storedByPeer('quiet', 't', [at - 1000]);
    await storedByPeer('slow', 't', [at - 1000]);
    await storedByPeer('unknown', 't', [at - 1000]); // in no window, no registry
    rooms = ['device:quiet', 'device:slow', 'device:unknown'];
    await sut.departed(['gw-b'], at);
    expect(published.map((p) => p.deviceId)).toEqual(['slow']);
  });

  it('judges a device known only from the departed peer’s shares by when its shares reached this gateway, not by that peer’s clock', async () => {
    const at = Date.now();
    // The peer's clock 11 minutes behind: its shares say last seen then, they arrived just now.
    const behind = at - REFILL_SILENT_MS - 60_000;
    registry.applyShared('shared-only', behind, behind, ['t'], at - 2_000);
    await storedByPeer('shared-only', 't', [at - 1000]);
    rooms = ['device:shared-only'];
    await sut.departed(['gw-b'], at);
    expect(published.map((p) => p.deviceId)).toEqual(['shared-only']);
  });

  it('takes a device restored at boot and not heard since by its stored last seen (a restart just before a departure)', async () => {
    const at = Date.now();
    // This gateway heard the device 2 min ago, then restarted: restored from its store.
    const database = new Database({ DATA_DIR: dir });
    const before = new DeviceRegistryService({ MAX_DEVICES: 10 }, new SqliteDeviceStore(database));
    await before.ready();
    before.applyReadings(
      'restored',
      [{ deviceId: 'restored', ts: at - 120_000, values: { t: 1 } }],
      at - 120_000,
    );
    await before.flush();
    const restarted = new DeviceRegistryService(
      { MAX_DEVICES: 10 },
      new SqliteDeviceStore(database),
    );
    await restarted.ready();
    expect(restarted.heardAt('restored')).toBe(-Infinity);
    const refill = new LostPeerRefill(
      config,
      history,
      restarted,
      { readingsRooms: () => ['device:restored'] },
      {
        publishLocal: (deviceId, group, readings) =>
          published.push({ deviceId, group, readings: [...readings] }),
      },
      { enabled: true, self: 'gw-a', onChange: () => undefined },
      store,
      { peerDeparted: () => undefined },
    );
    await storedByPeer('restored', 't', [at - 1000]);
    await refill.departed(['gw-b'], at);
    database.onApplicationShutdown();
    expect(published.map((p) => p.deviceId)).toEqual(['restored']);
  });

  it('passes over the span again a store lag later: what the peer stored late (a clean leave) comes then', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date'] });
    const times = await shared('d1');
    rooms = ['device:d1'];
    await depart();
    expect(published).toHaveLength(1);
    // Its writer's last flush lands after it gave its lease back.
    const late = Date.now() - 200;
    await storedByPeer('d1', 't', [late]);
    jest.advanceTimersByTime(storeLagMs(config) + 1_000);
    await sut.settled();
    expect(published).toHaveLength(2);
    expect(published[1].readings.map((r) => r.ts)).toEqual([late]);
    expect(times).not.toContain(late);
  });
});

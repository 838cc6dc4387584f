import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricSeries } from '@pulse/protocol';
import { HistoryReader } from './history-reader.service';
import { HistoryStore } from './history-store';
import { HistoryService } from './history.service';
import { MAX_SHARED_POINTS, SharedReads } from './shared-reads';
import { HISTORY_DATABASE_FILE, SqliteHistoryStore } from './sqlite-history.store';

// A gateway just restarted: its store holds the last 20 minutes, its window only what came
// since. Real SQLite store in a temp dir; the clock is frozen so the asks fall in one second.
describe('HistoryReader after a restart (shared store reads)', () => {
  const config = {
    HISTORY_WINDOW_MS: 3_600_000,
    HISTORY_MAX_POINTS: 7200,
    RETENTION_RAW: 7 * 86_400_000,
    RETENTION_1M: 30 * 86_400_000,
    RETENTION_1H: 365 * 86_400_000,
  };
  const devices = ['d1', 'd2', 'd3'];
  /** Mid-second, so every ask below falls in the same one. */
  const T = 1_800_000_000_100;
  let dir: string;
  let store: SqliteHistoryStore;
  let calls: string[];
  let counted: HistoryStore;

  beforeEach(async () => {
    jest.useFakeTimers({
      now: T - 5000,
      doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'clearTimeout', 'queueMicrotask'],
    });
    dir = mkdtempSync(join(tmpdir(), 'pulse-reader-'));
    store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await store.open();
    // Stored by the run before: a point every 10 s for 20 min, up to 10 s before the restart.
    const batch = {
      deviceIds: [] as string[],
      metrics: [] as string[],
      ts: [] as number[],
      values: [] as number[],
    };
    for (const deviceId of devices)
      for (const metric of ['humidity', 'temp'])
        for (let ts = T - 5000 - 1_200_000; ts < T - 15_000; ts += 10_000) {
          batch.deviceIds.push(deviceId);
          batch.metrics.push(metric);
          batch.ts.push(ts);
          batch.values.push(ts % 97);
        }
    await store.write(batch);
    calls = [];
    counted = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (
          typeof value !== 'function' ||
          !/^(readRaw|readRollup|readRollupGroups|metricsOf)$/.test(String(prop))
        )
          return value;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return value.apply(target, args);
        };
      },
    });
  });
  afterEach(async () => {
    jest.useRealTimers();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A gateway started at T - 5 s that has since received a reading a second per series. */
  const restarted = (withStore: HistoryStore) => {
    const recent = new HistoryService(config);
    const reader = new HistoryReader(config, recent, withStore);
    for (const deviceId of devices)
      for (let ts = T - 4000; ts <= T; ts += 1000)
        recent.record(deviceId, [{ deviceId, ts, values: { temp: ts % 89, humidity: ts % 83 } }]);
    return reader;
  };
  /** A screen reconnecting: the fleet's last hour, 60 points per series, like the dashboard. */
  const ask = (reader: HistoryReader, from: number) =>
    Promise.all(devices.map((d) => reader.query(d, from, Infinity, 60, undefined, 'spread')));

  it('makes the store reads of one ask once for a storm of asks within a second, each answer exact', async () => {
    jest.setSystemTime(T);
    // What one screen costs and gets alone (its own reader: nothing to share).
    const single = restarted(counted);
    const alone = await ask(single, T - 3_600_000);
    const perAsk = calls.length;
    const readsPerAsk = single.sharedReads().made; // metric names + one downsample per series
    expect(readsPerAsk).toBe(devices.length * 3);
    expect(alone.flat()).toHaveLength(devices.length * 2);

    calls = [];
    const reader = restarted(counted);
    // 200 screens within the same second, each with its own window start (its own clock).
    const starts = Array.from({ length: 200 }, (_, i) => T - 3_600_000 - 100 + i * 4);
    const answers = await Promise.all(starts.map((from) => ask(reader, from)));
    expect(calls).toHaveLength(perAsk);
    expect(reader.sharedReads()).toEqual({
      made: readsPerAsk,
      shared: 199 * readsPerAsk,
      failed: 0,
    });
    // Each answer is what that screen would get with nothing shared.
    for (const i of [0, 77, 199]) {
      const own = await ask(restarted(store), starts[i]);
      expect(answers[i]).toEqual(own);
    }
    expect(answers[199]).toEqual(alone);
  });

  it('shares among asks whose first store answer came back in a later second (a slow store)', async () => {
    const reader = restarted(counted);
    const asks: Promise<MetricSeries[][]>[] = [];
    // Five seconds of screens arriving while the store has not answered any of them yet.
    for (let second = 0; second < 5; second++) {
      jest.setSystemTime(T + second * 1000);
      for (let i = 0; i < 20; i++) asks.push(ask(reader, T - 3_600_000 + second * 1000));
    }
    const answers = await Promise.all(asks);
    // Metric names once per second they were asked in, then the series once: all are read now.
    const seriesReads = devices.length * 2;
    expect(reader.sharedReads().made).toBeLessThanOrEqual(5 * devices.length + 5 * seriesReads);
    expect(reader.sharedReads().made).toBeLessThan(asks.length);
    const own = await ask(restarted(store), T - 3_600_000 + 4000);
    expect(answers.at(-1)).toEqual(own);
  });

  it('never answers a point older than the ask, though the shared read starts at its second', async () => {
    jest.setSystemTime(T);
    const reader = restarted(counted);
    const stored = T - 5000 - 1_200_000; // the oldest stored point
    const [early] = await ask(reader, stored - 50);
    const made = calls.length;
    const [late] = await ask(reader, stored + 1); // same second, after that point
    expect(calls).toHaveLength(made); // answered from the first ask's reads
    const first = (series: MetricSeries[]) => Math.min(...series.map((s) => s.t[0]));
    expect(first(early)).toBe(stored);
    expect(first(late)).toBeGreaterThan(stored);
    expect(late.every((s) => s.t.every((t) => t >= stored + 1))).toBe(true);
  });

  it('reads again in the next second, so an answer is never older than a second', async () => {
    jest.setSystemTime(T);
    const reader = restarted(counted);
    await ask(reader, T - 3_600_000);
    const first = calls.length;
    jest.setSystemTime(T + 1000);
    await ask(reader, T - 3_600_000);
    expect(calls).toHaveLength(2 * first);
  });

  it('answers pick=latest over a range reaching the store with the newest readings, stored and recent', async () => {
    jest.setSystemTime(T);
    const reader = restarted(counted);
    const every = async () => {
      const stored = await store.readRaw('d1', 'temp', 0, T, 100_000);
      return [...stored.ts, ...[4000, 3000, 2000, 1000, 0].map((ago) => T - ago)];
    };
    const [series] = await reader.query('d1', T - 3_600_000, Infinity, 20, ['temp'], 'latest');
    // The last 20 readings: 15 from the store, then the window's 5 (before: 20 spread over the hour).
    expect(series.t).toEqual((await every()).slice(-20));
    expect(series.v.slice(-1)).toEqual([T % 89]);
    // Fewer than asked in the whole range: all of them.
    const [all] = await reader.query('d1', T - 3_600_000, Infinity, 1000, ['temp'], 'latest');
    expect(all.t).toEqual(await every());
  });

  it('reads no stored readings for pick=latest when the window holds enough', async () => {
    jest.setSystemTime(T);
    const reader = restarted(counted);
    calls = [];
    const [series] = await reader.query('d1', T - 3_600_000, Infinity, 3, ['temp'], 'latest');
    expect(series.t).toEqual([T - 2000, T - 1000, T]);
    expect(calls.filter((c) => c === 'readRaw')).toEqual([]);
  });
});

describe('SharedReads', () => {
  it('keeps no result past MAX_SHARED_POINTS, and no failed read', async () => {
    const shared = new SharedReads();
    let made = 0;
    const big = () => {
      made++;
      return Promise.resolve(MAX_SHARED_POINTS + 1);
    };
    await shared.share(5000, 'big', big, (n) => n);
    await shared.share(5000, 'big', big, (n) => n);
    expect(made).toBe(2);
    const failing = () => {
      made++;
      return Promise.reject(new Error('store gone'));
    };
    await expect(shared.share(5000, 'bad', failing, () => 0)).rejects.toThrow('store gone');
    await expect(shared.share(5000, 'bad', failing, () => 0)).rejects.toThrow('store gone');
    expect(made).toBe(4);
    // While in flight, an identical ask shares even a read too big to keep.
    const a = shared.share(5000, 'big', big, (n) => n);
    const b = shared.share(5000, 'big', big, (n) => n);
    expect(await a).toBe(await b);
    expect(made).toBe(5);
  });

  it('does not share with an ask whose second is over', async () => {
    const shared = new SharedReads();
    let made = 0;
    const read = () => Promise.resolve(++made);
    expect(await shared.share(2500, 'k', read, () => 1)).toBe(1);
    expect(await shared.share(2999, 'k', read, () => 1)).toBe(1);
    expect(await shared.share(3000, 'k', read, () => 1)).toBe(2);
    expect(await shared.share(2999, 'k', read, () => 1)).toBe(3); // late caller: its own read
    expect(await shared.share(3001, 'k', read, () => 1)).toBe(2);
  });
});

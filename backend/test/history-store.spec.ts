/**
 * The history store contract, one suite run against both adapters: the SQLite file (embedded
 * default) and a real PostgreSQL cluster started by the test on a free port (skipped with a
 * line only outside CI when PostgreSQL is not installed). Everything is real: no mocks.
 */
import { postgresAvailable, PostgresCluster, startPostgres } from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downsample } from '../src/app/history/history-buckets';
import type { HistoryStore, WriteBatch } from '../src/app/history/history-store';
import { PostgresHistoryStore } from '../src/app/history/postgres-history.store';
import { HISTORY_DATABASE_FILE, SqliteHistoryStore } from '../src/app/history/sqlite-history.store';
import { SqliteWorkerHistoryStore } from '../src/app/history/sqlite-worker-history.store';
import { Database, DATABASE_FILE } from '../src/app/store/database';
import { openPgPool } from '../src/app/store/pg-pool';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Adapter {
  /** A store on the same data as every earlier one of this adapter (a restart). */
  open(): Promise<HistoryStore>;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

/** The SQLite adapter in the calling thread, or (`thread`) in the worker the gateway runs it in. */
function sqlite(thread = false): Adapter {
  let dir = '';
  const databases: Database[] = [];
  return {
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'pulse-history-'));
    },
    async open() {
      const database = new Database({ DATA_DIR: dir });
      databases.push(database);
      const Store = thread ? SqliteWorkerHistoryStore : SqliteHistoryStore;
      const store = new Store(join(dir, HISTORY_DATABASE_FILE), {
        legacyFile: join(dir, DATABASE_FILE),
      });
      await store.open();
      return store;
    },
    async teardown() {
      for (const database of databases) database.onApplicationShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgres(): Adapter {
  let cluster: PostgresCluster | undefined;
  let url = '';
  return {
    async setup() {
      cluster = await startPostgres();
      url = cluster.createDatabase('pulse_history');
    },
    async open() {
      const store = new PostgresHistoryStore(openPgPool(url));
      await store.open();
      return store;
    },
    async teardown() {
      await cluster?.stop();
    },
  };
}

const adapters: [string, () => Adapter, boolean][] = [
  ['SQLite', () => sqlite(), true],
  ['SQLite in a worker thread', () => sqlite(true), true],
  ['PostgreSQL', postgres, postgresAvailable()],
];

/** `values[i]` of `deviceId`/`metric` at `ts[i]`. */
function batch(deviceId: string, metric: string, ts: number[], values: number[]): WriteBatch {
  return { deviceIds: ts.map(() => deviceId), metrics: ts.map(() => metric), ts, values };
}

describe.each(adapters)('history store contract: %s', (name, make, available) => {
  const run = available ? it : it.skip;
  const adapter = make();
  const stores: HistoryStore[] = [];
  let store: HistoryStore;
  const open = async () => {
    const opened = await adapter.open();
    stores.push(opened);
    return opened;
  };

  beforeAll(async () => {
    if (!available) return;
    await adapter.setup();
    store = await open();
  }, 120_000);
  afterAll(async () => {
    for (const opened of stores) await opened.close().catch(() => undefined);
    if (available) await adapter.teardown();
  });

  run('keeps one point per (device, metric, ts), out-of-order readings in place', async () => {
    const t0 = Date.UTC(2026, 11, 1, 10);
    expect(await store.write(batch('c1', 'a', [t0 + 2000, t0, t0 + 1000], [3, 1, 2]))).toBe(3);
    // A retry of the same readings (and one new): only the new one is written.
    expect(await store.write(batch('c1', 'a', [t0, t0 + 1000, t0 + 1500], [1, 2, 1.5]))).toBe(1);
    // The same ts twice in one batch: one point.
    expect(await store.write(batch('c1', 'a', [t0 + 500, t0 + 500], [0.5, 0.5]))).toBe(1);
    expect(await store.readRaw('c1', 'a', t0, t0 + 3000, 100)).toEqual({
      ts: [t0, t0 + 500, t0 + 1000, t0 + 1500, t0 + 2000],
      values: [1, 0.5, 2, 1.5, 3],
    });
    expect(await store.readRaw('c1', 'a', t0 + 1000, t0 + 2000, 100)).toEqual({
      ts: [t0 + 1000, t0 + 1500],
      values: [2, 1.5],
    });
    expect(await store.readRaw('c1', 'unknown', 0, Infinity, 100)).toEqual({ ts: [], values: [] });
    expect(await store.metricsOf('c1')).toEqual(['a']);
  });

  run(
    'keeps the first of two readings with the same ts in one batch, whatever the series around them',
    async () => {
      const t0 = Date.UTC(2026, 11, 1, 10, 30);
      // Series interleaved as a batch of the ingest has them (by arrival, not by series).
      const written = await store.write({
        deviceIds: ['c6', 'c7', 'c6', 'c7', 'c6'],
        metrics: ['a', 'a', 'a', 'a', 'a'],
        ts: [t0 + 1000, t0, t0 + 1000, t0, t0],
        values: [1, 7, 2, 8, 0],
      });
      expect(written).toBe(3);
      expect(await store.readRaw('c6', 'a', t0, t0 + 2000, 10)).toEqual({
        ts: [t0, t0 + 1000],
        values: [0, 1],
      });
      expect(await store.readRaw('c7', 'a', t0, t0 + 2000, 10)).toEqual({ ts: [t0], values: [7] });
    },
  );

  run(
    "takes a large batch of many series whole: appends, late readings and a retry's duplicates",
    async () => {
      const t0 = Date.UTC(2026, 11, 1, 14);
      const devices = ['b1', 'b2', 'b3', 'b4', 'b5'];
      /** Readings k of every device, interleaved by time as the ingest queues them. */
      const rows = (ks: number[], value: (d: number, k: number) => number): WriteBatch => {
        const out: WriteBatch = { deviceIds: [], metrics: [], ts: [], values: [] };
        for (const k of ks)
          devices.forEach((device, d) => {
            out.deviceIds.push(device);
            out.metrics.push('m');
            out.ts.push(t0 + k * 1000);
            out.values.push(value(d, k));
          });
        return out;
      };
      const range = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => from + i);
      const first = rows(range(0, 100), (d, k) => d * 1000 + k);
      expect(await store.write(first)).toBe(500);
      // Appends 100–199, a retry of 50–59 with other values, readings half a second late
      // between 10 and 14 (new), and an append twice in the batch.
      const second = rows(range(100, 200), (d, k) => d * 1000 + k);
      const retry = rows([...range(50, 60), 99], () => -1); // 99: the newest stored
      const late = rows(range(10, 15), (d, k) => d * 1000 + k + 0.5);
      late.ts = late.ts.map((ts) => ts + 500);
      const twice = rows([150], () => -2);
      for (const part of [retry, late, twice]) {
        second.deviceIds.push(...part.deviceIds);
        second.metrics.push(...part.metrics);
        second.ts.push(...part.ts);
        second.values.push(...part.values);
      }
      expect(await store.write(second)).toBe(5 * 105);
      for (const [d, device] of devices.entries()) {
        const raw = await store.readRaw(device, 'm', t0, t0 + HOUR, 1000);
        const expected = [...range(0, 200).map((k) => [t0 + k * 1000, d * 1000 + k])];
        expected.push(...range(10, 15).map((k) => [t0 + k * 1000 + 500, d * 1000 + k + 0.5]));
        expected.sort((a, b) => a[0] - b[0]);
        expect(raw).toEqual({ ts: expected.map((e) => e[0]), values: expected.map((e) => e[1]) });
        const minutes = await store.readRollup('1m', device, 'm', t0, t0 + HOUR);
        expect(minutes.count.reduce((a, b) => a + b, 0)).toBe(205);
        expect(minutes.sum.reduce((a, b) => a + b, 0)).toBeCloseTo(
          expected.reduce((a, e) => a + e[1], 0),
          6,
        );
      }
    },
  );

  run('keeps each new series its own after a write that was rolled back', async () => {
    const t0 = Date.UTC(2026, 11, 1, 15);
    // A reading each store refuses inside the transaction, after the batch's series are made:
    // SQLite stores NaN as NULL (NOT NULL), PostgreSQL takes no fraction in a bigint.
    const bad = name === 'PostgreSQL' ? { ts: t0 + 0.5, value: 1 } : { ts: t0 + 500, value: NaN };
    // (The rejection is matched by hand: an error from the native driver or the worker is not
    // always an Error of the test's realm.)
    const outcome = await store
      .write({
        deviceIds: ['r1', 'r1'],
        metrics: ['a', 'a'],
        ts: [t0, bad.ts],
        values: [1, bad.value],
      })
      .then(
        () => 'stored',
        (error: unknown) => `refused: ${String(error)}`,
      );
    expect(outcome).toMatch(/^refused/);
    // Again without it, beside a series new since: each keeps its own readings.
    expect(
      await store.write({
        deviceIds: ['r2', 'r1'],
        metrics: ['a', 'a'],
        ts: [t0, t0],
        values: [2, 1],
      }),
    ).toBe(2);
    expect(await store.readRaw('r1', 'a', t0, t0 + 1000, 10)).toEqual({ ts: [t0], values: [1] });
    expect(await store.readRaw('r2', 'a', t0, t0 + 1000, 10)).toEqual({ ts: [t0], values: [2] });
    expect(await store.metricsOf('r1')).toEqual(['a']);
    expect(await store.metricsOf('r2')).toEqual(['a']);
  });

  run('maintains 1 min and 1 h rollups as data arrives, a duplicate counted once', async () => {
    const t0 = Date.UTC(2026, 11, 1, 11);
    await store.write(batch('c2', 'a', [t0 + 1000, t0 + 2000], [5, 1]));
    await store.write(batch('c2', 'a', [t0 + 3000, t0 + 1000, t0 + MIN + 1], [9, 5, 4]));
    const minute = await store.readRollup('1m', 'c2', 'a', t0, t0 + HOUR);
    expect(minute).toEqual({
      bucket: [t0, t0 + MIN],
      min: [1, 4],
      minTs: [t0 + 2000, t0 + MIN + 1],
      max: [9, 4],
      maxTs: [t0 + 3000, t0 + MIN + 1],
      sum: [15, 4],
      count: [3, 1],
    });
    const hour = await store.readRollup('1h', 'c2', 'a', t0, t0 + HOUR);
    expect(hour).toMatchObject({ bucket: [t0], min: [1], max: [9], sum: [19], count: [4] });
  });

  run('rollups include the newest minute at once, and are exact after a crash', async () => {
    const t0 = Date.UTC(2026, 11, 1, 13);
    await store.write(batch('c6', 'a', [t0 + 1000, t0 + MIN + 1000, t0 + MIN + 2000], [3, 7, 5]));
    const expectRollups = async (s: HistoryStore, minute: object, hour: object) => {
      expect(await s.readRollup('1m', 'c6', 'a', t0, t0 + HOUR)).toMatchObject(minute);
      expect(await s.readRollup('1h', 'c6', 'a', t0, t0 + HOUR)).toMatchObject(hour);
    };
    await expectRollups(
      store,
      { bucket: [t0, t0 + MIN], count: [1, 2], sum: [3, 12], max: [3, 7] },
      { bucket: [t0], count: [3], sum: [15], min: [3], max: [7], maxTs: [t0 + MIN + 1000] },
    );
    // Opened while `store` was never closed: what a restart after SIGKILL finds.
    const again = await open();
    await expectRollups(
      again,
      { bucket: [t0, t0 + MIN], count: [1, 2], sum: [3, 12] },
      { bucket: [t0], count: [3], sum: [15] },
    );
    // A late reading of an earlier minute, then one of the newest again: each counted once.
    await again.write(batch('c6', 'a', [t0 + 2000, t0 + MIN + 3000], [1, 9]));
    await expectRollups(
      again,
      { bucket: [t0, t0 + MIN], count: [2, 3], sum: [4, 21], min: [1, 5], max: [3, 9] },
      { bucket: [t0], count: [5], sum: [25], min: [1], max: [9], minTs: [t0 + 2000] },
    );
  });

  run('downsamples a long range to maxPoints from the rollups, keeping every extreme', async () => {
    const t0 = Date.UTC(2026, 11, 2, 0);
    const ts: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < 6 * 360; i++) {
      ts.push(t0 + i * 10_000); // 6 h, one reading every 10 s
      values.push(i === 1234 ? 1000 : i === 777 ? -1000 : Math.sin(i / 50));
    }
    await store.write(batch('c3', 'a', ts, values));
    const { t, v } = await downsample(store, 'c3', 'a', t0, t0 + 6 * HOUR, 100);
    expect(t.length).toBeLessThanOrEqual(100);
    expect(t.length).toBeGreaterThan(50);
    expect([...t].sort((x, y) => x - y)).toEqual(t);
    expect(new Set(t).size).toBe(t.length);
    expect(v).toContain(1000);
    expect(v).toContain(-1000);
    expect(t[v.indexOf(1000)]).toBe(t0 + 1234 * 10_000);
    // Few enough: every reading as stored.
    const few = await downsample(store, 'c3', 'a', t0, t0 + 10 * 10_000, 100);
    expect(few).toEqual({ t: ts.slice(0, 10), v: values.slice(0, 10) });
  });

  run('groups rollup rows in the store exactly as the caller would', async () => {
    const t0 = Date.UTC(2026, 11, 2, 12);
    const ts: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < 3 * 720; i++) {
      ts.push(t0 + i * 5_000 + (i % 7)); // 3 h, one reading every ~5 s
      values.push(i % 97 === 0 ? 50 : Math.round(10 * Math.sin(i / 40))); // ties between minutes
    }
    await store.write(batch('c8', 'a', ts, values));
    // The same store seen through the port's required reads only.
    const plain: HistoryStore = {
      ...store,
      readRaw: store.readRaw.bind(store),
      readRollup: store.readRollup.bind(store),
      readRollupGroups: undefined,
    };
    for (const [from, to, points] of [
      [t0, t0 + 3 * HOUR, 40],
      [t0 + 7 * MIN + 3, t0 + 2 * HOUR + 11, 30],
      [t0 - HOUR, t0 + 4 * HOUR, 4],
    ]) {
      const own = await downsample(store, 'c8', 'a', from, to, points);
      expect(own.t.length).toBeGreaterThan(2);
      expect(own).toEqual(await downsample(plain, 'c8', 'a', from, to, points));
    }
  });

  run('enforces retention per resolution with bounded work per pass', async () => {
    const now = Date.now();
    const old = Math.floor((now - 10 * DAY) / HOUR) * HOUR;
    const ts = Array.from({ length: 50 }, (_, i) => old + i * 1000);
    await store.write(
      batch(
        'c4',
        'a',
        ts,
        ts.map((_, i) => i),
      ),
    );
    await store.write(batch('c4', 'a', [now - 1000], [7]));
    const cutoffs = { raw: now - 5 * DAY, '1m': now - 8 * DAY, '1h': now - 30 * DAY };
    // The earlier tests here wrote readings at fixed dates (December 2026), which the same
    // cutoffs reach once those dates are 5 days old: each pass may spend its budget on them
    // first, 10 rows at a time. The bound is for a store that never finishes, not for their count.
    let deleted = 0;
    for (let pass = 0; pass < 5_000; pass++) {
      const n = await store.prune(cutoffs, 10);
      expect(n).toBeLessThanOrEqual(10);
      deleted += n;
      if (n === 0) break;
    }
    expect(deleted).toBeGreaterThan(0);
    expect((await store.readRaw('c4', 'a', 0, now + 1, 100)).values).toEqual([7]);
    // The minute rollup (kept 8 d) is gone for the old data, the hourly (30 d) is kept.
    expect((await store.readRollup('1m', 'c4', 'a', 0, now - DAY)).bucket).toEqual([]);
    expect(await store.readRollup('1h', 'c4', 'a', 0, now - DAY)).toMatchObject({
      bucket: [old],
      count: [50],
    });
  });

  run(
    "reads each series' newest reading for a list of devices, whatever day it is on",
    async () => {
      const t0 = Date.UTC(2026, 10, 20, 12);
      // n1: `a` on two days (a late reading after the newest), `b` only two days back; n3: one.
      await store.write(batch('n1', 'a', [t0 - 2 * DAY, t0, t0 + 1000], [1, 2, 3]));
      await store.write(batch('n1', 'a', [t0 + 500], [2.5]));
      await store.write(batch('n1', 'b', [t0 - 2 * DAY + 5], [40]));
      await store.write(batch('n3', 'a', [t0 - DAY], [7]));
      const rows = await store.latestOf(['n2', 'n1', 'n3', 'unknown']);
      const found = rows.ts.map((ts, i) => [rows.device[i], rows.metrics[i], ts, rows.values[i]]);
      expect(found.sort()).toEqual(
        [
          [1, 'a', t0 + 1000, 3],
          [1, 'b', t0 - 2 * DAY + 5, 40],
          [2, 'a', t0 - DAY, 7],
        ].sort(),
      );
      expect(await store.latestOf([])).toEqual({ device: [], metrics: [], ts: [], values: [] });
    },
  );

  run('keeps everything across a reopen (another process on the same data)', async () => {
    const t0 = Date.UTC(2026, 11, 1, 12);
    await store.write(batch('c5', 'b', [t0, t0 + 1], [1, 2]));
    const again = await open();
    expect(await again.readRaw('c5', 'b', t0, t0 + 2, 10)).toEqual({
      ts: [t0, t0 + 1],
      values: [1, 2],
    });
    expect(await again.write(batch('c5', 'b', [t0], [1]))).toBe(0);
    expect(await again.size()).toBeGreaterThan(0);
  });
});

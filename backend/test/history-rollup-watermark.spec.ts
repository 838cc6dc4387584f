/**
 * PostgreSQL's rollup watermark (decision 0021, session 10): minutes that ended are rolled up
 * by a pass from the raw rows, late readings by the batch that brings them. Two stores on one
 * database (two gateways) write readings of the same series — late, in the minutes a pass is
 * closing, and current — while passes run on both; every reading must be in exactly one minute
 * and one hour row, and reads must count it once before and after the passes. A real cluster
 * started by the test (no skip in CI).
 */
import { postgresAvailable, PostgresCluster, startPostgres } from '@pulse/test-support';
import { Client, type Pool } from 'pg';
import { downsample } from '../src/app/history/history-buckets';
import type { HistoryStore, WriteBatch } from '../src/app/history/history-store';
import { PostgresHistoryStore } from '../src/app/history/postgres-history.store';
import { openPgPool } from '../src/app/store/pg-pool';

const MIN = 60_000;
const DAY = 86_400_000;
/** The pass's chunk lock (LOCK_CLOSE in postgres-history.store.ts). */
const LOCK_CLOSE_KEY = 0x70756c7367;
const HOUR = 3_600_000;
const run = postgresAvailable() ? it : it.skip;
/** Passes run only when called. */
const MANUAL = { graceMs: 0, everyMs: 0, budgetMs: 0 };

/** Readings of series d/m at `ts`, valued `first`, `first + 1`, … */
function readingsOfD(ts: number[], first: number): WriteBatch {
  return {
    deviceIds: ts.map(() => 'd'),
    metrics: ts.map(() => 'm'),
    ts,
    values: ts.map((_, i) => first + i),
  };
}

describe('PostgreSQL rollup watermark', () => {
  let cluster: PostgresCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  /** `n` opened stores on a fresh database whose passes run only when called. */
  async function manualStores(name: string, n: number) {
    cluster ??= await startPostgres();
    const url = cluster.createDatabase(name);
    const stores: PostgresHistoryStore[] = [];
    for (let i = 0; i < n; i++) {
      const store = new PostgresHistoryStore(openPgPool(url), MANUAL);
      await store.open();
      stores.push(store);
    }
    return { url, stores };
  }

  run(
    'counts every reading once with two gateways writing and rolling up at once',
    async () => {
      cluster = await startPostgres();
      const url = cluster.createDatabase('watermark');
      // Passes every 20 ms, each minute rolled up as soon as it ended.
      const timing = { graceMs: 0, everyMs: 20, budgetMs: 50 };
      const a = new PostgresHistoryStore(openPgPool(url), timing);
      const b = new PostgresHistoryStore(openPgPool(url), timing);
      await a.open();
      await b.open();
      const check: Pool = openPgPool(url);
      try {
        const now = Date.now();
        const series = ['s0', 's1', 's2'];
        let next = 0;
        // Integer values (exact sums whatever the order), unique ts per series and store.
        const batchAt = (store: number, span: number): WriteBatch => {
          const out: WriteBatch = { deviceIds: [], metrics: [], ts: [], values: [] };
          for (let i = 0; i < 40; i++) {
            const n = next++;
            out.deviceIds.push(series[n % 3]);
            out.metrics.push('v');
            // From `span` ago up to now: old minutes, the ones being closed, the current one.
            const offset = Math.floor(((n * 7919) % 100_003) * (span / 100_003));
            out.ts.push(now - 2 * offset - store);
            out.values.push((n * 31) % 97);
          }
          return out;
        };
        let written = 0;
        const writer = async (store: PostgresHistoryStore, id: number) => {
          for (let round = 0; round < 60; round++) {
            const n = await store.write(batchAt(id, 3 * HOUR));
            written += n;
          }
        };
        await Promise.all([writer(a, 0), writer(b, 1), a.catchUp(), b.catchUp()]);
        await Promise.all([writer(a, 0), writer(b, 1)]);
        const before = await Promise.all(
          series.map((s) => a.readRollup('1h', s, 'v', 0, now + HOUR)),
        );
        // Grouped in the database (downsample's path) or by the caller: the same points.
        const plain = {
          ...a,
          readRaw: a.readRaw.bind(a),
          readRollup: a.readRollup.bind(a),
          readRollupGroups: undefined,
        } as unknown as HistoryStore;
        for (const [span, points] of [
          [6 * HOUR, 40],
          [6 * HOUR, 6],
          [20 * MIN, 10],
        ]) {
          const range = [now - span, now + MIN] as const;
          const own = await downsample(a, 's1', 'v', ...range, points);
          expect(own.t.length).toBeGreaterThan(2);
          expect(own).toEqual(
            await downsample(
              { ...plain, readRollupGroups: undefined },
              's1',
              'v',
              ...range,
              points,
            ),
          );
        }
        await a.catchUp();
        await b.catchUp();
        expect(a.rollups.failures + b.rollups.failures).toBe(0);

        const raw = await check.query<{ n: number }>('SELECT count(*)::int AS n FROM history_raw');
        expect(raw.rows[0].n).toBe(written);
        const { rows: marks } = await check.query<{ upto: number }>(
          'SELECT upto FROM history_rollup_mark',
        );
        const upto = marks[0].upto;
        // Every minute that ended is rolled up (graceMs 0): the watermark is a recent minute.
        expect(upto % MIN).toBe(0);
        expect(Date.now() - upto).toBeLessThan(2 * MIN);
        // The tables hold exactly the raw rows below the watermark, per minute and per hour.
        const expected = (width: number) =>
          check.query(
            `SELECT series_id, (ts / ${width}) * ${width} AS bucket, min(value), max(value),
                  sum(value), count(*)::int AS count
           FROM history_raw WHERE ts < $1 GROUP BY 1, 2 ORDER BY 1, 2`,
            [upto],
          );
        const stored = (table: string) =>
          check.query(`SELECT series_id, bucket, min, max, sum, count FROM ${table} ORDER BY 1, 2`);
        const minutes = await expected(MIN);
        expect(minutes.rows.length).toBeGreaterThan(50);
        expect((await stored('history_1m')).rows).toEqual(minutes.rows);
        expect((await stored('history_1h')).rows).toEqual((await expected(HOUR)).rows);

        // Reads: every reading once, before the last passes (partly from raw) and after.
        for (const [i, s] of series.entries()) {
          const total = await check.query<{ sum: number; count: number }>(
            `SELECT sum(value) AS sum, count(*)::int AS count FROM history_raw r
           JOIN history_series h ON h.id = r.series_id WHERE h.device_id = $1`,
            [s],
          );
          for (const rows of [before[i], await b.readRollup('1h', s, 'v', 0, now + HOUR)]) {
            expect(rows.count.reduce((x, y) => x + y, 0)).toBe(total.rows[0].count);
            expect(rows.sum.reduce((x, y) => x + y, 0)).toBe(total.rows[0].sum);
          }
          const perMinute = await a.readRollup('1m', s, 'v', 0, now + HOUR);
          expect(perMinute.count.reduce((x, y) => x + y, 0)).toBe(total.rows[0].count);
          expect(new Set(perMinute.bucket).size).toBe(perMinute.bucket.length);
        }
      } finally {
        await check.end();
        await a.close();
        await b.close();
      }
    },
    60_000,
  );

  run(
    'rolls up a day whose partition a batch made while a pass was skipping days',
    async () => {
      const { url, stores } = await manualStores('watermark_days', 2);
      const [pass, late] = stores;
      const day = (n: number) => Math.floor(Date.now() / DAY - n) * DAY + 6 * HOUR;
      const at = (t: number, n: number) =>
        readingsOfD(
          Array.from({ length: n }, (_, i) => t + i * 1000),
          0,
        );
      await pass.write(at(day(5), 60));
      await pass.write(at(day(3), 60)); // no partition for the day between
      // A batch holding readings of minutes being closed waits for the pass's chunk lock, as here.
      const holder = new Client({ connectionString: url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock_shared($1)', [LOCK_CLOSE_KEY]);
        const passing = pass.catchUp();
        await new Promise((resolve) => setTimeout(resolve, 200));
        // Readings of the day without a partition (a journal replayed late): it is made now.
        const writing = late.write(at(day(4), 120));
        await new Promise((resolve) => setTimeout(resolve, 200));
        await holder.query('COMMIT');
        await Promise.all([passing, writing]);
        await pass.catchUp();
        const { rows } = await holder.query<{ n: number }>(
          'SELECT coalesce(sum(count), 0)::int AS n FROM history_1m WHERE bucket >= $1 AND bucket < $2',
          [day(4), day(4) + DAY],
        );
        expect(rows[0].n).toBe(120);
        const all = await holder.query<{ n: number }>(
          'SELECT sum(count)::int AS n FROM history_1h',
        );
        expect(all.rows[0].n).toBe(240);
      } finally {
        await holder.end();
        await pass.close();
        await late.close();
      }
    },
    60_000,
  );

  run(
    'stores opening together on a fresh database all open (their partitions made once)',
    async () => {
      cluster ??= await startPostgres();
      for (let round = 0; round < 5; round++) {
        const url = cluster.createDatabase(`opening_${round}`);
        const stores = [0, 1, 2, 3].map(() => new PostgresHistoryStore(openPgPool(url), MANUAL));
        const opened = await Promise.allSettled(stores.map((store) => store.open()));
        await Promise.all(stores.map((store) => store.close()));
        expect(opened.filter((o) => o.status === 'rejected')).toEqual([]);
      }
    },
    60_000,
  );

  run(
    'a gateway killed mid-stream leaves nothing for the other to count twice',
    async () => {
      const { url, stores } = await manualStores('watermark_crash', 1);
      const [dying] = stores;
      const t0 = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
      const ts = Array.from({ length: 600 }, (_, i) => t0 + i * 1000);
      const batch = (from: number, to: number) => readingsOfD(ts.slice(from, to), from);
      await dying.write(batch(0, 300));
      await dying.catchUp();
      // No close: its pool is torn down as a SIGKILL would, with nothing written after.
      const survivor = new PostgresHistoryStore(openPgPool(url), MANUAL);
      await survivor.open();
      await survivor.write(batch(200, 600)); // a redelivery of 100, then 300 new
      await survivor.catchUp();
      const rows = await survivor.readRollup('1m', 'd', 'm', t0, t0 + 10 * MIN);
      expect(rows.bucket).toEqual(Array.from({ length: 10 }, (_, i) => t0 + i * MIN));
      expect(rows.count).toEqual(Array(10).fill(60));
      expect(rows.sum.reduce((x, y) => x + y, 0)).toBe((599 * 600) / 2);
      const hours = await survivor.readRollup('1h', 'd', 'm', 0, t0 + HOUR);
      expect(hours.count.reduce((x, y) => x + y, 0)).toBe(600);
      await survivor.close();
      await dying.close();
    },
    60_000,
  );
});

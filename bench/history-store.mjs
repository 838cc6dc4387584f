// History store benchmark (issue 13, docs/decisions/0021): both adapters side by side, same
// data, same run. Measures the sustained write rate with batches like the ingest's (the
// writer's BATCH_MAX values per transaction, many series at 1 reading/s), the latency of a
// 24 h and a 7 d query of one series at 1 reading/s downsampled to 1,000 points (p50/p99),
// and the store size per million readings (raw + rollups + indexes).
//
//   node bench/history-store.mjs            # SQLite and a throwaway PostgreSQL (as `postgres`)
//   node bench/history-store.mjs --quick    # smaller sizes, figures indicative
//   options: --stores sqlite,postgres (which), --json (one JSON line per store, for the
//            `history` scenario of bench/run.mjs, instead of the table)
//   node bench/history-store.mjs --fill <DATA_DIR> --days 7
//            write N days of history (FILL_DEVICES devices, one reading every FILL_EVERY_MS)
//            into the history.db of a gateway that ran there once (its migrations applied), and
//            register the devices: the `history` scenario's memory-with-retention check
//
// It loads the adapters from source (lib/ts-source.mjs); the PostgreSQL cluster comes from
// @pulse/test-support's startPostgres (lib/postgres.mjs: initdb/pg_ctl on a free loopback port).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from './lib/postgres.mjs';
import { requireSource } from './lib/ts-source.mjs';

const { SqliteHistoryStore } = requireSource('backend/src/app/history/sqlite-history.store.ts');
const { PostgresHistoryStore, DEFAULT_ROLLUP_TIMING } = requireSource(
  'backend/src/app/history/postgres-history.store.ts',
);
const { openPgPool } = requireSource('backend/src/app/store/pg-pool.ts');
const { downsample } = requireSource('backend/src/app/history/history-buckets.ts');
const BATCH_MAX = 50_000; // BATCH_MAX of history-writer.service.ts (that file needs Nest to load)

const argOf = (flag, fallback) => {
  const at = process.argv.indexOf(flag);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const FILL_DEVICES = 50;
const FILL_EVERY_MS = 30_000;

/** --fill: history of FILL_DEVICES devices over `days` up to now, and their registry rows. */
async function fill(dataDir, days) {
  const store = new SqliteHistoryStore(join(dataDir, 'history.db'));
  await store.open();
  const end = Date.now();
  const start = end - days * 86_400_000;
  let written = 0;
  for (let t = start; t < end; ) {
    const batch = { deviceIds: [], metrics: [], ts: [], values: [] };
    for (; t < end && batch.ts.length + FILL_DEVICES <= BATCH_MAX; t += FILL_EVERY_MS)
      for (let d = 0; d < FILL_DEVICES; d++) {
        batch.deviceIds.push(`fill-${d}`);
        batch.metrics.push('m');
        batch.ts.push(t);
        batch.values.push(Math.sin(t / 3_600_000 + d));
      }
    written += await store.write(batch);
  }
  await store.close();
  const { Database } = requireSource('backend/src/app/store/database.ts');
  const { SqliteDeviceStore } = requireSource('backend/src/app/devices/sqlite-device.store.ts');
  const database = new Database({ DATA_DIR: dataDir });
  await new SqliteDeviceStore(database).save(
    Array.from({ length: FILL_DEVICES }, (_, d) => ({
      deviceId: `fill-${d}`,
      status: 'offline',
      lastSeen: end,
      lastTs: end - FILL_EVERY_MS,
      meta: null,
      metrics: ['m'],
    })),
    [],
  );
  database.onApplicationShutdown();
  console.log(JSON.stringify({ written, devices: FILL_DEVICES, days }));
}

if (process.argv.includes('--fill')) {
  await fill(argOf('--fill'), Number(argOf('--days', '7')));
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const stores = argOf('--stores', 'sqlite,postgres').split(',');
const WRITE_VALUES = quick ? 200_000 : 1_000_000;
const SERIES = 4000; // 1,000 devices × 4 metrics, each at 1 reading/s
const DAY = 86_400_000;
const QUERY_DAYS = quick ? 1 : 7;
const QUERY_RUNS = quick ? 20 : 50;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function writeFleet(store, start) {
  let written = 0;
  let second = 0;
  const began = performance.now();
  while (written < WRITE_VALUES) {
    const batch = { deviceIds: [], metrics: [], ts: [], values: [] };
    while (batch.ts.length < BATCH_MAX && written + batch.ts.length < WRITE_VALUES) {
      const i = (written + batch.ts.length) % SERIES;
      if (i === 0) second++;
      batch.deviceIds.push(`dev-${i >> 2}`);
      batch.metrics.push(`m${i & 3}`);
      batch.ts.push(start + second * 1000);
      batch.values.push(Math.sin(second / 60 + i));
    }
    await store.write(batch);
    written += batch.ts.length;
  }
  // PostgreSQL rolls ended minutes up in a background pass: its work is part of the write rate.
  if (store.catchUp) await store.catchUp();
  return written / ((performance.now() - began) / 1000);
}

async function writeSeries(store, start, days) {
  const total = days * 86_400;
  for (let s = 0; s < total; s += BATCH_MAX) {
    const n = Math.min(BATCH_MAX, total - s);
    const ts = Array.from({ length: n }, (_, k) => start + (s + k) * 1000);
    await store.write({
      deviceIds: ts.map(() => 'one'),
      metrics: ts.map(() => 'temp'),
      ts,
      values: ts.map((t) => 20 + 5 * Math.sin(t / 3_600_000)),
    });
  }
}

async function queryLatency(store, from, to) {
  const times = [];
  let points = 0;
  for (let i = 0; i < QUERY_RUNS; i++) {
    const began = performance.now();
    const { t } = await downsample(store, 'one', 'temp', from, to, 1000);
    times.push(performance.now() - began);
    points = t.length;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), points };
}

async function measure(name, open) {
  const store = await open();
  const start = Math.floor((Date.now() - 3 * DAY) / DAY) * DAY;
  const rate = await writeFleet(store, start);
  const bytes = await store.size();
  const perMillion = (bytes / WRITE_VALUES) * 1_000_000;
  const seriesStart = Date.now() - QUERY_DAYS * DAY;
  await writeSeries(store, seriesStart, QUERY_DAYS);
  // As a running gateway has them: every minute that ended rolled up (PostgreSQL's pass).
  if (store.catchUp) await store.catchUp();
  const end = seriesStart + QUERY_DAYS * DAY;
  const day = await queryLatency(store, end - DAY, end);
  const week = QUERY_DAYS >= 7 ? await queryLatency(store, end - 7 * DAY, end) : null;
  await store.close();
  return { name, rate, perMillion, day, week };
}

const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-history-'));
const results = [];
try {
  if (stores.includes('sqlite'))
    results.push(
      await measure('SQLite', async () => {
        const store = new SqliteHistoryStore(join(dir, 'history.db'));
        await store.open();
        return store;
      }),
    );
  if (stores.includes('postgres')) {
    const cluster = await startPostgres();
    try {
      results.push(
        await measure('PostgreSQL', async () => {
          // The rollup pass runs when called (catchUp, timed with the writes) rather than on its
          // timer: the benchmark writes days-old readings, a backfill that a timed pass would
          // roll up while the batches arrive, making them wait; a gateway's readings are current.
          const store = new PostgresHistoryStore(openPgPool(cluster.createDatabase('bench')), {
            ...DEFAULT_ROLLUP_TIMING,
            everyMs: 0,
          });
          await store.open();
          return store;
        }),
      );
    } finally {
      await cluster.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (json) {
  for (const r of results)
    console.log(JSON.stringify({ ...r, values: WRITE_VALUES, series: SERIES, batch: BATCH_MAX }));
  process.exit(0);
}

const ms = (x) => (x ? `${x.p50.toFixed(1)} / ${x.p99.toFixed(1)} ms (${x.points} pts)` : 'n/a');
console.log(
  `\nhistory store, ${WRITE_VALUES.toLocaleString('en')} values in batches of ${BATCH_MAX} over ${SERIES} series${quick ? ' (quick)' : ''}`,
);
console.log(
  '| store | write values/s | 24 h → 1,000 pts p50 / p99 | 7 d → 1,000 pts p50 / p99 | bytes per 1 M readings |',
);
console.log('|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.name} | ${Math.round(r.rate).toLocaleString('en')} | ${ms(r.day)} | ${ms(r.week)} | ${(r.perMillion / 1e6).toFixed(1)} MB |`,
  );

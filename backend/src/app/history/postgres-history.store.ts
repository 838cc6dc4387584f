import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Migration } from '../store/database';
import { inTransaction, migratePg, inClientTransaction } from '../store/pg-feature-store';
import { rollupOf, upsertRollupSql } from './history-buckets';
import { foldRows, hourOf, withAggregate } from './held-minutes';
import * as port from './history-store';

/*
 * The production history store: PostgreSQL through `pg` (node-postgres). Raw readings in a
 * table partitioned by day on `ts` (native declarative partitioning; a day's partition is
 * created ahead at boot and on demand by the first write into it, and dropped whole by
 * retention), rollups in plain tables. Every batch is one transaction of array-parameter
 * statements (`unnest`): one round trip per table whatever the batch size. Rollups of the
 * minutes that have ended are computed by the database from the raw rows, once per minute, behind
 * a watermark (`history_rollup_mark`, see {@link PostgresHistoryStore.materialize}); only late
 * readings are upserted by the batch that brings them. Migrations run at
 * boot through the shared runner (store/pg-feature-store.ts, under an advisory lock, so several
 * gateways may start at once). Owns the `history_*` relations of its database and ends the
 * shared pool at close (store/pg-pool.ts says why); must not touch other features' tables.
 */

const DAY_MS = 86_400_000;
/** SQLSTATE of a duplicate key. */
const UNIQUE_VIOLATION = '23505';
/** SQLSTATE of a relation that already exists. */
const DUPLICATE_TABLE = '42P07';
/** Partitions made ahead of today at boot and on each retention pass. */
const DAYS_AHEAD = 2;
const MINUTE = port.ROLLUP_MS['1m'];
/** Series ids cached at most; beyond, the cache starts over (ids are looked up again). */
const MAX_CACHED_SERIES = 100_000;

/**
 * Advisory lock keys of the rollup watermark (next to the migration lock, "pulse" + 1..3). Writers
 * hold WRITE shared for their whole transaction, a pass takes it exclusively for a moment to move
 * `closing` (a barrier: every batch that read the old marks has committed); writers with readings
 * in `[upto, closing)` take CLOSE shared, which each chunk of a pass holds exclusively; PASS is
 * held (session level, tried) by the one gateway running a pass.
 */
const LOCK_WRITE = 0x70756c7366;
const LOCK_CLOSE = 0x70756c7367;
const LOCK_PASS = 0x70756c7368;

/** How the rollup watermark runs; tests shorten it. */
export interface RollupTiming {
  /** A minute is rolled up this long after it ended (readings a little late still fit in). */
  graceMs: number;
  /** How often a pass looks for ended minutes (0: only when called). */
  everyMs: number;
  /** Most time one timed pass spends catching up before it yields. */
  budgetMs: number;
}

export const DEFAULT_ROLLUP_TIMING: RollupTiming = {
  graceMs: 10_000,
  everyMs: 2_000,
  budgetMs: 1_000,
};

/** Widest span of raw rows one chunk of a pass aggregates (grows over empty spans). */
const CHUNK_MS = 10 * MINUTE;
const CHUNK_MAX_MS = DAY_MS;

/**
 * min and max, each with the ts of its reading, and the sum, as SQL aggregates of the given
 * columns. The extreme's ts rides with its value in a two-element array (min/max compare arrays
 * element by element: value, then ts; ts negated for max, so ties keep the earliest): one pass,
 * no sort per group. A ts is an integer below 2^53, exact as a double.
 */
const extremesAndSum = (min: string, minTs: string, max: string, maxTs: string, sum: string) =>
  `min(${min}), (min(ARRAY[${min}, ${minTs}::float8]))[2]::bigint, max(${max}),
   (-(max(ARRAY[${max}, -${maxTs}::float8]))[2])::bigint, sum(${sum})`;

/** Per minute, of raw rows. */
const MINUTE_AGGREGATES = `(ts / ${MINUTE}) * ${MINUTE} AS bucket,
  ${extremesAndSum('value', 'ts', 'value', 'ts', 'value')}, count(*)::int`;

/** Of rollup rows (their extremes, sums and counts combined). */
const ROLLUP_AGGREGATES = `${extremesAndSum('min', 'min_ts', 'max', 'max_ts', 'sum')},
  sum(count)::int`;

/**
 * Rollup rows are updated in place by every flush that touches their bucket. Half-empty pages
 * let PostgreSQL make those HOT updates (no key changes), whose dead versions are pruned on the
 * page without waiting for vacuum; measured without it: ~200 MB of dead tuples per million
 * readings.
 */
const rollupTable = (name: string) => `
  CREATE TABLE ${name} (
    series_id integer NOT NULL,
    bucket bigint NOT NULL,
    min double precision NOT NULL, min_ts bigint NOT NULL,
    max double precision NOT NULL, max_ts bigint NOT NULL,
    sum double precision NOT NULL, count integer NOT NULL,
    PRIMARY KEY (series_id, bucket)
  ) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
  CREATE INDEX ${name}_by_bucket ON ${name} (bucket);`;

/** Never edit an applied migration: add one. */
export const HISTORY_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    id: 'history-001-readings-rollups',
    sql: `
      CREATE TABLE history_series (
        id serial PRIMARY KEY,
        device_id text NOT NULL,
        metric text NOT NULL,
        UNIQUE (device_id, metric)
      );
      CREATE TABLE history_raw (
        series_id integer NOT NULL,
        ts bigint NOT NULL,
        value double precision NOT NULL,
        PRIMARY KEY (series_id, ts)
      ) PARTITION BY RANGE (ts);
      ${rollupTable('history_1m')}
      ${rollupTable('history_1h')}
    `,
  },
  {
    // Rollups of ended minutes from the raw rows, behind a watermark (decision 0021, session 10).
    // A database that already holds rollups (written per batch before) starts the watermark at
    // the next minute; a fresh one at 0 (the first pass skips to the first partition).
    id: 'history-002-rollup-watermark',
    sql: `
      CREATE TABLE history_rollup_mark (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        upto bigint NOT NULL,
        closing bigint NOT NULL
      );
      INSERT INTO history_rollup_mark (upto, closing)
      SELECT v, v FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM history_1m)
        THEN (floor(extract(epoch FROM clock_timestamp()) * 1000 / ${MINUTE})::bigint + 1) * ${MINUTE}
        ELSE 0 END AS v) AS start;
      CREATE INDEX history_raw_ts_brin ON history_raw USING brin (ts)
        WITH (pages_per_range = 16, autosummarize = on);
    `,
  },
];

const replaceRollup = (table: string, source: string) => `
  INSERT INTO ${table} (series_id, bucket, min, min_ts, max, max_ts, sum, count) ${source}
  ON CONFLICT (series_id, bucket) DO UPDATE SET min = excluded.min, min_ts = excluded.min_ts,
    max = excluded.max, max_ts = excluded.max_ts, sum = excluded.sum, count = excluded.count`;

/** The minutes of `[$1, $2)` from the raw rows, replacing what the minute table has for them. */
const MATERIALIZE_MINUTES = replaceRollup(
  'history_1m',
  `SELECT series_id, ${MINUTE_AGGREGATES} FROM history_raw
   WHERE ts >= $1 AND ts < $2 GROUP BY 1, 2 ORDER BY 1, 2`,
);

/** Those minutes added to their hours (each minute is added once: the watermark passes it once). */
const ADD_MINUTES_TO_HOURS = upsertRollupSql(
  'history_1h',
  `SELECT series_id, (bucket / ${port.ROLLUP_MS['1h']}) * ${port.ROLLUP_MS['1h']},
     ${ROLLUP_AGGREGATES}
   FROM history_1m WHERE bucket >= $1 AND bucket < $2 GROUP BY series_id, 2 ORDER BY series_id, 2`,
  'LEAST',
  'GREATEST',
);

const upsertRollup = (table: string) =>
  upsertRollupSql(
    table,
    `SELECT * FROM unnest($1::int[], $2::bigint[], $3::float8[], $4::bigint[], $5::float8[],
                         $6::bigint[], $7::float8[], $8::int[])`,
    'LEAST',
    'GREATEST',
  );

/** `history_raw_20261202`: the partition of one UTC day. */
function partitionName(day: number): string {
  return `history_raw_${new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** The day (days since epoch) of a partition's name, or null for another relation. */
function dayOfPartition(name: string): number | null {
  const match = /^history_raw_(\d{4})(\d{2})(\d{2})$/.exec(name);
  if (!match) return null;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY_MS;
}

const PARTITIONS = `SELECT c.relname AS name FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
  WHERE p.relname = 'history_raw' ORDER BY c.relname`;

export class PostgresHistoryStore implements port.HistoryStore {
  readonly kind = 'postgres';
  private readonly seriesIds = new Map<string, number>();
  private readonly partitions = new Set<number>();

  /** Rollup passes that failed (retried by the next), for the writer's stats. */
  readonly rollups = { failures: 0 };
  private timer?: NodeJS.Timeout;
  private pass: Promise<void> = Promise.resolve();
  private closed = false;

  /**
   * `pool`: the gateway's shared pool (store/pg-pool.ts), bigint columns parsed as numbers;
   * `timing`: when minutes are rolled up (the default in production); `reads`: the pool of the
   * reads a request waits on, bounded in time (store/pg-pool.ts `openPgReadPool`; ended with the
   * store), by default the shared one.
   */
  constructor(
    private readonly pool: Pool,
    private readonly timing: RollupTiming = DEFAULT_ROLLUP_TIMING,
    private readonly reads: Pool = pool,
  ) {}

  async open(): Promise<void> {
    await migratePg(this.pool, HISTORY_POSTGRES_MIGRATIONS);
    await this.ensurePartitions(this.daysAhead());
    if (this.timing.everyMs > 0) {
      this.timer = setInterval(() => void this.runPass(this.timing.budgetMs), this.timing.everyMs);
      this.timer.unref();
    }
  }

  /** One pass at a time per store; a failed pass is retried by the next (the raw rows stay). */
  private runPass(budgetMs: number): Promise<void> {
    this.pass = this.pass
      .then(() => (this.closed ? undefined : this.materialize(budgetMs)))
      .then(
        () => undefined,
        () => {
          this.rollups.failures++;
        },
      );
    return this.pass;
  }

  /**
   * Roll up every minute that ended `graceMs` ago or earlier and is not rolled up yet: the
   * background pass (also called by the retention pass, and by the benchmark to count this work).
   */
  async catchUp(): Promise<void> {
    await this.runPass(Infinity);
  }

  /**
   * The rollup watermark. `history_rollup_mark.upto`: every minute before it is in `history_1m`
   * and added to its hour in `history_1h`; raw rows at or after it are not in any rollup (reads
   * aggregate them on the fly). A pass first moves `closing` to the newest ended minute, under the
   * WRITE lock taken exclusively (a barrier: batches that read the old marks have committed, later
   * ones see the new `closing`), then moves `upto` towards it chunk by chunk, each chunk one
   * transaction holding CLOSE: minutes from the raw rows (replacing), then those minutes added to
   * their hours. A batch upserts the rollups of its readings below `upto` (late ones) itself; for
   * readings in `[upto, closing)` it first takes CLOSE shared and reads `upto` again, so each
   * reading is counted by exactly one of the two. Several gateways: PASS lets one run passes.
   */
  private async materialize(budgetMs: number): Promise<void> {
    const started = Date.now();
    const client = await this.pool.connect();
    // A connection whose unlock failed still holds PASS (session level): closed, not pooled.
    let broken = false;
    try {
      const { rows } = await client.query<{ got: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS got',
        [LOCK_PASS],
      );
      if (!rows[0]?.got) return;
      try {
        const target = Math.floor((Date.now() - this.timing.graceMs) / MINUTE) * MINUTE;
        let mark = await this.readMark(client);
        if (target > mark.closing) {
          await inClientTransaction(client, async () => {
            await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_WRITE]);
            await client.query('UPDATE history_rollup_mark SET closing = $1 WHERE closing < $1', [
              target,
            ]);
          });
          mark = await this.readMark(client);
        }
        let span = CHUNK_MS;
        while (mark.upto < mark.closing && Date.now() - started < budgetMs && !this.closed) {
          mark = await inClientTransaction(client, async () => {
            await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_CLOSE]);
            // Under CLOSE: a batch that made a partition for a day being skipped either made it
            // before (seen here) or reads `upto` after this chunk (and counts its readings).
            const now = await this.readMark(client);
            const days = await this.partitionDays(client);
            const from = this.nextDataFrom(now.upto, days, now.closing);
            const end = Math.min(
              now.closing,
              from + span,
              (Math.floor(from / DAY_MS) + 1) * DAY_MS,
            );
            const minutes = await client.query(MATERIALIZE_MINUTES, [from, end]);
            if ((minutes.rowCount ?? 0) > 0) await client.query(ADD_MINUTES_TO_HOURS, [from, end]);
            await client.query('UPDATE history_rollup_mark SET upto = $1', [end]);
            span = (minutes.rowCount ?? 0) > 0 ? CHUNK_MS : Math.min(CHUNK_MAX_MS, span * 2);
            return { upto: end, closing: now.closing };
          });
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [LOCK_PASS]).catch(() => {
          broken = true;
        });
      }
    } finally {
      client.release(broken);
    }
  }

  /** The watermark; by default as a request's read (the read pool, bounded in time). */
  private async upto(db: Pool = this.reads): Promise<number> {
    const { rows } = await db.query<{ upto: number }>('SELECT upto FROM history_rollup_mark');
    return rows[0].upto;
  }

  private async readMark(db: PoolClient): Promise<{ upto: number; closing: number }> {
    const { rows } = await db.query<{ upto: number; closing: number }>(
      'SELECT upto, closing FROM history_rollup_mark',
    );
    return rows[0];
  }

  /** Days that have a raw partition (no partition: no rows that day). */
  private async partitionDays(client: PoolClient): Promise<number[]> {
    const { rows } = await client.query<{ name: string }>(PARTITIONS);
    return rows
      .map(({ name }) => dayOfPartition(name))
      .filter((day): day is number => day !== null)
      .sort((a, b) => a - b);
  }

  /** `upto`, or the start of the first partition after it when its day has none. */
  private nextDataFrom(upto: number, days: number[], closing: number): number {
    const day = Math.floor(upto / DAY_MS);
    if (days.includes(day)) return upto;
    const next = days.find((d) => d > day);
    return next === undefined ? closing : Math.min(closing, Math.max(upto, next * DAY_MS));
  }

  private daysAhead(): number[] {
    const today = Math.floor(Date.now() / DAY_MS);
    return Array.from({ length: DAYS_AHEAD + 1 }, (_, i) => today + i);
  }

  private async ensurePartitions(days: Iterable<number>): Promise<void> {
    for (const day of days) {
      if (this.partitions.has(day)) continue;
      // IF NOT EXISTS does not cover another gateway creating it at the same moment: that one's
      // table (duplicate_table) or its row type (unique_violation in pg_type) makes this fail.
      await this.pool
        .query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF history_raw
           FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`,
        )
        .catch((error: { code?: string }) => {
          if (error.code !== DUPLICATE_TABLE && error.code !== UNIQUE_VIOLATION) throw error;
        });
      this.partitions.add(day);
    }
  }

  async write(batch: port.WriteBatch): Promise<number> {
    const days = new Set<number>();
    for (const ts of batch.ts) days.add(Math.floor(ts / DAY_MS));
    await this.ensurePartitions(days);
    // Series this transaction created or found: cached once it committed (a rolled-back one
    // takes its new series rows with it, and a cached id would point at no series).
    const created = new Map<string, number>();
    const written = await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock_shared($1)', [LOCK_WRITE]);
      let mark = await this.readMark(client);
      const cols = await this.insertRaw(
        client,
        inKeyOrder(await this.resolveSeries(client, batch, created), batch),
      );
      if (cols[1].some((ts) => ts >= mark.upto && ts < mark.closing)) {
        // Readings of minutes a pass is rolling up: after its chunk, below `upto` (ours to add).
        await client.query('SELECT pg_advisory_xact_lock_shared($1)', [LOCK_CLOSE]);
        mark = await this.readMark(client);
      }
      const late: [number[], number[], number[]] = [[], [], []];
      for (let i = 0; i < cols[1].length; i++) {
        if (cols[1][i] >= mark.upto) continue;
        late[0].push(cols[0][i]);
        late[1].push(cols[1][i]);
        late[2].push(cols[2][i]);
      }
      if (late[0].length > 0) await this.addToRollups(client, late);
      return cols[0].length;
    });
    for (const [key, id] of created) this.cacheSeries(key, id);
    return written;
  }

  /** Upsert the rollups of rows below the watermark (late readings) in the batch's transaction. */
  private async addToRollups(
    client: PoolClient,
    [seriesIds, ts, values]: [number[], number[], number[]],
  ): Promise<void> {
    for (const resolution of ['1m', '1h'] as const) {
      const r = rollupOf(seriesIds, ts, values, resolution);
      await client.query(upsertRollup(`history_${resolution}`), [
        r.seriesId,
        r.bucket,
        r.min,
        r.minTs,
        r.max,
        r.maxTs,
        r.sum,
        r.count,
      ]);
    }
  }

  /**
   * The batch's raw rows; answers the rows that were new (the rollups count only those). First
   * as a plain insert, in a savepoint: a batch without a duplicate (nearly all) needs neither
   * `ON CONFLICT` (speculative insertion) nor its rows sent back, which measured ~2× the raw
   * insert's speed. A duplicate (a retried batch, the journal's replay) rolls that back and the
   * batch goes again with `ON CONFLICT DO NOTHING RETURNING`, which keeps the first of each key.
   */
  private async insertRaw(
    client: PoolClient,
    [ids, ts, vals]: [number[], number[], number[]],
  ): Promise<[number[], number[], number[]]> {
    await client.query('SAVEPOINT raw_batch');
    try {
      await copyRaw(client, ids, ts, vals);
      await client.query('RELEASE SAVEPOINT raw_batch');
      return [ids, ts, vals];
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await client.query('ROLLBACK TO SAVEPOINT raw_batch');
    }
    const values = [ids, ts, vals];
    const rows = 'SELECT * FROM unnest($1::int[], $2::bigint[], $3::float8[])';
    const inserted = await client.query({
      text: `INSERT INTO history_raw (series_id, ts, value) ${rows}
             ON CONFLICT DO NOTHING RETURNING series_id, ts, value`,
      values,
      rowMode: 'array',
    });
    const cols: [number[], number[], number[]] = [[], [], []];
    for (const row of inserted.rows as [number, number, number][]) {
      cols[0].push(row[0]);
      cols[1].push(row[1]);
      cols[2].push(row[2]);
    }
    return cols;
  }

  /**
   * Series ids of every value of the batch, creating the series not seen before; ids found or
   * made here go into `created` (cached after commit).
   */
  private async resolveSeries(
    client: PoolClient,
    batch: port.WriteBatch,
    created: Map<string, number>,
  ): Promise<number[]> {
    const missing = new Map<string, [string, string]>();
    for (let i = 0; i < batch.ts.length; i++) {
      const key = `${batch.deviceIds[i]}\u0000${batch.metrics[i]}`;
      if (!this.seriesIds.has(key)) missing.set(key, [batch.deviceIds[i], batch.metrics[i]]);
    }
    if (missing.size > 0) {
      // In key order, as every row lock a batch takes (two gateways adding the same series):
      // `device\u0000metric` sorts as (device, metric), NUL being below any character of an id.
      const pairs = [...missing.keys()].sort().map((key) => missing.get(key) as [string, string]);
      const devices = pairs.map((pair) => pair[0]);
      const metrics = pairs.map((pair) => pair[1]);
      await client.query(
        `INSERT INTO history_series (device_id, metric)
         SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`,
        [devices, metrics],
      );
      const found = await client.query<{ id: number; device_id: string; metric: string }>(
        `SELECT s.id, s.device_id, s.metric FROM history_series s
         JOIN unnest($1::text[], $2::text[]) AS k (device_id, metric) USING (device_id, metric)`,
        [devices, metrics],
      );
      for (const row of found.rows) created.set(`${row.device_id}\u0000${row.metric}`, row.id);
    }
    return batch.ts.map((_, i) => {
      const key = `${batch.deviceIds[i]}\u0000${batch.metrics[i]}`;
      return (this.seriesIds.get(key) ?? created.get(key)) as number;
    });
  }

  /** Bounded like the SQLite adapter's: at MAX_CACHED_SERIES the cache starts over. */
  private cacheSeries(key: string, id: number): void {
    if (this.seriesIds.size >= MAX_CACHED_SERIES) this.seriesIds.clear();
    this.seriesIds.set(key, id);
  }

  private async idOf(deviceId: string, metric: string): Promise<number | undefined> {
    const key = `${deviceId}\u0000${metric}`;
    const cached = this.seriesIds.get(key);
    if (cached !== undefined) return cached;
    const { rows } = await this.reads.query<{ id: number }>({
      text: 'SELECT id FROM history_series WHERE device_id = $1 AND metric = $2',
      values: [deviceId, metric],
    });
    if (rows[0]) this.cacheSeries(key, rows[0].id);
    return rows[0]?.id;
  }

  readonly readRaw: port.HistoryStore['readRaw'] = async (deviceId, metric, from, to, limit) => {
    const id = await this.idOf(deviceId, metric);
    if (id === undefined) return port.emptyRawRows();
    const { rows } = await this.reads.query({
      text: `SELECT ts, value FROM history_raw WHERE series_id = $1 AND ts >= $2 AND ts < $3
               ORDER BY ts LIMIT $4`,
      values: [id, from, to, limit],
      rowMode: 'array',
    });
    return port.rawRowsOf(rows);
  };

  /** {@link PostgresHistoryStore.readRollupGroups} without grouping. */
  readonly readRollup: port.HistoryStore['readRollup'] = (res, device, metric, from, to) =>
    this.readRollupGroups(res, device, metric, from, to, 0, 0);

  /**
   * The rollup rows before the watermark, then the minutes from it on aggregated from the raw
   * rows (into their hours for `1h`): minutes on either side of `upto` are disjoint, so every
   * reading counts once whichever pass ran in between. `width` > 0: the stored rows combined per
   * group of `width` ms from `origin` in the database (one row per group); the raw minutes past
   * the watermark come as minutes (the caller folds them into their group).
   */
  async readRollupGroups(
    res: port.Rollup,
    device: string,
    metric: string,
    from: number,
    to: number,
    origin: number,
    width: number,
  ): Promise<port.RollupRows> {
    const id = await this.idOf(device, metric);
    if (id === undefined) return port.emptyRollupRows();
    const columns =
      width > 0
        ? `$5::bigint + ((bucket - $5::bigint) / $6::bigint) * $6::bigint AS g, ${ROLLUP_AGGREGATES}`
        : 'bucket, min, min_ts, max, max_ts, sum, count';
    const grouped = width > 0 ? 'GROUP BY 1' : '';
    // The watermark, the rows before it, the watermark again: equal, no pass moved it between
    // (it only grows), so no hour row holds a minute the raw rows from it will add. Else again.
    let upto = await this.upto();
    let stored: port.RollupRows;
    for (;;) {
      const { rows } = await this.reads.query({
        text: `SELECT ${columns} FROM history_${res}
                 WHERE series_id = $1 AND bucket >= $2 AND bucket < $3 AND bucket < $4
                 ${grouped} ORDER BY 1`,
        values: width > 0 ? [id, from, to, upto, origin, width] : [id, from, to, upto],
        rowMode: 'array',
      });
      stored = port.rollupRowsOf(rows);
      const again = await this.upto();
      if (again === upto) break;
      upto = again;
    }
    const start = Math.max(from, upto);
    if (start >= to) return stored;
    const fresh = await this.reads.query({
      text: `SELECT ${MINUTE_AGGREGATES} FROM history_raw
               WHERE series_id = $1 AND ts >= $2 AND ts < $3 GROUP BY 1 ORDER BY 1`,
      values: [id, start, to],
      rowMode: 'array',
    });
    const minutes = port.rollupRowsOf(fresh.rows);
    if (res === '1m' || width > 0) {
      for (const key of Object.keys(stored) as (keyof port.RollupRows)[])
        stored[key].push(...minutes[key]);
      return stored;
    }
    // Each hour's minutes from `upto` on, folded into the hour row (which holds those before).
    let out = stored;
    for (let i = 0; i < minutes.bucket.length; ) {
      const hour = hourOf(minutes.bucket[i]);
      let j = i;
      while (j < minutes.bucket.length && hourOf(minutes.bucket[j]) === hour) j++;
      const part = foldRows(id, hour, sliceRows(minutes, i, j));
      if (part) out = withAggregate(out, part, from, to);
      i = j;
    }
    return out;
  }

  async metricsOf(deviceId: string): Promise<string[]> {
    const { rows } = await this.reads.query<{ metric: string }>({
      text: 'SELECT metric FROM history_series WHERE device_id = $1 ORDER BY metric',
      values: [deviceId],
    });
    return rows.map((row) => row.metric);
  }

  /**
   * The series of the devices first, then their newest rows one day partition at a time, the
   * newest day first, asking each day only for the series not found in a later one. A lateral
   * `ORDER BY ts DESC LIMIT 1` over the whole partitioned table seeks into every partition for
   * every series (a merge of one row from each); by day, a fleet that reported today costs one
   * seek per series, and a device silent for days one per day it was silent.
   */
  async latestOf(deviceIds: readonly string[]): Promise<port.LatestRows> {
    const out = port.emptyLatestRows();
    const { rows: series } = await this.pool.query<{ i: number; id: number; metric: string }>(
      `SELECT k.i::int - 1 AS i, s.id, s.metric
       FROM unnest($1::text[]) WITH ORDINALITY AS k (device_id, i)
       JOIN history_series s ON s.device_id = k.device_id`,
      [deviceIds],
    );
    const byId = new Map(series.map((row) => [row.id, row]));
    if (byId.size === 0) return out;
    const { rows: partitions } = await this.pool.query<{ name: string }>(PARTITIONS);
    const days = partitions
      .map(({ name }) => dayOfPartition(name))
      .filter((day): day is number => day !== null)
      .sort((a, b) => b - a);
    for (const day of days) {
      if (byId.size === 0) break;
      const range = [day * DAY_MS, (day + 1) * DAY_MS];
      // The days made ahead are empty: a probe is cheaper than a seek per series into them.
      const probe = await this.pool.query(
        'SELECT 1 FROM history_raw WHERE ts >= $1 AND ts < $2 LIMIT 1',
        range,
      );
      if (probe.rows.length === 0) continue;
      const { rows } = await this.pool.query({
        text: `SELECT s.id, r.ts, r.value FROM unnest($1::int[]) AS s (id)
               CROSS JOIN LATERAL (SELECT ts, value FROM history_raw
                 WHERE series_id = s.id AND ts >= $2 AND ts < $3 ORDER BY ts DESC LIMIT 1) r`,
        values: [[...byId.keys()], ...range],
        rowMode: 'array',
      });
      for (const [id, ts, value] of rows as [number, number, number][]) {
        const found = byId.get(id);
        if (!found) continue;
        byId.delete(id);
        out.device.push(found.i);
        out.metrics.push(found.metric);
        out.ts.push(ts);
        out.values.push(value);
      }
    }
    return out;
  }

  /**
   * Raw: whole day partitions past the cutoff (one unit of budget each) and already rolled up
   * (a pass runs first); rollups: rows.
   */
  async prune(cutoffs: port.RetentionCutoffs, budget: number): Promise<number> {
    await this.ensurePartitions(this.daysAhead());
    await this.catchUp();
    const rawCutoff = Math.min(cutoffs.raw, await this.upto(this.pool));
    let done = 0;
    const { rows } = await this.pool.query<{ name: string }>(PARTITIONS);
    for (const { name } of rows) {
      const day = dayOfPartition(name);
      if (day === null || done >= budget) continue;
      if ((day + 1) * DAY_MS > rawCutoff) continue;
      await this.pool.query(`DROP TABLE IF EXISTS ${name}`);
      this.partitions.delete(day);
      done++;
    }
    for (const resolution of ['1m', '1h'] as const) {
      if (done >= budget) break;
      const table = `history_${resolution}`;
      const result = await this.pool.query(
        `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM ${table} WHERE bucket < $1 LIMIT $2))`,
        [cutoffs[resolution], budget - done],
      );
      done += result.rowCount ?? 0;
    }
    return done;
  }

  async size(): Promise<number> {
    const { rows } = await this.pool.query<{ bytes: number | null }>(
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'history\\_%'`,
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.pass;
    if (this.reads !== this.pool && !this.reads.ended) await this.reads.end();
    if (!this.pool.ended) await this.pool.end();
  }
}

/** Rows `[i, j)` of rollup columns. */
function sliceRows(rows: port.RollupRows, i: number, j: number): port.RollupRows {
  const out = port.emptyRollupRows();
  for (const key of Object.keys(out) as (keyof port.RollupRows)[]) out[key] = rows[key].slice(i, j);
  return out;
}

/**
 * The batch as columns sorted by (series, ts), arrival order among equals (so the first of two
 * readings with one ts is the one kept). Every transaction then takes its row locks (raw keys,
 * then rollup rows: `rollupOf` keeps first-appearance order) in one global order, so two
 * gateways writing the same series, or a batch and a rollup pass, never deadlock.
 */
function inKeyOrder(ids: number[], batch: port.WriteBatch): [number[], number[], number[]] {
  const order = ids.map((_, i) => i);
  order.sort((x, y) => ids[x] - ids[y] || batch.ts[x] - batch.ts[y] || x - y);
  return [
    order.map((i) => ids[i]),
    order.map((i) => batch.ts[i]),
    order.map((i) => batch.values[i]),
  ];
}

/**
 * Rows into `history_raw` with `COPY … FROM STDIN` (text format: integers, and doubles in the
 * shortest form that reads back exactly): measured ~1.3× an `unnest` insert of the same rows.
 */
async function copyRaw(client: PoolClient, ids: number[], ts: number[], values: number[]) {
  let text = '';
  for (let i = 0; i < ids.length; i++) text += `${ids[i]}\t${ts[i]}\t${values[i]}\n`;
  await pipeline(
    Readable.from([text]),
    client.query(copyFrom('COPY history_raw (series_id, ts, value) FROM STDIN')),
  );
}

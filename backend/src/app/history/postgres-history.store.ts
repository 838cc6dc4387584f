import type { Pool, PoolClient } from 'pg';
import type { Migration } from '../store/database';
import { inTransaction, migratePg } from '../store/pg-feature-store';
import { rollupOf, upsertRollupSql } from './history-buckets';
import * as port from './history-store';

/*
 * The production history store: PostgreSQL through `pg` (node-postgres). Raw readings in a
 * table partitioned by day on `ts` (native declarative partitioning; a day's partition is
 * created ahead at boot and on demand by the first write into it, and dropped whole by
 * retention), rollups in plain tables. Every batch is one transaction of array-parameter
 * statements (`unnest`): one round trip per table whatever the batch size. Migrations run at
 * boot through the shared runner (store/pg-feature-store.ts, under an advisory lock, so several
 * gateways may start at once). Owns the `history_*` relations of its database and ends the
 * shared pool at close (store/pg-pool.ts says why); must not touch other features' tables.
 */

const DAY_MS = 86_400_000;
/** SQLSTATE of a duplicate key. */
const UNIQUE_VIOLATION = '23505';
/** Partitions made ahead of today at boot and on each retention pass. */
const DAYS_AHEAD = 2;

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
];

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

export class PostgresHistoryStore implements port.HistoryStore {
  readonly kind = 'postgres';
  private readonly seriesIds = new Map<string, number>();
  private readonly partitions = new Set<number>();

  /** `pool`: the gateway's shared pool (store/pg-pool.ts), bigint columns parsed as numbers. */
  constructor(private readonly pool: Pool) {}

  async open(): Promise<void> {
    await migratePg(this.pool, HISTORY_POSTGRES_MIGRATIONS);
    await this.ensurePartitions(this.daysAhead());
  }

  private daysAhead(): number[] {
    const today = Math.floor(Date.now() / DAY_MS);
    return Array.from({ length: DAYS_AHEAD + 1 }, (_, i) => today + i);
  }

  private async ensurePartitions(days: Iterable<number>): Promise<void> {
    for (const day of days) {
      if (this.partitions.has(day)) continue;
      await this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF history_raw
         FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`,
      );
      this.partitions.add(day);
    }
  }

  async write(batch: port.WriteBatch): Promise<number> {
    const days = new Set<number>();
    for (const ts of batch.ts) days.add(Math.floor(ts / DAY_MS));
    await this.ensurePartitions(days);
    return inTransaction(this.pool, async (client) => {
      const ids = await this.resolveSeries(client, batch);
      const cols = await this.insertRaw(client, ids, batch);
      for (const resolution of ['1m', '1h'] as const) {
        const r = rollupOf(cols[0], cols[1], cols[2], resolution);
        if (r.bucket.length === 0) continue;
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
      return cols[0].length;
    });
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
    ids: number[],
    batch: port.WriteBatch,
  ): Promise<[number[], number[], number[]]> {
    const values = [ids, batch.ts, batch.values];
    const rows = 'SELECT * FROM unnest($1::int[], $2::bigint[], $3::float8[])';
    await client.query('SAVEPOINT raw_batch');
    try {
      await client.query(`INSERT INTO history_raw (series_id, ts, value) ${rows}`, values);
      await client.query('RELEASE SAVEPOINT raw_batch');
      return [ids, batch.ts, batch.values];
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await client.query('ROLLBACK TO SAVEPOINT raw_batch');
    }
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

  /** Series ids of every value of the batch, creating the series not seen before. */
  private async resolveSeries(client: PoolClient, batch: port.WriteBatch): Promise<number[]> {
    const missing = new Map<string, [string, string]>();
    for (let i = 0; i < batch.ts.length; i++) {
      const key = `${batch.deviceIds[i]}\u0000${batch.metrics[i]}`;
      if (!this.seriesIds.has(key)) missing.set(key, [batch.deviceIds[i], batch.metrics[i]]);
    }
    if (missing.size > 0) {
      const devices = [...missing.values()].map((pair) => pair[0]);
      const metrics = [...missing.values()].map((pair) => pair[1]);
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
      for (const row of found.rows)
        this.seriesIds.set(`${row.device_id}\u0000${row.metric}`, row.id);
    }
    return batch.ts.map(
      (_, i) => this.seriesIds.get(`${batch.deviceIds[i]}\u0000${batch.metrics[i]}`) as number,
    );
  }

  private async idOf(deviceId: string, metric: string): Promise<number | undefined> {
    const key = `${deviceId}\u0000${metric}`;
    const cached = this.seriesIds.get(key);
    if (cached !== undefined) return cached;
    const { rows } = await this.pool.query<{ id: number }>(
      'SELECT id FROM history_series WHERE device_id = $1 AND metric = $2',
      [deviceId, metric],
    );
    if (rows[0]) this.seriesIds.set(key, rows[0].id);
    return rows[0]?.id;
  }

  readonly readRaw: port.HistoryStore['readRaw'] = async (deviceId, metric, from, to, limit) => {
    const id = await this.idOf(deviceId, metric);
    if (id === undefined) return port.emptyRawRows();
    const { rows } = await this.pool.query({
      text: `SELECT ts, value FROM history_raw WHERE series_id = $1 AND ts >= $2 AND ts < $3
             ORDER BY ts LIMIT $4`,
      values: [id, from, to, limit],
      rowMode: 'array',
    });
    return port.rawRowsOf(rows);
  };

  readonly readRollup: port.HistoryStore['readRollup'] = async (res, device, metric, from, to) => {
    const id = await this.idOf(device, metric);
    if (id === undefined) return port.emptyRollupRows();
    const { rows } = await this.pool.query({
      text: `SELECT bucket, min, min_ts, max, max_ts, sum, count FROM history_${res}
             WHERE series_id = $1 AND bucket >= $2 AND bucket < $3 ORDER BY bucket`,
      values: [id, from, to],
      rowMode: 'array',
    });
    return port.rollupRowsOf(rows);
  };

  async metricsOf(deviceId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ metric: string }>(
      'SELECT metric FROM history_series WHERE device_id = $1 ORDER BY metric',
      [deviceId],
    );
    return rows.map((row) => row.metric);
  }

  /** Raw: whole day partitions past the cutoff (one unit of budget each); rollups: rows. */
  async prune(cutoffs: port.RetentionCutoffs, budget: number): Promise<number> {
    await this.ensurePartitions(this.daysAhead());
    let done = 0;
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relname = 'history_raw' ORDER BY c.relname`,
    );
    for (const { name } of rows) {
      const match = /^history_raw_(\d{4})(\d{2})(\d{2})$/.exec(name);
      if (!match || done >= budget) continue;
      const day = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY_MS;
      if ((day + 1) * DAY_MS > cutoffs.raw) continue;
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
    if (!this.pool.ended) await this.pool.end();
  }
}

/*
 * The history store port: what the gateway needs from a durable readings store, small enough
 * that SQLite (embedded default) and PostgreSQL (DATABASE_URL) both fit behind it. Owns the
 * types and the DI token only; the adapters own their SQL, the writer owns batching and the
 * reader owns how the stored past meets the in-memory recent window (docs/decisions/0021).
 */

/** Resolutions kept: every reading, and min/max/sum/count per minute and per hour. */
export type Resolution = 'raw' | '1m' | '1h';
export const ROLLUP_MS = { '1m': 60_000, '1h': 3_600_000 } as const;
export type Rollup = keyof typeof ROLLUP_MS;

/** Readings to write, one value each, as parallel columns (no object per value on the hot path). */
export interface WriteBatch {
  deviceIds: string[];
  metrics: string[];
  ts: number[];
  values: number[];
}

/** Rows of one series, ascending by `ts`. */
export interface RawRows {
  ts: number[];
  values: number[];
}

/** Rollup rows of one series, ascending by `bucket` (bucket start, ms since epoch). */
export interface RollupRows {
  bucket: number[];
  min: number[];
  minTs: number[];
  max: number[];
  maxTs: number[];
  sum: number[];
  count: number[];
}

export const emptyRawRows = (): RawRows => ({ ts: [], values: [] });
export const emptyRollupRows = (): RollupRows => ({
  bucket: [],
  min: [],
  minTs: [],
  max: [],
  maxTs: [],
  sum: [],
  count: [],
});

/** Columns of `[ts, value]` rows, as the adapters read them. */
export function rawRowsOf(rows: Iterable<unknown>): RawRows {
  const out = emptyRawRows();
  for (const row of rows as Iterable<[number, number]>) {
    out.ts.push(row[0]);
    out.values.push(row[1]);
  }
  return out;
}

/** Columns of `[bucket, min, min_ts, max, max_ts, sum, count]` rows. */
export function rollupRowsOf(rows: Iterable<unknown>): RollupRows {
  const out = emptyRollupRows();
  for (const row of rows as Iterable<number[]>) {
    out.bucket.push(row[0]);
    out.min.push(row[1]);
    out.minTs.push(row[2]);
    out.max.push(row[3]);
    out.maxTs.push(row[4]);
    out.sum.push(row[5]);
    out.count.push(row[6]);
  }
  return out;
}

/**
 * The newest stored reading of each series of some devices, one row per series, as parallel
 * columns: `device[i]` is the index of its device in the ids asked for.
 */
export interface LatestRows {
  device: number[];
  metrics: string[];
  ts: number[];
  values: number[];
}

export const emptyLatestRows = (): LatestRows => ({ device: [], metrics: [], ts: [], values: [] });

/** Timestamps (ms) before which each resolution is deleted. */
export type RetentionCutoffs = Record<Resolution, number>;

/**
 * A durable readings store. A `(device, metric, ts)` already stored keeps its first value
 * (insert-or-ignore: a retry's duplicate is the same reading), and only readings actually
 * inserted count in the rollups, so a redelivery never counts twice.
 */
export interface HistoryStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Writes are applied one at a time in the order they were called (the SQLite store: one
   * connection, its worker answering in order), so the writer may hand over the next batch
   * before the last one returned. Absent: one write at a time.
   */
  readonly writesInOrder?: boolean;
  /** Create or migrate the schema (at boot, before the first write). */
  open(): Promise<void>;
  /** Write a batch in one transaction; resolves with how many readings were new. */
  write(batch: WriteBatch): Promise<number>;
  /** Readings of one series with `from <= ts < to`, at most `limit` (the oldest first). */
  readRaw(
    deviceId: string,
    metric: string,
    from: number,
    to: number,
    limit: number,
  ): Promise<RawRows>;
  /** Rollup rows of one series with `from <= bucket < to`. */
  readRollup(
    resolution: Rollup,
    deviceId: string,
    metric: string,
    from: number,
    to: number,
  ): Promise<RollupRows>;
  /**
   * Optional: {@link HistoryStore.readRollup}'s rows combined in the store into groups `width`
   * ms wide from `origin` (a multiple of the resolution; `origin <= from`), so a long range sends
   * a row per group rather than per minute. Rows in time order, `bucket` inside its group; a group
   * may come in more than one row (the caller folds them, as it folds rollup rows).
   */
  readRollupGroups?(
    resolution: Rollup,
    deviceId: string,
    metric: string,
    from: number,
    to: number,
    origin: number,
    width: number,
  ): Promise<RollupRows>;
  /** Metric names stored for a device. */
  metricsOf(deviceId: string): Promise<string[]>;
  /**
   * The newest raw reading of every series of `deviceIds` (within RETENTION_RAW: a series with
   * only rollups left has no row). What the fleet summary starts from at boot; the caller asks in
   * chunks, so one call stays short.
   */
  latestOf(deviceIds: readonly string[]): Promise<LatestRows>;
  /** Delete what is older than the cutoffs, at most `budget` rows (or partitions) per call. */
  prune(cutoffs: RetentionCutoffs, budget: number): Promise<number>;
  /** PostgreSQL: its background rollup passes that failed (retried by the next). */
  readonly rollups?: { failures: number };
  /** Bytes the store takes (database file or relations), for the benchmark and stats. */
  size(): Promise<number>;
  close(): Promise<void>;
}

/** DI token of the configured {@link HistoryStore}. */
export const HISTORY_STORE = Symbol('HISTORY_STORE');

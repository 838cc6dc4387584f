import type { HistoryStore, RetentionCutoffs, Rollup, RollupRows } from './history-store';
import { emptyRollupRows, ROLLUP_MS } from './history-store';

/*
 * The arithmetic both store adapters share: rollup rows of a written batch, and the plan and
 * bucketing of a downsampled range query. Pure functions over columns (no SQL, no I/O beyond
 * the port's reads), so SQLite and PostgreSQL answer a query with the same points.
 */

/** Most raw rows one series query reads; a denser range is answered from the 1 min rollup. */
export const RAW_READ_LIMIT = 200_000;

/** Rollup rows of one resolution for many series, as parallel columns. */
export interface RollupBatch extends RollupRows {
  seriesId: number[];
}

/**
 * Min (with its ts), max (with its ts), sum and count per (series, bucket) of the readings a
 * write actually inserted. The adapters upsert these into the rollup tables in the same
 * transaction, combining them with what a bucket already holds.
 */
export function rollupOf(
  seriesIds: readonly number[],
  ts: readonly number[],
  values: readonly number[],
  resolution: Rollup,
): RollupBatch {
  const width = ROLLUP_MS[resolution];
  const out: RollupBatch = { seriesId: [], ...emptyRollupRows() };
  const index = new Map<string, number>();
  for (let i = 0; i < ts.length; i++) {
    const bucket = Math.floor(ts[i] / width) * width;
    const key = `${seriesIds[i]}:${bucket}`;
    const value = values[i];
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.bucket.length);
      out.seriesId.push(seriesIds[i]);
      out.bucket.push(bucket);
      out.min.push(value);
      out.minTs.push(ts[i]);
      out.max.push(value);
      out.maxTs.push(ts[i]);
      out.sum.push(value);
      out.count.push(1);
      continue;
    }
    if (value < out.min[at]) {
      out.min[at] = value;
      out.minTs[at] = ts[i];
    }
    if (value > out.max[at]) {
      out.max[at] = value;
      out.maxTs[at] = ts[i];
    }
    out.sum[at] += value;
    out.count[at]++;
  }
  return out;
}

/**
 * The statement that adds rollup rows (from `source`: a VALUES list or a SELECT) to the buckets
 * already stored: min and max keep the timestamp of whichever wins, sum and count add up. Both
 * dialects, given their two-argument min/max functions (SQLite `min`/`max`, PostgreSQL
 * `LEAST`/`GREATEST`); in both, SET expressions read the row as it was before the update.
 */
export function upsertRollupSql(table: string, source: string, least: string, greatest: string) {
  return `
  INSERT INTO ${table} AS r (series_id, bucket, min, min_ts, max, max_ts, sum, count)
  ${source}
  ON CONFLICT (series_id, bucket) DO UPDATE SET
    min_ts = CASE WHEN excluded.min < r.min THEN excluded.min_ts ELSE r.min_ts END,
    min = ${least}(r.min, excluded.min),
    max_ts = CASE WHEN excluded.max > r.max THEN excluded.max_ts ELSE r.max_ts END,
    max = ${greatest}(r.max, excluded.max),
    sum = r.sum + excluded.sum,
    count = r.count + excluded.count`;
}

/**
 * Equal time buckets over a range, each keeping its lowest and its highest point (with their
 * own timestamps), emitted in time order: the same shape as the recent window's `spread`
 * decimation (SeriesBuffer.range), so a chart draws both alike. Bucket edges are multiples of
 * `align` from a multiple of `align`, so a rollup row never straddles two buckets.
 */
class Buckets {
  readonly origin: number;
  readonly width: number;
  private readonly lo = new Map<number, [number, number]>();
  private readonly hi = new Map<number, [number, number]>();
  private readonly order: number[] = [];

  constructor(from: number, to: number, buckets: number, align: number) {
    this.origin = Math.floor(from / align) * align;
    this.width = Math.max(align, Math.ceil((to - this.origin) / buckets / align) * align);
  }

  add(minTs: number, min: number, maxTs: number, max: number, at: number): void {
    const b = Math.floor((at - this.origin) / this.width);
    const lo = this.lo.get(b);
    if (!lo) {
      this.order.push(b);
      this.lo.set(b, [minTs, min]);
      this.hi.set(b, [maxTs, max]);
      return;
    }
    const hi = this.hi.get(b) as [number, number];
    if (min < lo[1]) this.lo.set(b, [minTs, min]);
    if (max > hi[1]) this.hi.set(b, [maxTs, max]);
  }

  result(): { t: number[]; v: number[] } {
    const t: number[] = [];
    const v: number[] = [];
    // Reads arrive in time order (head raw, rollups, tail raw), so buckets are already sorted.
    for (const b of this.order) {
      const lo = this.lo.get(b) as [number, number];
      const hi = this.hi.get(b) as [number, number];
      const [first, second] = lo[0] <= hi[0] ? [lo, hi] : [hi, lo];
      t.push(first[0]);
      v.push(first[1]);
      if (second[0] !== first[0]) {
        t.push(second[0]);
        v.push(second[1]);
      }
    }
    return { t, v };
  }
}

/** The finest resolution whose buckets are not finer than the query's and still retained. */
export function resolutionFor(
  from: number,
  to: number,
  buckets: number,
  cutoffs?: RetentionCutoffs,
): 'raw' | Rollup {
  const width = (to - from) / buckets;
  if (width < ROLLUP_MS['1m'] && (!cutoffs || from >= cutoffs.raw)) return 'raw';
  if (width < ROLLUP_MS['1h'] && (!cutoffs || from >= cutoffs['1m'])) return '1m';
  return '1h';
}

/**
 * One series over `from <= ts < to`, at most `maxPoints` points: every reading when there are
 * that few, else min and max of `maxPoints / 2` equal time buckets, read from the coarsest
 * resolution that still gives each bucket at least one row (rollups for long ranges; raw rows
 * for the partial rollup buckets at both ends, so the range is exact at its edges).
 */
export async function downsample(
  store: HistoryStore,
  deviceId: string,
  metric: string,
  from: number,
  to: number,
  maxPoints: number,
  cutoffs?: RetentionCutoffs,
): Promise<{ t: number[]; v: number[] }> {
  if (to <= from) return { t: [], v: [] };
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  let resolution = resolutionFor(from, to, buckets, cutoffs);
  if (resolution === 'raw') {
    const rows = await store.readRaw(deviceId, metric, from, to, RAW_READ_LIMIT + 1);
    if (rows.ts.length <= maxPoints) return { t: rows.ts, v: rows.values };
    if (rows.ts.length <= RAW_READ_LIMIT) {
      const out = new Buckets(from, to, buckets, 1);
      for (let i = 0; i < rows.ts.length; i++) {
        const [t, v] = [rows.ts[i], rows.values[i]];
        out.add(t, v, t, v, t);
      }
      return out.result();
    }
    resolution = '1m'; // too dense to read raw: the minute rollup bounds the work
  }
  const size = ROLLUP_MS[resolution];
  const first = Math.ceil(from / size) * size;
  const last = Math.max(first, Math.floor(to / size) * size);
  const out = new Buckets(from, to, buckets, size);
  const addRaw = async (a: number, b: number) => {
    if (b <= a) return;
    const rows = await store.readRaw(deviceId, metric, a, b, RAW_READ_LIMIT);
    for (let i = 0; i < rows.ts.length; i++) {
      const [t, v] = [rows.ts[i], rows.values[i]];
      out.add(t, v, t, v, t);
    }
  };
  await addRaw(from, Math.min(first, to));
  // A store that can group rollup rows itself sends one row per output bucket, not per minute.
  const rows = store.readRollupGroups
    ? await store.readRollupGroups(resolution, deviceId, metric, first, last, out.origin, out.width)
    : await store.readRollup(resolution, deviceId, metric, first, last);
  for (let i = 0; i < rows.bucket.length; i++)
    out.add(rows.minTs[i], rows.min[i], rows.maxTs[i], rows.max[i], rows.bucket[i]);
  await addRaw(Math.max(last, from), to);
  return out.result();
}

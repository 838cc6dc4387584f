import type { RollupRows } from './history-store';
import { ROLLUP_MS } from './history-store';

/*
 * The newest minute of each series, aggregated in memory instead of upserted into the rollup
 * tables by every flush that touches it (with many series at 1 reading/s that was two upserts
 * per value, most of a SQLite flush's cost; docs/decisions/0021, addendum). A minute is written
 * once, when a reading of a later minute of its series arrives (or at close), to `history_1m`
 * and added to its hour in `history_1h`; a reading of an older minute is written at once.
 * Pure arithmetic over one map: owns which minute each series holds; must not know SQL (the
 * adapter writes what {@link HeldMinutes.add} hands back, and merges {@link HeldMinutes.of}
 * into what it reads, so a query never misses a held minute).
 */

/** One rollup row of one series. */
export interface Aggregate {
  seriesId: number;
  bucket: number;
  min: number;
  minTs: number;
  max: number;
  maxTs: number;
  sum: number;
  count: number;
}

const MINUTE = ROLLUP_MS['1m'];
const HOUR = ROLLUP_MS['1h'];

export const minuteOf = (ts: number) => Math.floor(ts / MINUTE) * MINUTE;
export const hourOf = (ts: number) => Math.floor(ts / HOUR) * HOUR;

export function single(seriesId: number, bucket: number, ts: number, value: number): Aggregate {
  return { seriesId, bucket, min: value, minTs: ts, max: value, maxTs: ts, sum: value, count: 1 };
}

/** Fold `b` into `a` (same series; `a.bucket` is kept). */
export function fold(a: Aggregate, b: Omit<Aggregate, 'seriesId' | 'bucket'>): Aggregate {
  if (b.min < a.min) {
    a.min = b.min;
    a.minTs = b.minTs;
  }
  if (b.max > a.max) {
    a.max = b.max;
    a.maxTs = b.maxTs;
  }
  a.sum += b.sum;
  a.count += b.count;
  return a;
}

/** Row `i` of rollup columns. */
const rowAt = (rows: RollupRows, i: number) => ({
  min: rows.min[i],
  minTs: rows.minTs[i],
  max: rows.max[i],
  maxTs: rows.maxTs[i],
  sum: rows.sum[i],
  count: rows.count[i],
});

/** Aggregate of rollup rows (or of raw rows as one-value aggregates). */
export function foldRows(seriesId: number, bucket: number, rows: RollupRows): Aggregate | null {
  let out: Aggregate | null = null;
  for (let i = 0; i < rows.bucket.length; i++) {
    const row = rowAt(rows, i);
    out = out ? fold(out, row) : { seriesId, bucket, ...row };
  }
  return out;
}

/**
 * Bounded by the number of series (one entry each), which the registry and the metric limit
 * bound.
 */
export class HeldMinutes {
  private readonly held = new Map<number, Aggregate>();
  /**
   * Per series not held yet, the newest minute already in the store (set by the adapter's
   * repair): a reading of that minute or an earlier one is written at once, since only the
   * newest minute of a series may be held (that is all a repair recomputes).
   */
  private readonly stored = new Map<number, number>();

  /** The store already holds `minute` of the series, complete, as its newest. */
  seed(seriesId: number, minute: number): void {
    this.stored.set(seriesId, minute);
  }

  /**
   * Account one inserted reading. Returns what must be written now: the series' previous
   * minute when this reading starts a later one, or this reading alone when it belongs to an
   * earlier (already written) minute; else null (held).
   */
  add(seriesId: number, ts: number, value: number): Aggregate | null {
    const bucket = minuteOf(ts);
    const held = this.held.get(seriesId);
    if (!held) {
      const stored = this.stored.get(seriesId);
      if (stored !== undefined && bucket <= stored) return single(seriesId, bucket, ts, value);
      this.stored.delete(seriesId);
      this.held.set(seriesId, single(seriesId, bucket, ts, value));
      return null;
    }
    if (bucket === held.bucket) {
      fold(held, single(seriesId, bucket, ts, value));
      return null;
    }
    if (bucket < held.bucket) return single(seriesId, bucket, ts, value);
    this.held.set(seriesId, single(seriesId, bucket, ts, value));
    return held;
  }

  /** The minute held for a series, if any. */
  of(seriesId: number): Aggregate | undefined {
    return this.held.get(seriesId);
  }

  /** Every held minute, taken out (to write at close). */
  drain(): Aggregate[] {
    const all = [...this.held.values()];
    this.held.clear();
    this.stored.clear();
    return all;
  }

  get size(): number {
    return this.held.size;
  }
}

/**
 * `rows` (ascending by bucket) with `extra` folded in at its bucket (inserted in order when
 * absent), when that bucket is within `[from, to)`: what a read returns with a held minute.
 */
export function withAggregate(
  rows: RollupRows,
  extra: Aggregate,
  from: number,
  to: number,
): RollupRows {
  if (extra.bucket < from || extra.bucket >= to) return rows;
  let i = rows.bucket.length;
  while (i > 0 && rows.bucket[i - 1] > extra.bucket) i--;
  if (i > 0 && rows.bucket[i - 1] === extra.bucket) {
    const at = i - 1;
    const merged = fold(
      { seriesId: extra.seriesId, bucket: extra.bucket, ...rowAt(rows, at) },
      extra,
    );
    rows.min[at] = merged.min;
    rows.minTs[at] = merged.minTs;
    rows.max[at] = merged.max;
    rows.maxTs[at] = merged.maxTs;
    rows.sum[at] = merged.sum;
    rows.count[at] = merged.count;
    return rows;
  }
  rows.bucket.splice(i, 0, extra.bucket);
  rows.min.splice(i, 0, extra.min);
  rows.minTs.splice(i, 0, extra.minTs);
  rows.max.splice(i, 0, extra.max);
  rows.maxTs.splice(i, 0, extra.maxTs);
  rows.sum.splice(i, 0, extra.sum);
  rows.count.splice(i, 0, extra.count);
  return rows;
}

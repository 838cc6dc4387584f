import { type Point, type SeriesView, putPoint } from './window-projection';
import { EMPTY_STATS, WindowStats } from './window-stats';

/*
 * A long window's points as the chart draws them: fixed-width time buckets (on multiples of
 * the width), each holding its lowest and highest reading with their times, in a ring sized
 * to the window, so a chart left open for weeks holds the same number of buckets. Both the
 * downsampled range from the gateway and the live readings are folded in the same way (a
 * min/max fold: folding a point twice changes nothing). Pure data; it must not fetch, draw
 * or read the clock.
 */

/** A bucketed window as drawn: three index-aligned point arrays. */
export interface BandPoints {
  mid: Point[];
  hi: Point[];
  lo: Point[];
}

export interface BucketProjection {
  /** Over the buckets in the window: `count` buckets, min / max of their readings; no average. */
  stats: WindowStats;
  /** Time of the first bucket after the newest gap in the window, or 0. */
  lastGapEnd: number;
}

export class BucketSeries {
  private readonly key: Float64Array;
  private readonly lo: Float64Array;
  private readonly loTs: Float64Array;
  private readonly hi: Float64Array;
  private readonly hiTs: Float64Array;
  /** Newest bucket number held (bucket k covers [k × bucketMs, (k + 1) × bucketMs)). */
  private newestKey = -Infinity;

  /**
   * @param bucketMs bucket width
   * @param capacity buckets held: the newest and the `capacity - 1` before it
   */
  constructor(
    readonly bucketMs: number,
    readonly capacity: number,
  ) {
    this.key = new Float64Array(capacity).fill(NaN);
    this.lo = new Float64Array(capacity);
    this.loTs = new Float64Array(capacity);
    this.hi = new Float64Array(capacity);
    this.hiTs = new Float64Array(capacity);
  }

  /** Add one reading to its bucket; false when it changed nothing (or is older than the ring). */
  fold(t: number, v: number): boolean {
    if (!Number.isFinite(t) || !Number.isFinite(v)) return false;
    const k = Math.floor(t / this.bucketMs);
    if (k <= this.newestKey - this.capacity) return false;
    if (k > this.newestKey) this.newestKey = k;
    const slot = k % this.capacity;
    if (this.key[slot] !== k) {
      this.key[slot] = k;
      this.lo[slot] = this.hi[slot] = v;
      this.loTs[slot] = this.hiTs[slot] = t;
      return true;
    }
    let changed = false;
    if (v < this.lo[slot] || (v === this.lo[slot] && t < this.loTs[slot])) {
      this.lo[slot] = v;
      this.loTs[slot] = t;
      changed = true;
    }
    if (v > this.hi[slot] || (v === this.hi[slot] && t > this.hiTs[slot])) {
      this.hi[slot] = v;
      this.hiTs[slot] = t;
      changed = true;
    }
    return changed;
  }

  /** Fold every point of `t`/`v` (a downsampled answer); true if anything changed. */
  foldAll(t: ArrayLike<number>, v: ArrayLike<number>): boolean {
    let changed = false;
    const n = Math.min(t.length, v.length);
    for (let i = 0; i < n; i++) changed = this.fold(t[i], v[i]) || changed;
    return changed;
  }

  /**
   * Fold the points of `series` from `fromTs` on (the live edge); returns the newest time
   * folded (pass it back next time: the point at it is folded again, which changes nothing).
   */
  foldFrom(series: SeriesView, fromTs: number): number {
    let newest = fromTs;
    for (let i = series.lowerBound(fromTs); i < series.size; i++) {
      const t = series.tAt(i);
      this.fold(t, series.vAt(i));
      if (t > newest) newest = t;
    }
    return newest;
  }

  /**
   * Write the buckets of the window `[min, max]` (and the one before, so the line enters from
   * the edge) into `mid` (the middle of each bucket's range), `hi` and `lo` (its highest and
   * lowest reading: the band), index-aligned and reusing the objects. A bucket's x lies between
   * its lowest and highest reading in time, so a bucket of one reading draws it where it is.
   */
  project(min: number, max: number, gapMs: number, out: BandPoints): BucketProjection {
    let n = 0;
    let count = 0;
    let lo = Infinity;
    let hi = -Infinity;
    let gaps = 0;
    let lastGapEnd = 0;
    let prevX = NaN;
    const firstKey = Math.floor(min / this.bucketMs) - 1;
    const lastKey = Math.min(this.newestKey, Math.floor(max / this.bucketMs));
    for (let k = Math.max(firstKey, this.newestKey - this.capacity + 1); k <= lastKey; k++) {
      const slot = k % this.capacity;
      if (this.key[slot] !== k) continue;
      const x = (this.loTs[slot] + this.hiTs[slot]) / 2;
      const bLo = this.lo[slot];
      const bHi = this.hi[slot];
      if ((k + 1) * this.bucketMs > min) {
        count++;
        if (bLo < lo) lo = bLo;
        if (bHi > hi) hi = bHi;
        if (x - prevX > gapMs) {
          gaps++;
          lastGapEnd = x;
        }
      }
      prevX = x;
      putPoint(out.mid, n, x, (bLo + bHi) / 2);
      putPoint(out.hi, n, x, bHi);
      n = putPoint(out.lo, n, x, bLo);
    }
    out.mid.length = out.hi.length = out.lo.length = n;
    const stats: WindowStats = count
      ? { count, min: lo, max: hi, avg: null, gaps }
      : { ...EMPTY_STATS };
    return { stats, lastGapEnd };
  }
}

/*
 * One metric's points, bounded and sorted by time: the series primitive of the gateway's
 * history and of the dashboard's charts (which add a change counter on top). Owns the ring of
 * points and the operations on it (insert in order, merge a sorted column, prune, resize,
 * ranges); it must not know about devices, clocks or who reads it.
 */

/**
 * A ring buffer of (ts, value) pairs kept sorted by ts, on two typed arrays
 * that grow by doubling up to `maxPoints` (most gateway series never fill up,
 * so they do not pay 16 bytes × maxPoints up front; a chart allocates its
 * capacity at once with `initialCapacity` = `maxPoints`).
 *
 * Appends in order are O(1) and allocation free once grown; when full, the
 * oldest point is dropped. A point older than the newest one (an out-of-order
 * or late batch, history merged after a reconnect) is inserted at its place
 * found by binary search (shifting the newer points by one). A point with a ts
 * already present replaces that point's value, so a QoS 1 redelivery or
 * overlapping history and live data never add a duplicate.
 */
export class SeriesBuffer {
  private t: Float64Array;
  private v: Float64Array;
  private head = 0;
  private count = 0;
  private max: number;
  /** Arrays sized to `maxPoints` from the start (and on resize). */
  private readonly preallocated: boolean;

  constructor(maxPoints: number, initialCapacity = 64) {
    if (!(maxPoints >= 1)) throw new RangeError(`capacity ${maxPoints} must be >= 1`);
    this.max = maxPoints;
    this.preallocated = initialCapacity >= maxPoints;
    const capacity = Math.max(1, Math.min(initialCapacity, maxPoints));
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  /** Most points held; the oldest is dropped beyond it. */
  get maxPoints(): number {
    return this.max;
  }

  get size(): number {
    return this.count;
  }

  /** Timestamp of the i-th oldest point (0 <= i < size). */
  tAt(i: number): number {
    return this.t[this.physical(i)];
  }

  /** Value of the i-th oldest point (0 <= i < size). */
  vAt(i: number): number {
    return this.v[this.physical(i)];
  }

  /** Highest ts held, or -Infinity when empty. */
  get newest(): number {
    return this.count === 0 ? -Infinity : this.t[this.physical(this.count - 1)];
  }

  /** Lowest ts held, or Infinity when empty. */
  get oldest(): number {
    return this.count === 0 ? Infinity : this.t[this.head];
  }

  /**
   * Insert one point. Returns the change in the number of points held
   * (1 added, 0 replaced or refused, or -n when `windowMs` pruned old ones).
   */
  insert(ts: number, value: number, windowMs = Infinity): number {
    const before = this.count;
    const newest = this.newest;
    if (ts < newest - windowMs) return 0; // already outside the window
    this.put(ts, value);
    if (ts > newest) this.pruneBefore(ts - windowMs);
    return this.count - before;
  }

  /**
   * Add one point, or replace the value at its ts. Returns whether anything changed
   * (false: the same value again, or older than everything in a full buffer).
   */
  put(ts: number, value: number): boolean {
    if (this.count > 0 && ts <= this.newest) {
      const at = this.lowerBound(ts);
      if (at < this.count && this.t[this.physical(at)] === ts) {
        const slot = this.physical(at);
        if (this.v[slot] === value) return false;
        this.v[slot] = value;
        return true;
      }
      if (this.count === this.max) {
        if (at === 0) return false; // older than everything in a full buffer
        this.dropOldest(1);
        this.insertAt(at - 1, ts, value);
      } else {
        this.ensureRoom();
        this.insertAt(at, ts, value);
      }
      return true;
    }
    this.append(ts, value);
    return true;
  }

  /** Merge a column sorted by ts (history); on equal timestamps the merged value wins. */
  merge(ts: ArrayLike<number>, values: ArrayLike<number>): void {
    const n = Math.min(ts.length, values.length);
    if (n === 0) return;
    if (this.count === 0 || ts[0] > this.newest) {
      // Common case: history strictly after what is held (or nothing held).
      for (let i = Math.max(0, n - this.max); i < n; i++) this.append(ts[i], values[i]);
      return;
    }
    // Overlap: merge both sorted columns.
    const total = this.count + n;
    const mt = new Float64Array(total);
    const mv = new Float64Array(total);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < this.count || j < n) {
      const takeNew = i >= this.count || (j < n && ts[j] <= this.tAt(i));
      const pt = takeNew ? ts[j] : this.tAt(i);
      const pv = takeNew ? values[j] : this.vAt(i);
      if (takeNew) {
        if (i < this.count && this.tAt(i) === pt) i++; // same instant: the merged value replaces ours
        j++;
      } else i++;
      if (k > 0 && mt[k - 1] === pt) mv[k - 1] = pv;
      else {
        mt[k] = pt;
        mv[k] = pv;
        k++;
      }
    }
    const keep = Math.min(k, this.max);
    this.replace(mt.subarray(k - keep, k), mv.subarray(k - keep, k), keep);
  }

  /** Change `maxPoints`, keeping the newest points. Returns whether it changed. */
  resize(maxPoints: number): boolean {
    if (maxPoints === this.max || !(maxPoints >= 1)) return false;
    const keep = Math.min(this.count, maxPoints);
    const t = new Float64Array(keep);
    const v = new Float64Array(keep);
    for (let i = 0; i < keep; i++) {
      t[i] = this.tAt(this.count - keep + i);
      v[i] = this.vAt(this.count - keep + i);
    }
    this.max = maxPoints;
    this.replace(t, v, keep);
    return true;
  }

  /** Drop points with ts < minTs. Returns how many were dropped. */
  pruneBefore(minTs: number): number {
    if (this.count === 0 || this.t[this.head] >= minTs) return 0;
    const n = this.lowerBound(minTs);
    this.dropOldest(n);
    return n;
  }

  /**
   * Points with from <= ts <= to, ascending. When there are more than `maxPoints`, `pick`
   * chooses which: `latest` (default) returns the most recent `maxPoints` (the client can page
   * back with `to`); `spread` covers the whole range, decimated: the range is cut into
   * maxPoints / 2 buckets of equal point counts and each gives its lowest and highest point,
   * in time order (a chart of the range keeps its shape and its spikes).
   */
  range(
    from: number,
    to: number,
    maxPoints = Infinity,
    pick: 'latest' | 'spread' = 'latest',
  ): { t: number[]; v: number[] } {
    let start = this.lowerBound(from);
    const end = this.upperBound(to);
    if (end - start > maxPoints) {
      if (pick === 'spread' && maxPoints >= 2)
        return this.decimate(start, end, Math.floor(maxPoints / 2));
      start = end - maxPoints;
    }
    const n = Math.max(0, end - start);
    const t = new Array<number>(n);
    const v = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const slot = this.physical(start + i);
      t[i] = this.t[slot];
      v[i] = this.v[slot];
    }
    return { t, v };
  }

  /** Min and max of each of `buckets` equal slices of [start, end), in time order. */
  private decimate(start: number, end: number, buckets: number): { t: number[]; v: number[] } {
    const t: number[] = [];
    const v: number[] = [];
    const n = end - start;
    for (let b = 0; b < buckets; b++) {
      const from = start + Math.floor((b * n) / buckets);
      const until = start + Math.floor(((b + 1) * n) / buckets);
      if (until <= from) continue;
      let lo = from;
      let hi = from;
      for (let i = from + 1; i < until; i++) {
        const value = this.v[this.physical(i)];
        if (value < this.v[this.physical(lo)]) lo = i;
        if (value > this.v[this.physical(hi)]) hi = i;
      }
      const first = Math.min(lo, hi);
      const second = Math.max(lo, hi);
      t.push(this.t[this.physical(first)]);
      v.push(this.v[this.physical(first)]);
      if (second !== first) {
        t.push(this.t[this.physical(second)]);
        v.push(this.v[this.physical(second)]);
      }
    }
    return { t, v };
  }

  private physical(logical: number): number {
    const slot = this.head + logical;
    return slot >= this.t.length ? slot - this.t.length : slot;
  }

  /** First logical index whose ts >= value (binary search). */
  lowerBound(value: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[this.physical(mid)] < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First logical index whose ts > value. */
  private upperBound(value: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[this.physical(mid)] <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Append after the newest point, dropping the oldest when full. */
  private append(ts: number, value: number): void {
    if (this.count === this.max) this.dropOldest(1);
    else this.ensureRoom();
    const slot = this.physical(this.count);
    this.t[slot] = ts;
    this.v[slot] = value;
    this.count++;
  }

  /** Hold exactly these `n` sorted points, in arrays sized for `maxPoints` when preallocated. */
  private replace(t: Float64Array, v: Float64Array, n: number): void {
    const capacity = Math.max(1, this.preallocated ? this.max : n);
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
    this.t.set(t.subarray(0, n));
    this.v.set(v.subarray(0, n));
    this.head = 0;
    this.count = n;
  }

  private dropOldest(n: number): void {
    this.head = this.physical(n);
    this.count -= n;
    if (this.count === 0) this.head = 0;
  }

  /** Make room for one more point, doubling the arrays (never beyond maxPoints). */
  private ensureRoom(): void {
    if (this.count < this.t.length) return;
    const capacity = Math.min(this.t.length * 2, this.max);
    const t = new Float64Array(capacity);
    const v = new Float64Array(capacity);
    for (let i = 0; i < this.count; i++) {
      const slot = this.physical(i);
      t[i] = this.t[slot];
      v[i] = this.v[slot];
    }
    this.t = t;
    this.v = v;
    this.head = 0;
  }

  /** Insert at logical index `at` (room is guaranteed), shifting later points up by one. */
  private insertAt(at: number, ts: number, value: number): void {
    for (let i = this.count; i > at; i--) {
      const to = this.physical(i);
      const from = this.physical(i - 1);
      this.t[to] = this.t[from];
      this.v[to] = this.v[from];
    }
    const slot = this.physical(at);
    this.t[slot] = ts;
    this.v[slot] = value;
    this.count++;
  }
}

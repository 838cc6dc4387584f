/**
 * One metric's history: a ring buffer of (ts, value) pairs kept sorted by ts,
 * on two typed arrays that grow by doubling up to `maxPoints` (most series
 * never fill up, so we do not pay 16 bytes × maxPoints up front).
 *
 * Appends in order are O(1). A reading older than the newest one (an
 * out-of-order or late batch) is inserted at its place found by binary search
 * (shifting the newer points by one). A reading with a ts already present
 * replaces that point's value, so a QoS 1 redelivery does not add a duplicate.
 */
export class SeriesBuffer {
  private t: Float64Array;
  private v: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    readonly maxPoints: number,
    initialCapacity = 64,
  ) {
    const capacity = Math.max(1, Math.min(initialCapacity, maxPoints));
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
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

    if (this.count > 0 && ts <= newest) {
      const at = this.lowerBound(ts);
      if (at < this.count && this.t[this.physical(at)] === ts) {
        this.v[this.physical(at)] = value;
        return 0;
      }
      if (this.count === this.maxPoints) {
        if (at === 0) return 0; // older than everything in a full buffer
        this.dropOldest(1);
        this.insertAt(at - 1, ts, value);
      } else {
        this.ensureRoom();
        this.insertAt(at, ts, value);
      }
    } else {
      if (this.count === this.maxPoints) this.dropOldest(1);
      else this.ensureRoom();
      const slot = this.physical(this.count);
      this.t[slot] = ts;
      this.v[slot] = value;
      this.count++;
      if (ts > newest) this.pruneBefore(ts - windowMs);
    }
    return this.count - before;
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

  /** First logical index whose ts >= value. */
  private lowerBound(value: number): number {
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

  private dropOldest(n: number): void {
    this.head = this.physical(n);
    this.count -= n;
    if (this.count === 0) this.head = 0;
  }

  /** Make room for one more point, doubling the arrays (never beyond maxPoints). */
  private ensureRoom(): void {
    if (this.count < this.t.length) return;
    const capacity = Math.min(this.t.length * 2, this.maxPoints);
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

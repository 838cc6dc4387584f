/**
 * A bounded, time-ordered column of one metric of one device.
 *
 * Ring buffer over two Float64Arrays: appends are O(1) and allocation free
 * (the hot path), the oldest point is dropped when full, so memory is fixed
 * by the capacity whatever the uptime. Out-of-order points (history merged
 * after a reconnect) are inserted in place; a point with the same timestamp
 * replaces the old one, so overlapping history and live data never duplicate.
 */
export class SeriesBuffer {
  private t: Float64Array;
  private v: Float64Array;
  private head = 0;
  private size = 0;
  /** Bumped on every change; drawers compare it to skip unchanged series. */
  version = 0;

  constructor(private cap: number) {
    if (!(cap >= 1)) throw new RangeError(`capacity ${cap} must be >= 1`);
    this.t = new Float64Array(cap);
    this.v = new Float64Array(cap);
  }

  get length(): number {
    return this.size;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Timestamp of the i-th oldest point. */
  tAt(i: number): number {
    return this.t[(this.head + i) % this.cap];
  }

  vAt(i: number): number {
    return this.v[(this.head + i) % this.cap];
  }

  get firstTs(): number | null {
    return this.size ? this.tAt(0) : null;
  }

  get lastTs(): number | null {
    return this.size ? this.tAt(this.size - 1) : null;
  }

  get lastValue(): number | null {
    return this.size ? this.vAt(this.size - 1) : null;
  }

  /** Add one point; returns false if it was older than everything kept in a full buffer. */
  push(ts: number, value: number): boolean {
    const last = this.lastTs;
    if (last === null || ts > last) {
      this.append(ts, value);
      this.version++;
      return true;
    }
    const changed = this.insert(ts, value);
    if (changed) this.version++;
    return changed;
  }

  /** Merge a sorted column (history from an acknowledgement). */
  merge(ts: ArrayLike<number>, values: ArrayLike<number>): void {
    const n = Math.min(ts.length, values.length);
    if (n === 0) return;
    const last = this.lastTs;
    if (last === null || ts[0] > last) {
      // Common case: history strictly after what we hold (or nothing held).
      const from = Math.max(0, n - this.cap);
      for (let i = from; i < n; i++) this.append(ts[i], values[i]);
      this.version++;
      return;
    }
    // Overlap: merge both sorted columns, newest wins on equal timestamps.
    const total = this.size + n;
    const mt = new Float64Array(total);
    const mv = new Float64Array(total);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < this.size || j < n) {
      let takeNew: boolean;
      if (i >= this.size) takeNew = true;
      else if (j >= n) takeNew = false;
      else takeNew = ts[j] <= this.tAt(i);
      const pt = takeNew ? ts[j] : this.tAt(i);
      const pv = takeNew ? values[j] : this.vAt(i);
      if (takeNew) {
        if (i < this.size && this.tAt(i) === pt) i++; // same instant: the merged value replaces ours
        j++;
      } else {
        i++;
      }
      if (k > 0 && mt[k - 1] === pt) mv[k - 1] = pv;
      else {
        mt[k] = pt;
        mv[k] = pv;
        k++;
      }
    }
    this.head = 0;
    this.size = 0;
    for (let x = Math.max(0, k - this.cap); x < k; x++) this.append(mt[x], mv[x]);
    this.version++;
  }

  /** Index of the first point with `t >= ts` (binary search). */
  lowerBound(ts: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tAt(mid) < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drop points older than `ts`. */
  trimBefore(ts: number): void {
    const drop = this.lowerBound(ts);
    if (drop === 0) return;
    this.head = (this.head + drop) % this.cap;
    this.size -= drop;
    this.version++;
  }

  /** Change the capacity, keeping the newest points. */
  resize(cap: number): void {
    if (cap === this.cap || !(cap >= 1)) return;
    const keep = Math.min(this.size, cap);
    const t = new Float64Array(cap);
    const v = new Float64Array(cap);
    for (let i = 0; i < keep; i++) {
      t[i] = this.tAt(this.size - keep + i);
      v[i] = this.vAt(this.size - keep + i);
    }
    this.t = t;
    this.v = v;
    this.cap = cap;
    this.head = 0;
    this.size = keep;
    this.version++;
  }

  private append(ts: number, value: number): void {
    if (this.size < this.cap) {
      const at = (this.head + this.size) % this.cap;
      this.t[at] = ts;
      this.v[at] = value;
      this.size++;
    } else {
      this.t[this.head] = ts;
      this.v[this.head] = value;
      this.head = (this.head + 1) % this.cap;
    }
  }

  private insert(ts: number, value: number): boolean {
    const at = this.lowerBound(ts);
    if (at < this.size && this.tAt(at) === ts) {
      const idx = (this.head + at) % this.cap;
      if (this.v[idx] === value) return false;
      this.v[idx] = value;
      return true;
    }
    if (this.size === this.cap) {
      if (at === 0) return false; // older than the oldest kept point of a full buffer
      // Drop the oldest, then shift the points before `at` one slot left.
      for (let i = 0; i < at - 1; i++) {
        const to = (this.head + i) % this.cap;
        const from = (this.head + i + 1) % this.cap;
        this.t[to] = this.t[from];
        this.v[to] = this.v[from];
      }
      const idx = (this.head + at - 1) % this.cap;
      this.t[idx] = ts;
      this.v[idx] = value;
      return true;
    }
    // Shift the points from `at` one slot right.
    for (let i = this.size; i > at; i--) {
      const to = (this.head + i) % this.cap;
      const from = (this.head + i - 1) % this.cap;
      this.t[to] = this.t[from];
      this.v[to] = this.v[from];
    }
    const idx = (this.head + at) % this.cap;
    this.t[idx] = ts;
    this.v[idx] = value;
    this.size++;
    return true;
  }
}

/** Number of gaps longer than `gapMs` between `fromTs` and the last point. */
export function countGaps(buffer: SeriesBuffer, fromTs: number, gapMs: number): number {
  let gaps = 0;
  const start = buffer.lowerBound(fromTs);
  for (let i = start + 1; i < buffer.length; i++) {
    if (buffer.tAt(i) - buffer.tAt(i - 1) > gapMs) gaps++;
  }
  return gaps;
}

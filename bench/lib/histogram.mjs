// Latency measurement shared by the load workers (which record) and the orchestrator (which
// merges and reports): a bounded 1 ms-bucket histogram, its sparse IPC form, and the scan that
// finds every `"ts":<digits>` in a frame without JSON.parse. Pure functions and data, no I/O;
// must not know about processes, clients or scenarios.

/** Latency histogram with 1 ms buckets up to 60 s (bounded memory, exact enough for p50/p99). */
export class Histogram {
  constructor(maxMs = 60000) {
    this.buckets = new Uint32Array(maxMs + 1);
    this.count = 0;
    this.max = 0;
  }
  record(ms) {
    const v = ms < 0 ? 0 : ms > this.buckets.length - 1 ? this.buckets.length - 1 : Math.round(ms);
    this.buckets[v]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  merge(other) {
    for (let i = 0; i < this.buckets.length; i++) this.buckets[i] += other.buckets[i];
    this.count += other.count;
    this.max = Math.max(this.max, other.max);
  }
  percentile(p) {
    if (this.count === 0) return null;
    const target = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i];
      if (seen >= target) return i;
    }
    return this.buckets.length - 1;
  }
  toJSON() {
    return {
      count: this.count,
      p50: this.percentile(50),
      p99: this.percentile(99),
      max: Math.round(this.max),
    };
  }
}

/** Sparse form of a histogram, cheap to send over IPC: [[ms, count], ...] + max. */
export function histogramToSparse(h) {
  const pairs = [];
  for (let i = 0; i < h.buckets.length; i++) if (h.buckets[i]) pairs.push([i, h.buckets[i]]);
  return { pairs, count: h.count, max: h.max };
}

export function histogramFromSparse(list) {
  const h = new Histogram();
  for (const s of list) {
    if (!s) continue;
    for (const [ms, n] of s.pairs) h.buckets[ms] += n;
    h.count += s.count;
    h.max = Math.max(h.max, s.max);
  }
  return h;
}

const TS_NEEDLE = Buffer.from('"ts":');

/**
 * Finds every `"ts":<digits>` in buf[start, end) without JSON.parse, records
 * now - ts in the histogram and returns how many it found (= readings, since
 * each reading carries exactly one ts and nothing else in the frame does).
 */
export let lastScanTs = 0;

/** A client's per-device newest ts, for telling duplicates and reorders apart from deliveries. */
export function orderTracker() {
  return { last: new Float64Array(MAX_DEVICE_NUMBER + 1), duplicates: 0, outOfOrder: 0, parsed: 0 };
}
const MAX_DEVICE_NUMBER = 9999;

/**
 * The bench device's number right before `i` (the `"ts":` of a reading laid out as
 * `"deviceId":"bench-042","ts":`), or -1 when the frame is laid out otherwise.
 */
function deviceNumberBefore(buf, i) {
  if (buf[i - 1] !== 0x2c /* , */ || buf[i - 2] !== 0x22 /* " */) return -1;
  let k = i - 3;
  let v = 0;
  let scale = 1;
  for (let c = buf[k]; c >= 48 && c <= 57 && scale <= 1000; c = buf[--k]) {
    v += (c - 48) * scale;
    scale *= 10;
  }
  return scale === 1 || buf[k] !== 0x2d /* - */ ? -1 : v;
}

/**
 * Finds every `"ts":<digits>` in buf[start, end) without JSON.parse, records now - ts in the
 * histogram and returns how many readings it found (each reading carries exactly one ts and
 * nothing else in the frame does). With `order`, a reading whose device already had this ts is a
 * duplicate (not counted as delivered) and one older than its device's newest is out of order.
 */
export function scanTs(buf, start, end, now, histogram, order) {
  let n = 0;
  let i = buf.indexOf(TS_NEEDLE, start);
  while (i !== -1 && i < end) {
    let j = i + 5;
    let v = 0;
    for (let c = buf[j]; c >= 48 && c <= 57; c = buf[++j]) v = v * 10 + (c - 48);
    let duplicate = false;
    if (order) {
      const device = deviceNumberBefore(buf, i);
      if (device >= 0) {
        order.parsed++;
        const last = order.last[device];
        if (v === last) duplicate = true;
        else if (v < last) order.outOfOrder++;
        else order.last[device] = v;
      }
    }
    if (duplicate) order.duplicates++;
    else {
      if (histogram) histogram.record(now - v);
      n++;
    }
    lastScanTs = v;
    i = buf.indexOf(TS_NEEDLE, j);
  }
  return n;
}

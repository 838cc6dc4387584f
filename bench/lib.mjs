// Small helpers shared by the benchmark processes: free ports, process stats from /proc,
// a bounded latency histogram. Plain Node, no dependencies.
import net from 'node:net';
import fs from 'node:fs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  check,
  { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {},
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const CLK_TCK = 100; // Linux USER_HZ; getconf CLK_TCK is 100 on every x86_64 distribution we run

/** CPU seconds (user+system) and RSS bytes of a process, read from /proc. */
export function procStats(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    return { cpu, rss };
  } catch {
    return { cpu: 0, rss: 0 };
  }
}

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

/** Busy jiffies and total jiffies of the whole machine (first line of /proc/stat). */
export function machineStats() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

const TS_NEEDLE = Buffer.from('"ts":');

/**
 * Finds every `"ts":<digits>` in buf[start, end) without JSON.parse, records
 * now - ts in the histogram and returns how many it found (= readings, since
 * each reading carries exactly one ts and nothing else in the frame does).
 */
export let lastScanTs = 0;
export function scanTs(buf, start, end, now, histogram) {
  let n = 0;
  let i = buf.indexOf(TS_NEEDLE, start);
  while (i !== -1 && i < end) {
    let j = i + 5;
    let v = 0;
    for (let c = buf[j]; c >= 48 && c <= 57; c = buf[++j]) v = v * 10 + (c - 48);
    if (histogram) histogram.record(now - v);
    lastScanTs = v;
    n++;
    i = buf.indexOf(TS_NEEDLE, j);
  }
  return n;
}

/** Largest `"ts":` value in buf (the newest reading a client holds). */
export function maxTs(buf, start, end) {
  let best = 0;
  let i = buf.indexOf(TS_NEEDLE, start);
  while (i !== -1 && i < end) {
    let j = i + 5;
    let v = 0;
    for (let c = buf[j]; c >= 48 && c <= 57; c = buf[++j]) v = v * 10 + (c - 48);
    if (v > best) best = v;
    i = buf.indexOf(TS_NEEDLE, j);
  }
  return best;
}

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

export async function waitFor(check, { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
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
    return { count: this.count, p50: this.percentile(50), p99: this.percentile(99), max: Math.round(this.max) };
  }
}

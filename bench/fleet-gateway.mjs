#!/usr/bin/env node
// The gateway under a fleet, over minutes: the built backend (embedded broker, SQLite history in
// a throwaway DATA_DIR) with the built simulator at N devices × 1 reading/s, no browser. Per
// window: the gateway's CPU (all threads, and its two busiest), what it wrote to disk (the
// kernel's `write_bytes` of /proc/<pid>/io, which counts more than the bytes SQLite writes, by a
// factor that grows with the file; docs/performance-log.md, session 31), and its
// history store's queue, drops and last write time. What a large fleet costs the gateway once
// the store holds minutes of it (decision 0044: the SQLite writer fell behind after ~2 minutes
// at 10,000 devices, which a minute-long benchmark never saw).
//
//   node bench/fleet-gateway.mjs [--devices 10000] [--seconds 300] [--window 30] [--runs 1] [VARIANTS.json]
//
// VARIANTS.json: {"name": {"ENV_VAR": "value", …}, …}, each variant a fresh backend with that
// environment added (default: one variant, "default", the backend as configured). Runs
// alternate variants (A B, B A, …). Reports every window and, per variant, the median (min–max)
// over the second half of each run's windows (the store in its steady state); writes
// bench/results/fleet-gateway-<timestamp>.json. Linux only (/proc).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFlags, printHeaderUsage } from './lib/args.mjs';
import { root, statCpuS } from './lib/procs.mjs';
import { sleep } from './lib/util.mjs';
import { writeComparison } from './fleet/compare.mjs';
import { spread } from './fleet/report.mjs';
import {
  ensureBuilt,
  exitWith,
  guardRun,
  startBackend,
  startSimulator,
  stopChildren,
} from './wall/stack.mjs';

const entry = new URL(import.meta.url).pathname;
const fail = (msg) => {
  console.error(`fleet-gateway: ${msg}`);
  process.exit(2);
};
const files = process.argv.slice(2).filter((a) => a.endsWith('.json'));
const { values: opt } = parseFlags(
  process.argv.slice(2).filter((a) => !files.includes(a)),
  {
    '--devices': { key: 'devices', type: 'number', min: 1, max: 20_000, integer: true },
    '--seconds': { key: 'seconds', type: 'number', min: 10, max: 3600, integer: true },
    '--window': { key: 'window', type: 'number', min: 5, max: 600, integer: true },
    '--runs': { key: 'runs', type: 'number', min: 1, max: 10, integer: true },
  },
  { devices: 10_000, seconds: 300, window: 30, runs: 1 },
  { fail, help: () => printHeaderUsage(entry, 15) },
);
if (files.length > 1) fail('give at most one VARIANTS.json');
let variants = { default: {} };
if (files.length === 1) {
  try {
    variants = JSON.parse(fs.readFileSync(files[0], 'utf8'));
  } catch (e) {
    fail(`${files[0]}: ${e.message}`);
  }
  const ok = (v) =>
    v && typeof v === 'object' && Object.values(v).every((x) => typeof x === 'string');
  if (Object.keys(variants).length === 0 || !Object.values(variants).every(ok))
    fail(`${files[0]}: give {"name": {"ENV_VAR": "value"}, …}`);
}
const names = Object.keys(variants);
guardRun((names.length * opt.runs * (opt.seconds + 180) + 60) * 1000, 'fleet-gateway');

/** CPU ms of each thread of `pid`, by thread id. */
function threadCpu(pid) {
  const out = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, statCpuS(`/proc/${pid}/task/${tid}/stat`) * 1000);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}
const writeBytes = (pid) =>
  Number(/write_bytes: (\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
const storeStats = async (httpUrl) =>
  (await (await fetch(`${httpUrl}/api/stats`)).json()).history.store;

async function runVariant(name, env) {
  const backend = await startBackend(path.join(root, 'dist/dashboard/browser'), {
    MAX_DEVICES: String(Math.max(10_000, opt.devices * 2)),
    ...env,
  });
  await startSimulator(backend, { devices: opt.devices, rate: 1 }, opt.seconds + 120, {
    timeoutMs: 120_000,
  });
  const windows = [];
  let cpu0 = threadCpu(backend.pid);
  let bytes0 = writeBytes(backend.pid);
  let t0 = performance.now();
  for (let w = 1; w * opt.window <= opt.seconds; w++) {
    await sleep(opt.window * 1000);
    const cpu = threadCpu(backend.pid);
    const bytes = writeBytes(backend.pid);
    const t = performance.now();
    const s = (t - t0) / 1000;
    const perThread = [...cpu].map(([tid, ms]) => (ms - (cpu0.get(tid) ?? 0)) / s);
    perThread.sort((a, b) => b - a);
    const store = await storeStats(backend.httpUrl);
    const row = {
      atS: w * opt.window,
      gatewayCpuMsPerS: perThread.reduce((a, b) => a + b, 0),
      busiestThreadsMsPerS: perThread.slice(0, 2),
      diskWriteMBPerS: (bytes - bytes0) / s / 1e6,
      storeQueued: store.queued,
      storeDropped: store.dropped.queueFull + store.dropped.writeFailed,
      lastWriteMs: store.lastFlushMs,
      written: store.written,
    };
    windows.push(row);
    console.log(
      `${name} ${String(row.atS).padStart(4)} s: gateway ${row.gatewayCpuMsPerS.toFixed(0)} ms/s ` +
        `(threads ${row.busiestThreadsMsPerS.map((x) => x.toFixed(0)).join(', ')}), disk ` +
        `${row.diskWriteMBPerS.toFixed(1)} MB/s, store queued ${row.storeQueued}, dropped ` +
        `${row.storeDropped}, last write ${row.lastWriteMs} ms`,
    );
    cpu0 = cpu;
    bytes0 = bytes;
    t0 = t;
  }
  await stopChildren();
  return windows;
}

async function main() {
  ensureBuilt();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const loadAtStart = os.loadavg();
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < opt.runs; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const name of order) runs[name].push(await runVariant(name, variants[name]));
  }
  // The steady state: each run's second half of windows.
  const steady = Object.fromEntries(
    names.map((n) => [n, runs[n].flatMap((ws) => ws.slice(Math.floor(ws.length / 2)))]),
  );
  const figures = {
    'gateway CPU ms/s': (w) => w.gatewayCpuMsPerS,
    'busiest thread ms/s': (w) => w.busiestThreadsMsPerS[0],
    'second thread ms/s': (w) => w.busiestThreadsMsPerS[1],
    'disk write MB/s': (w) => w.diskWriteMBPerS,
    'store queued': (w) => w.storeQueued,
    'store dropped (at the end)': null,
  };
  const summary = {};
  for (const n of names) {
    summary[n] = {};
    for (const [figure, pick] of Object.entries(figures)) {
      if (pick) summary[n][figure] = spread(steady[n].map(pick));
      else summary[n][figure] = spread(runs[n].map((ws) => ws.at(-1).storeDropped));
    }
    console.log(
      `${n}: ${Object.entries(summary[n])
        .map(([f, s]) => `${f} ${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`)
        .join('; ')}`,
    );
  }
  writeComparison('fleet-gateway', stamp, {
    opt,
    variants,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
    loadAtStart,
    loadAtEnd: os.loadavg(),
    summary,
    runs,
  });
  return 0;
}

exitWith(main(), 'fleet-gateway', async () => undefined);

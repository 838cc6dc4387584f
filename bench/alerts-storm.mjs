#!/usr/bin/env node
// A reconnect storm of screens while thousands of alerts are open (decision 0054): the built
// backend and simulator at --devices × 1 reading/s, two threshold rules every device breaks (the
// fleet benchmark's alert storm), then --clients socket.io-clients connect at once, --runs
// times in each of two ways, alternated:
//   stream  the `alerts` snapshot in the socket's greeting (a client that does not ask);
//   http    the `alertsVersion` greeting, then GET /api/alerts with `accept-encoding: br, gzip`
//           (the dashboard's way).
// Per run: the time from the storm's start until every client holds the list (p50, p99, max),
// the bytes of the list per client as they crossed the wire (the socket frame, or the HTTP body
// as sent), and the gateway's CPU seconds during the storm. Prints the median of the runs of
// each way with the spread; writes bench/results/alerts-storm-<timestamp>.json.
//
//   node bench/alerts-storm.mjs [--devices 2000] [--clients 300] [--runs 3]
//
// No limit: a measure, both ways side by side in one run (performance log, session 37).
import { io } from 'socket.io-client';
import { parseFlags, printHeaderUsage } from './lib/args.mjs';
import { median } from './lib/median.mjs';
import { procStats } from './lib/procs.mjs';
import { getRaw, sleep } from './lib/util.mjs';
import { writeComparison } from './fleet/compare.mjs';
import { raiseAlertStorm, startFleet, stopFleet } from './fleet/stack.mjs';
import { copyDashboard, guardRun, killAll } from './wall/stack.mjs';

const entry = new URL(import.meta.url).pathname;
const fail = (msg) => {
  console.error(`alerts-storm: ${msg}`);
  process.exit(2);
};
const { values: opt } = parseFlags(
  process.argv.slice(2),
  {
    '--devices': { key: 'devices', type: 'number', min: 100, max: 10_000, integer: true },
    '--clients': { key: 'clients', type: 'number', min: 10, max: 2_000, integer: true },
    '--runs': { key: 'runs', type: 'number', min: 1, max: 9, integer: true },
  },
  { devices: 2000, clients: 300, runs: 3 },
  { fail, help: () => printHeaderUsage(entry, 15) },
);
/** Every client must hold the list within this long, or the run says how many did not. */
const STORM_BOUND_MS = 60_000;
guardRun((opt.runs * 2 * (STORM_BOUND_MS / 1000 + 10) + 300) * 1000, 'alerts-storm');

const percentile = (sorted, p) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
    : null;

/** One client: connects, and resolves when it holds the list, with the list's bytes on the wire. */
function client(httpUrl, way, t0) {
  return new Promise((resolve) => {
    let listBytes = 0;
    const socket = io(`${httpUrl}/live`, {
      transports: ['websocket'],
      reconnection: false,
      timeout: STORM_BOUND_MS,
      auth: way === 'http' ? { alerts: 'http' } : {},
    });
    const done = (outcome) => {
      clearTimeout(bound);
      socket.close();
      resolve({ ...outcome, listBytes, atMs: Date.now() - t0 });
    };
    const bound = setTimeout(() => done({ ok: false, why: 'no list in time' }), STORM_BOUND_MS);
    socket.io.on('open', () =>
      socket.io.engine.on('packet', ({ data }) => {
        if (typeof data === 'string' && data.startsWith('2/live,["alerts"'))
          listBytes = Buffer.byteLength(data);
      }),
    );
    socket.on('connect_error', (error) => done({ ok: false, why: error.message }));
    socket.on('alerts', (list) => done({ ok: true, alerts: list.length }));
    socket.on('alertsVersion', async () => {
      // As a browser asks it: the body's bytes as sent.
      const answer = await getRaw(`${httpUrl}/api/alerts`, { 'accept-encoding': 'br, gzip' }).catch(
        (error) => ({ status: 0, why: error.message }),
      );
      listBytes = answer.bytes?.length ?? 0;
      done(answer.status === 200 ? { ok: true } : { ok: false, why: `HTTP ${answer.status}` });
    });
  });
}

async function storm(fleet, way) {
  const pid = fleet.backend.pid;
  const before = procStats(pid);
  const t0 = Date.now();
  const outcomes = await Promise.all(
    Array.from({ length: opt.clients }, () => client(fleet.backend.httpUrl, way, t0)),
  );
  const cpuS = procStats(pid).cpu - before.cpu;
  const held = outcomes.filter((o) => o.ok);
  const times = held.map((o) => o.atMs).sort((a, b) => a - b);
  return {
    way,
    clients: opt.clients,
    held: held.length,
    failures: [...new Set(outcomes.filter((o) => !o.ok).map((o) => o.why))],
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: times[times.length - 1] ?? null,
    listBytesPerClient: median(held.map((o) => o.listBytes)),
    gatewayCpuS: Math.round(cpuS * 100) / 100,
  };
}

const { dashboardDir } = copyDashboard();
const fleet = await startFleet({
  devices: opt.devices,
  dashboardDir,
  boundS: opt.runs * 2 * (STORM_BOUND_MS / 1000 + 10) + 240,
});
const runs = [];
let alerts = 0;
try {
  alerts = await raiseAlertStorm(fleet);
  await sleep(5000); // the raise's events out, the list steady
  for (let run = 0; run < opt.runs; run++)
    for (const way of run % 2 === 0 ? ['stream', 'http'] : ['http', 'stream']) {
      const row = await storm(fleet, way);
      runs.push(row);
      console.log(JSON.stringify(row));
      await sleep(3000); // the sockets closed, the gateway quiet again
    }
} finally {
  await stopFleet(fleet);
  killAll();
}
const figures = ['p50Ms', 'p99Ms', 'maxMs', 'listBytesPerClient', 'gatewayCpuS'];
const summary = {};
for (const way of ['stream', 'http']) {
  const rows = runs.filter((r) => r.way === way);
  summary[way] = { held: Math.min(...rows.map((r) => r.held)) };
  for (const f of figures) {
    const values = rows.map((r) => r[f]).filter((v) => typeof v === 'number');
    summary[way][f] = {
      median: median(values),
      min: Math.min(...values),
      max: Math.max(...values),
    };
  }
}
console.log(`${alerts} active alerts, ${opt.clients} clients at once, ${opt.runs} runs each:`);
for (const [way, s] of Object.entries(summary))
  console.log(
    `  ${way.padEnd(6)} held ${s.held}/${opt.clients}` +
      figures.map((f) => `  ${f} ${s[f].median} (${s[f].min}–${s[f].max})`).join(''),
  );
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeComparison('alerts-storm', stamp, { opt, startedAt: stamp, alerts, runs, summary });
process.exit(0);

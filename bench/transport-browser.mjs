#!/usr/bin/env node
// `npm run bench:transport` — time to first live data in headless Chromium with the WebSocket
// passing and blocked (issue 12, decision 0020).
//
//   node bench/transport-browser.mjs [--runs 3] [--only pass,close,hang,silent,ws-then-hang]
//                                    [--old <dashboard build dir>] [--timeout 25]
//
// The built backend (embedded broker and simulator, 6 devices at 2/s, a fresh DATA_DIR with the
// admin seeded, anonymous viewing as on loopback) serves the dashboard through a real loopback
// proxy (transport/proxy.mjs) that passes every HTTP request and, per scenario, passes WebSocket
// upgrades, closes them at once, hangs them, or answers 101 and stays silent. Per scenario and
// run: a fresh browser context (empty localStorage) loads `/`, then reloads it in the same
// context; each load is timed from navigation to the first reading's value in a tile
// (transport/page-probe.mjs), then given 2.5 s to settle, and the transport the connection
// indicator ends on is read. `ws-then-hang` loads with the WebSocket passing and reloads with it
// hanging (the remembered WebSocket's 1 s guard). `--old DIR` serves a dashboard build of the
// behaviour before (e.g. main's `dist/dashboard/browser`, copied aside) from a second backend and
// proxy, measured in the same runs, interleaved. Goals are fixed in transport/report.mjs; the
// exit code is 1 when one is missed. Writes bench/results/transport-<timestamp>.json.
//
// This file only orchestrates (stacks, proxies, page loads); it must not judge or format figures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { fmt } from './lib/format.mjs';
import { benchDir, root } from './lib/procs.mjs';
import { sleep, waitFor } from './lib/util.mjs';
import { fail } from './wall/args.mjs';
import { log, setLogPrefix } from './wall/log.mjs';
import { settleBrowser } from './wall/page.mjs';
// The children's lifecycle (build check, dashboard copy, backend, clean-up, time bound).
import * as children from './wall/stack.mjs';
import { readTransportBench, transportBenchInit } from './transport/page-probe.mjs';
import { startProxy } from './transport/proxy.mjs';
import { SCENARIOS, judge, reportText, writeResults } from './transport/report.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** After the first value: time for a background upgrade to land before the transport is read. */
const SETTLE_MS = 2500;

function parseArgs(argv) {
  const opt = { runs: 3, only: Object.keys(SCENARIOS), old: null, timeoutS: 25 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? fail(`${a} needs a value`);
    if (a === '--runs') opt.runs = Number(next());
    else if (a === '--only') opt.only = next().split(',');
    else if (a === '--old') opt.old = path.resolve(next());
    else if (a === '--timeout') opt.timeoutS = Number(next());
    else fail(`unknown flag ${a}`);
  }
  if (!(opt.runs >= 1)) fail('--runs must be at least 1');
  for (const s of opt.only) if (!SCENARIOS[s]) fail(`unknown scenario ${s}`);
  if (opt.old && !fs.existsSync(path.join(opt.old, 'index.html')))
    fail(`--old ${opt.old}: no index.html (a dashboard build's browser/ directory)`);
  return opt;
}

const opt = parseArgs(process.argv.slice(2));
setLogPrefix('transport');
const boundS = Math.ceil(
  300 + opt.runs * opt.only.length * (opt.old ? 2 : 1) * 2 * (opt.timeoutS + 5),
);
children.guardRun(boundS * 1000, 'transport-browser');
let browser = null;

/** A backend serving `dashboardDir` with the simulator inside, and a proxy in front of it. */
async function startStack(dashboardDir) {
  const backend = await children.startBackend(dashboardDir, {
    SIMULATOR: 'on',
    SIMULATOR_DEVICES: '6',
    SIMULATOR_RATE: '2',
    SIMULATOR_DROPOUT: '0',
    SIMULATOR_OFFLINE: '0',
  });
  await waitFor(
    async () => (await (await fetch(`${backend.httpUrl}/api/stats`)).json()).devices.known >= 6,
    { timeoutMs: 20_000, intervalMs: 200, what: 'the simulated devices known to the backend' },
  );
  const proxy = await startProxy({ target: backend.httpUrl });
  log(`proxy ${proxy.url} → ${backend.httpUrl}`);
  return { backend, proxy };
}

/** One load with the proxy in `mode`: `navigate()`, the first value (or the timeout), the settle. */
async function measureLoad(page, proxy, mode, navigate) {
  proxy.setMode(mode);
  const upgradesBefore = { ...proxy.upgrades };
  await navigate();
  const end = performance.now() + opt.timeoutS * 1000;
  let seen = null;
  while (performance.now() < end) {
    seen = await page.evaluate(readTransportBench).catch(() => seen);
    if (seen?.firstValueMs != null) break;
    await sleep(50);
  }
  await sleep(SETTLE_MS);
  const last = await page.evaluate(readTransportBench).catch(() => seen);
  const memory = await page
    .evaluate(() => localStorage.getItem('pulse.transport'))
    .catch(() => null);
  const upgrades = Object.fromEntries(
    Object.entries(proxy.upgrades).map(([m, n]) => [m, n - upgradesBefore[m]]),
  );
  return {
    mode,
    firstValueMs: last?.firstValueMs ?? null,
    transportAtFirstValue: last?.transportAtFirstValue ?? null,
    finalTransport: last?.phase === 'connected' ? last.transport : null,
    finalPhase: last?.phase ?? null,
    timeline: last?.timeline ?? [],
    upgradeRequests: upgrades[mode],
    memory: memory ? JSON.parse(memory) : null,
  };
}

/** A fresh context: the first load of `/`, then a reload in the same context. */
async function scenarioRun(stack, scenario) {
  const sc = SCENARIOS[scenario];
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`transport-browser: page error: ${e.message}`));
    await page.addInitScript(transportBenchInit);
    // The new window's own start-up over first (see settleBrowser).
    await settleBrowser(browser);
    const first = await measureLoad(page, stack.proxy, sc.first, () =>
      page.goto(`${stack.proxy.url}/`, { waitUntil: 'commit' }),
    );
    const reload = await measureLoad(page, stack.proxy, sc.reload, () =>
      page.reload({ waitUntil: 'commit' }),
    );
    return { first, reload };
  } finally {
    await context.close().catch(() => undefined);
  }
}

const show = (l) =>
  `${l.firstValueMs === null ? 'no data' : `${fmt(l.firstValueMs, 0)} ms`} (${l.transportAtFirstValue ?? '–'} → ${l.finalTransport ?? l.finalPhase ?? '–'}, ${l.upgradeRequests} upgrade requests)`;

/** The machine, and its load now (logged): on a shared machine the load moves every row. */
function machineNow() {
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, Node ${process.version}`;
  const load = os.loadavg();
  log(`load average ${load.map((x) => x.toFixed(2)).join(' ')} on ${machine}`);
  return { machine, load };
}

async function main() {
  const startedAt = new Date();
  children.ensureBuilt();
  const { machine, load: loadAtStart } = machineNow();
  const { dashboardDir, dashboardBuilt } = children.copyDashboard();
  const stacks = { new: await startStack(dashboardDir) };
  if (opt.old) stacks.old = await startStack(opt.old);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  // One throwaway load per stack: the first navigation of a browser pays for its own start-up.
  for (const stack of Object.values(stacks)) await scenarioRun(stack, 'pass');

  const results = {};
  for (let run = 1; run <= opt.runs; run++) {
    log(`run ${run}/${opt.runs}`);
    for (const scenario of opt.only)
      for (const [build, stack] of Object.entries(stacks)) {
        const r = await scenarioRun(stack, scenario);
        ((results[scenario] ??= {})[build] ??= []).push(r);
        log(`  ${scenario} ${build}: first ${show(r.first)}; reload ${show(r.reload)}`);
      }
  }

  const runInfo = {
    command: `node bench/transport-browser.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    runs: opt.runs,
    settleMs: SETTLE_MS,
    startedAt,
    machine,
    loadAtStart,
    loadAtEnd: os.loadavg(),
    elapsedS: (Date.now() - startedAt.getTime()) / 1000,
    builds: { new: `built ${dashboardBuilt}`, old: opt.old },
    chromiumVersion: browser.version(),
  };
  const rows = judge(results);
  console.log(reportText(runInfo, rows));
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(benchDir, 'results', `transport-${stamp}.json`);
  writeResults(file, runInfo, rows, results);
  log(`wrote ${path.relative(root, file)}`);

  for (const stack of Object.values(stacks)) await stack.proxy.close();
  children.stopAll();
  await browser.close().catch(() => undefined);
  browser = null;
  children.killAll('SIGKILL');
  return rows.some((r) => r.pass === false) ? 1 : 0;
}

children.exitWith(main(), 'transport-browser', async () => browser?.close().catch(() => undefined));

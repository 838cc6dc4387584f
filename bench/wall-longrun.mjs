#!/usr/bin/env node
// `npm run bench:wall` — long-run check of the wall page in headless Chromium.
//
// Starts the built backend (embedded broker, no in-process simulator) and the built
// simulator (24 devices at 10 Hz by default), opens /wall?size=24 (every device on one board,
// every metric it has: with --seed 1 that is 8 machines × 3 + 16 sensors/meters × 4 = 88
// live charts, one series each), measures a 10 s baseline on an empty page first (the fps
// and busy time this machine gives right now), and samples every 30 s over CDP: frames per second (an injected rAF counter), main-thread
// busy time per second (Performance.getMetrics TaskDuration), JS heap after a forced GC,
// DOM nodes. Prints a markdown table and a verdict against the perf targets
// (≥ 55 fps, main thread busy < 30 %, heap flat), ends with a 10 s CPU profile summary,
// and writes bench/results/wall-<timestamp>.json (+ the .cpuprofile).
//
//   node bench/wall-longrun.mjs [--minutes 10] [--quick] [--devices 24] [--rate 10]
//                               [--interval 30] [--metrics a,b,c] [--cols N] [--window 5m]
//                               [--profile 10] [--strict] [--css 'extra CSS']
//
// --quick: 1 minute, 15 s interval (smoke). --strict: exit 1 when a target is missed.
// --css: a style sheet added to the page after load, to A/B a layout fix without rebuilding.
// "busy %" is wall time inside main-thread tasks (CDP TaskDuration); on a loaded machine it
// includes time the thread waited for a core, so the main thread's own CPU time (/proc) is
// printed beside it.
// Every child (backend, simulator, Chromium) is killed on exit; the whole run is bounded.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findChromium, rendererMainThreadCpuS, snapshot, usage } from './wall/procs.mjs';
import { summariseProfile } from './wall/profile.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TARGET = { fps: 55, busyPct: 30, heapPct: 10, heapMb: 2 };

// ---------- flags ----------
function parseArgs(argv) {
  const o = {
    minutes: 10,
    devices: 24,
    rate: 10,
    interval: 30,
    metrics: '',
    cols: 0,
    window: '',
    profile: 10,
    strict: false,
    quick: false,
    warmup: 30,
    css: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    const num = (min, max) => {
      const raw = val();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < min || n > max)
        fail(`${a} ${raw}: expected a number ${min}..${max}`);
      return n;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--strict') o.strict = true;
    else if (a === '--minutes') o.minutes = num(0.25, 240);
    else if (a === '--devices') o.devices = Math.round(num(1, 500));
    else if (a === '--rate') o.rate = num(0.1, 100);
    else if (a === '--interval') o.interval = num(5, 600);
    else if (a === '--warmup') o.warmup = num(5, 600);
    else if (a === '--metrics') o.metrics = val();
    else if (a === '--css') o.css = val();
    else if (a === '--cols') o.cols = Math.round(num(0, 12));
    else if (a === '--window') o.window = val();
    else if (a === '--profile') o.profile = num(0, 60);
    else if (a === '-h' || a === '--help') {
      console.log(
        fs
          .readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\n')
          .slice(1, 17)
          .join('\n')
          .replace(/^\/\/ ?/gm, ''),
      );
      process.exit(0);
    } else fail(`unknown flag ${a}`);
  }
  if (o.quick) {
    if (!argv.includes('--minutes')) o.minutes = 1;
    if (!argv.includes('--interval')) o.interval = 15;
    if (!argv.includes('--warmup')) o.warmup = 15;
    if (!argv.includes('--profile')) o.profile = 5;
  }
  return o;
}
function fail(msg) {
  console.error(`wall-longrun: ${msg}`);
  process.exit(2);
}
const opt = parseArgs(process.argv.slice(2));

// ---------- small helpers ----------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    await sleep(250);
  }
}
const f = (v, d = 0) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(d);
const mb = (b) => b / 1048576;
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
function slope(xs, ys) {
  // least-squares slope of y over x
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : NaN;
}
const log = (line) => console.log(`[wall ${new Date().toISOString().slice(11, 19)}] ${line}`);

// ---------- children: always cleaned up ----------
const children = new Set();
let browser = null;
function killAll(signal = 'SIGKILL') {
  for (const c of children) {
    try {
      if (c.detached) process.kill(-c.child.pid, signal);
      else c.child.kill(signal);
    } catch {
      /* gone */
    }
  }
}
process.on('exit', () => killAll('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\nwall-longrun: ${sig}, stopping`);
    killAll('SIGKILL');
    process.exit(130);
  });
}
// Hard bound on the whole run: warm-up (≤ 3 min) + the measured minutes + profile + 4 min slack.
const hardLimitMs = (opt.minutes * 60 + 180 + opt.profile + 240) * 1000;
const hardTimer = setTimeout(() => {
  console.error(
    `wall-longrun: hard time limit (${Math.round(hardLimitMs / 1000)} s) reached, killing everything`,
  );
  killAll('SIGKILL');
  process.exit(1);
}, hardLimitMs);
hardTimer.unref();

function start(cmd, args, { env = {}, detached = false, name }) {
  let output = '';
  const child = spawn(cmd, args, {
    cwd: root,
    detached,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const keep = (chunk) => (output = (output + chunk.toString()).slice(-20000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const entry = { child, detached, name, output: () => output };
  children.add(entry);
  child.on('exit', (code, sig) => {
    children.delete(entry);
    if (!stopping)
      console.error(`wall-longrun: ${name} exited early (${code ?? sig})\n${output.slice(-3000)}`);
  });
  return entry;
}
let stopping = false;

// ---------- build if needed ----------
function ensureBuilt() {
  const need = [
    path.join(root, 'dist/backend/main.js'),
    path.join(root, 'dist/simulator/main.js'),
    path.join(root, 'dist/dashboard/browser/index.html'),
  ];
  if (need.every((p) => fs.existsSync(p))) return;
  log('dist is incomplete: building backend, simulator and dashboard');
  const r = spawnSync(
    'npx',
    [
      'nx',
      'run-many',
      '-t',
      'build',
      '-p',
      'backend',
      'simulator',
      'dashboard',
      '--output-style=static',
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, CI: 'true', NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      timeout: 15 * 60_000,
    },
  );
  if (r.status !== 0) fail('build failed');
}

// ---------- page instrumentation (runs before the app) ----------
const INIT_SCRIPT = `(() => {
  const s = (window.__wallBench = { frames: 0, maxGapMs: 0, slowFrames: 0, last: 0, longTasks: 0, longTaskMs: 0 });
  const tick = (t) => {
    if (s.last) {
      const gap = t - s.last;
      if (gap > s.maxGapMs) s.maxGapMs = gap;
      if (gap > 25) s.slowFrames++; // a frame took more than ~1.5 vsync intervals
    }
    s.last = t;
    s.frames++;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  // Every chart draw sets data-last-gap-end on its host (live-chart.component.ts): count draws.
  // Chart.js resizing a canvas (ResizeObserver -> retinaScale) rewrites its width/height attributes: count those too.
  s.draws = 0;
  s.canvasResizes = 0;
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName === 'data-last-gap-end') s.draws++;
      else if (r.attributeName === 'width' && r.target.localName === 'canvas') s.canvasResizes++;
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-last-gap-end', 'width'] });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) { s.longTasks++; s.longTaskMs += e.duration; }
    }).observe({ type: 'longtask' });
  } catch {}
})();`;

/** Read (and reset the per-interval maxima of) the page counters plus the page's shape. */
function readPage(page) {
  return page.evaluate(() => {
    const s = window.__wallBench;
    const charts = [...document.querySelectorAll('app-live-chart')];
    let withData = 0;
    let points = 0;
    let visible = 0;
    for (const c of charts) {
      const p = Number(c.getAttribute('data-points')) || 0;
      if (p > 0) withData++;
      points += p;
      // On screen: inside the viewport and not clipped away by its tile (overflow: hidden), at least 20 px each way.
      const r = c.getBoundingClientRect();
      const tile = c.closest('.wall-tile')?.getBoundingClientRect() ?? {
        top: 0,
        left: 0,
        bottom: innerHeight,
        right: innerWidth,
      };
      const w = Math.min(r.right, tile.right, innerWidth) - Math.max(r.left, tile.left, 0);
      const h = Math.min(r.bottom, tile.bottom, innerHeight) - Math.max(r.top, tile.top, 0);
      if (w >= 20 && h >= 20) visible++;
    }
    const health = {};
    for (const t of document.querySelectorAll('[data-health]')) {
      const h = t.getAttribute('data-health');
      health[h] = (health[h] ?? 0) + 1;
    }
    const out = {
      frames: s.frames,
      draws: s.draws,
      canvasResizes: s.canvasResizes,
      maxGapMs: s.maxGapMs,
      slowFrames: s.slowFrames,
      longTasks: s.longTasks,
      longTaskMs: s.longTaskMs,
      tiles: document.querySelectorAll('app-wall-tile').length,
      canvases: document.querySelectorAll('canvas').length,
      charts: charts.length,
      chartsVisible: visible,
      chartsWithData: withData,
      pointsInWindow: points,
      scrollHeight: document.documentElement.scrollHeight,
      domNodes: document.getElementsByTagName('*').length,
      health,
      banner: document.querySelector('[data-testid=wall-banner]')?.textContent?.trim() ?? null,
      hidden: document.hidden,
    };
    s.maxGapMs = 0;
    return out;
  });
}

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

/**
 * JS heap in use right after a forced full GC. Readings keep arriving between the GC and
 * the read, so take the lower of two GC+read rounds to keep in-flight garbage out.
 */
async function heapAfterGc(cdp) {
  let best = null;
  for (let i = 0; i < 2; i++) {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize, totalSize } = await cdp.send('Runtime.getHeapUsage');
    if (!best || usedSize < best.used) best = { used: usedSize, total: totalSize };
  }
  return best;
}

// ---------- main ----------
async function main() {
  const startedAt = new Date();
  ensureBuilt();
  const loadAtStart = os.loadavg();
  log(
    `load average ${loadAtStart.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores; node ${process.version}`,
  );

  // Serve a private copy of the dashboard build, so a rebuild of dist/ during the run cannot change the page under test.
  const dashboardDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulse-wall-dashboard-'));
  fs.cpSync(path.join(root, 'dist/dashboard/browser'), dashboardDir, { recursive: true });
  process.on('exit', () => fs.rmSync(dashboardDir, { recursive: true, force: true }));
  const dashboardBuilt = fs
    .statSync(path.join(root, 'dist/dashboard/browser/index.html'))
    .mtime.toISOString();
  log(`dashboard build of ${dashboardBuilt} copied to ${dashboardDir}`);

  // Backend: embedded broker, no internal simulator.
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const backend = start(process.execPath, [path.join(root, 'dist/backend/main.js')], {
    name: 'backend',
    detached: true, // own process group: a kill takes anything it spawned
    env: {
      PORT: String(httpPort),
      HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      SIMULATOR: 'off',
      LOG_LEVEL: 'warn',
      DASHBOARD_DIR: dashboardDir,
    },
  });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await waitFor(
    async () => (await fetch(`${httpUrl}/api/health`)).ok,
    30_000,
    'backend /api/health',
  );
  log(`backend up at ${httpUrl} (mqtt ${mqttPort}), pid ${backend.child.pid}`);

  // Simulator: bounded by --duration as well, in case this process dies without cleanup.
  const simSeconds = Math.ceil(opt.minutes * 60 + 180 + opt.profile + 240);
  const sim = start(
    process.execPath,
    [
      path.join(root, 'dist/simulator/main.js'),
      '--url',
      `mqtt://127.0.0.1:${mqttPort}`,
      '--devices',
      String(opt.devices),
      '--rate',
      String(opt.rate),
      '--quiet',
      '--seed',
      '1',
      '--duration',
      String(simSeconds),
    ],
    { name: 'simulator' },
  );
  await waitFor(
    async () => {
      const s = await (await fetch(`${httpUrl}/api/stats`)).json();
      return s.devices.known >= opt.devices && s.readings.accepted > 0 ? s : null;
    },
    30_000,
    `${opt.devices} devices known to the backend`,
  );
  const { devices } = await (await fetch(`${httpUrl}/api/devices`)).json();
  const metricCount = {};
  for (const d of devices) {
    const n = d.metrics?.length ?? Object.keys(d.units ?? {}).length;
    metricCount[n] = (metricCount[n] ?? 0) + 1;
  }
  log(
    `simulator: ${opt.devices} devices at ${opt.rate} Hz (metrics per device: ${Object.entries(
      metricCount,
    )
      .map(([n, c]) => `${c}×${n}`)
      .join(', ')})`,
  );

  // Browser.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const chromePid = findChromium(snapshot(), process.pid);
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`wall-longrun: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      console.error(`wall-longrun: page console.${m.type()}: ${m.text()}`);
  });
  await page.addInitScript(INIT_SCRIPT);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });

  // Baseline: the same counters on a page without the app, to tell this machine's load from the app's cost.
  await page.goto(`${httpUrl}/api/health`, { waitUntil: 'load' });
  await sleep(1000);
  const bm0 = await metrics(cdp);
  const bp0 = await page.evaluate(() => window.__wallBench.frames);
  const bt0 = performance.now();
  await sleep(10_000);
  const bm1 = await metrics(cdp);
  const bp1 = await page.evaluate(() => window.__wallBench.frames);
  const bdt = (performance.now() - bt0) / 1000;
  const baseline = {
    fps: (bp1 - bp0) / bdt,
    busyPct: (100 * (bm1.TaskDuration - bm0.TaskDuration)) / bdt,
    load1: os.loadavg()[0],
  };
  log(
    `baseline (empty page, 10 s): ${f(baseline.fps, 1)} fps, busy ${f(baseline.busyPct, 1)} %, load ${f(baseline.load1, 2)}`,
  );
  const params = new URLSearchParams({ size: String(opt.devices) });
  if (opt.cols) params.set('cols', String(opt.cols));
  if (opt.metrics) params.set('metrics', opt.metrics);
  if (opt.window) params.set('window', opt.window);
  const wallUrl = `${httpUrl}/wall?${params.toString().replace(/%2C/g, ',')}`;
  await page.goto(wallUrl, { waitUntil: 'load' });
  if (opt.css) {
    await page.addStyleTag({ content: opt.css });
    log(`extra CSS injected: ${opt.css}`);
  }

  const shape = await waitFor(
    async () => {
      const p = await readPage(page);
      return p.tiles >= opt.devices && p.chartsWithData >= p.charts && p.charts > 0 ? p : null;
    },
    60_000,
    `${opt.devices} wall tiles with every chart drawing data`,
  );
  // The page's scripts, for naming profile entries (minified): label the Chart.js chunk, keep sources for snippets.
  const sources = new Map();
  for (const url of await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => e.name)
      .filter((n) => n.endsWith('.js')),
  )) {
    try {
      sources.set(url, await (await fetch(url)).text());
    } catch {
      /* not needed */
    }
  }
  log(
    `wall ${wallUrl.replace(httpUrl, '')}: ${shape.tiles} tiles, ${shape.charts} charts (${shape.canvases} canvases, ${shape.chartsVisible} visible ≥ 20×20 px in the 1920×1080 viewport), ${shape.domNodes} DOM nodes`,
  );

  // Warm-up: at least opt.warmup s, and until the charts' windows stop filling (ring buffers full), ≤ 3 min.
  const warmStart = Date.now();
  let lastPoints = -1;
  for (;;) {
    await sleep(5000);
    const p = await readPage(page);
    const elapsed = (Date.now() - warmStart) / 1000;
    const growing = p.pointsInWindow > lastPoints * 1.01 + 5;
    lastPoints = p.pointsInWindow;
    if ((elapsed >= opt.warmup && !growing) || elapsed >= 180) {
      log(
        `warm-up done after ${elapsed.toFixed(0)} s (${p.pointsInWindow} points in the charts' windows${growing ? ', still growing' : ', stable'})`,
      );
      break;
    }
  }

  // ---------- sampling ----------
  const samples = [];
  const procsOf = (snap) => ({
    backend: usage(snap, backend.child.pid),
    sim: usage(snap, sim.child.pid),
    chrome: chromePid ? usage(snap, chromePid) : null,
    mainThreadCpuS: chromePid ? rendererMainThreadCpuS(snap, chromePid) : null,
  });
  const procBase = () => {
    const snap = snapshot();
    return procsOf(snap);
  };
  const begin = async () => {
    const m = await metrics(cdp);
    const p = await readPage(page);
    return { t: performance.now(), m, p, procs: procBase() };
  };
  const stampEarly = startedAt.toISOString().replace(/[:.]/g, '-');
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  const screenshot = path.join(here, 'results', `wall-${stampEarly}.png`);
  await page.screenshot({ path: screenshot });
  log(`screenshot ${path.relative(root, screenshot)}; document height ${shape.scrollHeight} px`);
  const heap0 = await heapAfterGc(cdp);
  const stats0 = await (await fetch(`${httpUrl}/api/stats`)).json();
  let base = await begin();
  const runStart = base.t;
  const endAt = runStart + opt.minutes * 60_000;
  log(
    `start: heap ${f(mb(heap0.used), 2)} MB after GC; sampling every ${opt.interval} s for ${opt.minutes} min`,
  );
  samples.push({
    minute: 0,
    heapMb: mb(heap0.used),
    domNodes: base.p.domNodes,
    nodesMetric: base.m.Nodes,
    listeners: base.m.JSEventListeners,
    load1: os.loadavg()[0],
  });

  while (base.t < endAt) {
    await sleep(Math.max(0, Math.min(opt.interval * 1000, endAt - performance.now())));
    const m = await metrics(cdp);
    const p = await readPage(page);
    const t = performance.now();
    const snap = snapshot();
    const dt = (t - base.t) / 1000;
    const d = (k) => (m[k] - base.m[k]) / dt;
    const cpuPct = (now, then) => (now && then ? (100 * (now.cpuS - then.cpuS)) / dt : null);
    const procs = procsOf(snap);
    const heap = await heapAfterGc(cdp); // after the interval's figures, so GC time is not counted
    const sample = {
      minute: (t - runStart) / 60_000,
      seconds: dt,
      fps: (p.frames - base.p.frames) / dt,
      chartDrawsPerS: (p.draws - base.p.draws) / dt,
      canvasResizesPerS: (p.canvasResizes - base.p.canvasResizes) / dt,
      slowFramesPerS: (p.slowFrames - base.p.slowFrames) / dt,
      worstFrameMs: p.maxGapMs,
      busyPct: 100 * d('TaskDuration'),
      scriptPct: 100 * d('ScriptDuration'),
      layoutPct: 100 * d('LayoutDuration'),
      stylePct: 100 * d('RecalcStyleDuration'),
      longTasksPerMin: ((p.longTasks - base.p.longTasks) / dt) * 60,
      heapMb: mb(heap.used),
      heapTotalMb: mb(heap.total),
      domNodes: p.domNodes,
      nodesMetric: m.Nodes,
      listeners: m.JSEventListeners,
      documents: m.Documents,
      pointsInWindow: p.pointsInWindow,
      chartsWithData: p.chartsWithData,
      health: p.health,
      banner: p.banner,
      load1: os.loadavg()[0],
      cpuPct: {
        chromium: cpuPct(procs.chrome, base.procs.chrome),
        rendererMain:
          procs.mainThreadCpuS !== null && base.procs.mainThreadCpuS !== null
            ? (100 * (procs.mainThreadCpuS - base.procs.mainThreadCpuS)) / dt
            : null,
        renderer:
          procs.chrome && base.procs.chrome
            ? (100 * (procs.chrome.rendererCpuS - base.procs.chrome.rendererCpuS)) / dt
            : null,
        backend: cpuPct(procs.backend, base.procs.backend),
        simulator: cpuPct(procs.sim, base.procs.sim),
      },
    };
    samples.push(sample);
    log(
      `t=${f(sample.minute, 1)} min  fps ${f(sample.fps, 1)}  chart draws/s ${f(sample.chartDrawsPerS)}  canvas resizes/s ${f(sample.canvasResizesPerS, 1)}  busy ${f(sample.busyPct, 1)}% (script ${f(sample.scriptPct, 1)}%)  ` +
        `main-thread CPU ${f(sample.cpuPct.rendererMain, 1)}%  heap ${f(sample.heapMb, 2)} MB  DOM ${sample.domNodes}  load ${f(sample.load1, 2)}` +
        (p.banner ? `  BANNER: ${p.banner}` : ''),
    );
    base = await begin();
  }
  const stats1 = await (await fetch(`${httpUrl}/api/stats`)).json();
  const measuredS = (performance.now() - runStart) / 1000;
  const readingsPerS = (stats1.readings.accepted - stats0.readings.accepted) / measuredS;
  const liveSentPerS = (stats1.live.readingsSent - stats0.live.readingsSent) / measuredS;

  // ---------- CPU profile ----------
  let profileSummary = null;
  let profileFile = null;
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = path.join(here, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  if (opt.profile > 0) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
    await sleep(opt.profile * 1000);
    const { profile } = await cdp.send('Profiler.stop');
    await cdp.send('Profiler.disable');
    profileFile = path.join(resultsDir, `wall-${stamp}.cpuprofile`);
    fs.writeFileSync(profileFile, JSON.stringify(profile));
    // Name the bundle chunks: the lazily loaded Chart.js one is recognisable by its content.
    const labels = new Map();
    for (const n of profile.nodes) {
      const url = n.callFrame.url;
      if (!url || labels.has(url)) continue;
      let label = url.replace(httpUrl, '');
      const src = sources.get(url);
      if (src && /_drawDataset|getDatasetMeta/.test(src)) label += ' [chart.js]';
      else if (src && /ɵɵdefineComponent|ɵcmp|defineComponent/.test(src)) label += ' [angular/app]';
      labels.set(url, label);
    }
    profileSummary = summariseProfile(profile, (u) => labels.get(u) ?? u, 20);
    // Minified names say little: add the first characters of each function's source.
    const urlByLabel = new Map([...labels].map(([u, l]) => [l, u]));
    for (const t of profileSummary.top) {
      const m = /^(.*):(\d+):(\d+)$/.exec(t.where);
      const src = m && sources.get(urlByLabel.get(m[1]));
      if (!src) continue;
      const line = src.split('\n')[Number(m[2]) - 1] ?? '';
      t.source = line.slice(Number(m[3]) - 1, Number(m[3]) + 90).replace(/[|`\n]/g, ' ');
    }
  }

  // ---------- report ----------
  const measured = samples.slice(1);
  const heapStart = samples[0].heapMb;
  const heapEnd = samples[samples.length - 1].heapMb;
  const heapDelta = heapEnd - heapStart;
  const heapDeltaPct = (100 * heapDelta) / heapStart;
  const heapSlope = slope(
    samples.map((s) => s.minute),
    samples.map((s) => s.heapMb),
  ); // MB / min
  const fpsMean = mean(measured.map((s) => s.fps));
  const fpsMin = Math.min(...measured.map((s) => s.fps));
  const busyMean = mean(measured.map((s) => s.busyPct));
  const busyMax = Math.max(...measured.map((s) => s.busyPct));
  const loadMean = mean(measured.map((s) => s.load1));
  const heapFlat = heapDelta < TARGET.heapMb || heapDeltaPct < TARGET.heapPct;
  const verdict = {
    fps: { target: `>= ${TARGET.fps}`, mean: fpsMean, min: fpsMin, pass: fpsMean >= TARGET.fps },
    busy: {
      target: `< ${TARGET.busyPct} %`,
      mean: busyMean,
      max: busyMax,
      pass: busyMean < TARGET.busyPct,
    },
    heap: {
      target: `growth < ${TARGET.heapMb} MB or < ${TARGET.heapPct} %`,
      startMb: heapStart,
      endMb: heapEnd,
      deltaMb: heapDelta,
      deltaPct: heapDeltaPct,
      slopeMbPerMin: heapSlope,
      pass: heapFlat,
    },
  };

  const lines = [];
  lines.push('');
  lines.push(
    `## Wall long-run: ${opt.devices} devices × ${opt.rate} Hz, ${shape.tiles} tiles, ${shape.charts} charts (${shape.chartsVisible} visible), ${f(measuredS / 60, 1)} min`,
  );
  lines.push('');
  lines.push(
    `URL \`${wallUrl.replace(httpUrl, '')}\` · Chromium ${browser.version()} headless 1920×1080 (--disable-gpu) · backend accepted ${f(readingsPerS)} readings/s, sent this page ${f(liveSentPerS)} readings/s`,
  );
  lines.push(
    `load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}, mean 1-min load during the run ${f(loadMean, 2)} on ${os.cpus().length} cores (the machine may be shared)`,
  );
  lines.push(
    `baseline on an empty page just before: ${f(baseline.fps, 1)} fps, main thread busy ${f(baseline.busyPct, 1)} % (what this machine allows right now)`,
  );
  lines.push('');
  lines.push(
    '| minute | fps | chart draws/s | canvas resizes/s | worst frame ms | busy % | script % | layout+style % | long tasks/min | main-thread CPU % | heap MB after GC | DOM nodes | load 1m |',
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of samples) {
    if (s.fps === undefined) {
      lines.push(
        `| ${f(s.minute, 1)} | — | — | — | — | — | — | — | — | — | ${f(s.heapMb, 2)} | ${s.domNodes} | ${f(s.load1, 2)} |`,
      );
      continue;
    }
    lines.push(
      `| ${f(s.minute, 1)} | ${f(s.fps, 1)} | ${f(s.chartDrawsPerS)} | ${f(s.canvasResizesPerS, 1)} | ${f(s.worstFrameMs)} | ${f(s.busyPct, 1)} | ${f(s.scriptPct, 1)} | ${f(s.layoutPct + s.stylePct, 1)} | ${f(s.longTasksPerMin, 1)} | ${f(s.cpuPct.rendererMain, 1)} | ${f(s.heapMb, 2)} | ${s.domNodes} | ${f(s.load1, 2)} |`,
    );
  }
  lines.push('');
  const ok = (b) => (b ? 'PASS' : 'MISS');
  lines.push(
    `- fps: mean ${f(fpsMean, 1)} (lowest interval ${f(fpsMin, 1)}) — target ≥ ${TARGET.fps}: **${ok(verdict.fps.pass)}**`,
  );
  lines.push(
    `- main thread busy: mean ${f(busyMean, 1)} % (highest interval ${f(busyMax, 1)} %) — target < ${TARGET.busyPct} %: **${ok(verdict.busy.pass)}**`,
  );
  lines.push(
    `- JS heap after GC: start ${f(heapStart, 2)} MB, end ${f(heapEnd, 2)} MB, delta ${heapDelta >= 0 ? '+' : ''}${f(heapDelta, 2)} MB (${heapDeltaPct >= 0 ? '+' : ''}${f(heapDeltaPct, 1)} %), trend ${f(heapSlope * 1000, 0)} kB/min — target flat (< ${TARGET.heapMb} MB or < ${TARGET.heapPct} %): **${ok(heapFlat)}**`,
  );
  lines.push(
    `- DOM nodes: start ${samples[0].domNodes}, end ${samples[samples.length - 1].domNodes}; Blink Nodes metric (incl. detached) start ${samples[0].nodesMetric}, end ${samples[samples.length - 1].nodesMetric}; JS event listeners start ${samples[0].listeners}, end ${samples[samples.length - 1].listeners}`,
  );
  const cpuMean = (k) => mean(measured.map((s) => s.cpuPct[k]).filter((x) => x !== null));
  lines.push(
    `- main thread CPU time (CrRendererMain, /proc): mean ${f(cpuMean('rendererMain'), 1)} % — "busy %" above is wall time inside tasks (CDP TaskDuration) and also counts time the thread waited for a core, so on a loaded machine it reads higher than the CPU it used`,
  );
  lines.push(
    `- CPU (mean, % of one core): Chromium all processes ${f(cpuMean('chromium'))} %, renderer process ${f(cpuMean('renderer'))} %, backend ${f(cpuMean('backend'))} %, simulator ${f(cpuMean('simulator'))} %`,
  );
  if (profileSummary) {
    const c = profileSummary.categories;
    lines.push('');
    lines.push(
      `### CPU profile of the renderer main thread (${f(profileSummary.durationMs / 1000, 1)} s, after the run)`,
    );
    lines.push('');
    lines.push(
      `idle ${f(c.idle.pct, 1)} % · JS ${f(c.js.pct, 1)} % · GC ${f(c.gc.pct, 1)} % · (program: native, incl. layout/paint not attributed to JS) ${f(c.program.pct, 1)} %`,
    );
    lines.push('');
    lines.push('| self % | self ms | function | where | source starts with |');
    lines.push('|---:|---:|---|---|---|');
    for (const t of profileSummary.top)
      lines.push(
        `| ${f(t.pct, 2)} | ${f(t.selfMs, 0)} | \`${t.fn}\` | ${t.where} | ${t.source ? `\`${t.source}\`` : ''} |`,
      );
    lines.push('');
    lines.push(
      'By script: ' +
        profileSummary.byScript
          .slice(0, 6)
          .map((s) => `${s.script} ${f(s.pct, 1)} %`)
          .join(' · '),
    );
  }
  lines.push('');
  const text = lines.join('\n');
  console.log(text);

  const file = path.join(resultsDir, `wall-${stamp}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        kind: 'wall-longrun',
        startedAt: startedAt.toISOString(),
        options: opt,
        targets: TARGET,
        env: {
          node: process.version,
          chromium: browser.version(),
          cores: os.cpus().length,
          loadAtStart,
          loadMean,
        },
        page: {
          dashboardBuilt,
          scripts: [...sources.keys()].map((u) => u.replace(httpUrl, '')),
          url: wallUrl.replace(httpUrl, ''),
          tiles: shape.tiles,
          charts: shape.charts,
          canvases: shape.canvases,
          chartsVisible: shape.chartsVisible,
          metricsPerDevice: metricCount,
        },
        backend: { readingsPerS, liveSentPerS },
        baseline,
        samples,
        verdict,
        profile: profileSummary,
        profileFile: profileFile && path.relative(root, profileFile),
        screenshot: path.relative(root, screenshot),
      },
      null,
      2,
    ),
  );
  log(
    `wrote ${path.relative(root, file)}${profileFile ? ` and ${path.relative(root, profileFile)}` : ''}`,
  );

  stopping = true;
  await browser.close().catch(() => undefined);
  browser = null;
  killAll('SIGTERM');
  await sleep(500);
  killAll('SIGKILL');
  const pass = verdict.fps.pass && verdict.busy.pass && verdict.heap.pass;
  return opt.strict && !pass ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error) => {
    console.error(`wall-longrun: ${error?.stack ?? error}`);
    stopping = true;
    for (const c of children)
      console.error(`--- ${c.name} output (tail) ---\n${c.output().slice(-2000)}`);
    await browser?.close().catch(() => undefined);
    killAll('SIGKILL');
    process.exit(1);
  },
);

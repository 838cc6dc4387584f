#!/usr/bin/env node
// Two (or more) dashboard builds side by side on the overview `/` (or with --view device, a
// device's page), against ONE fleet, runs
// interleaved (A B, B A, A B, …): on this shared 2-core machine only a comparison inside one run
// means anything (bench/README.md). Same harness and definitions as bench:fleet.
//
//   node bench/fleet-ab.mjs [--devices 1000] [--runs 3] [--scroll 10] [--latency 100]
//                           [--throughput 8000] [--first-uncompressed] [--api-uncompressed]
//                           [--idle 20] [--unsettled-a] [--spinner-a]
//                           [--nice-fleet-a] [--view device|wall] [--history-minutes 60]
//                           [--wall-devices 12] [--warm 0] [--alert-storm] DIR_A DIR_B [DIR_C…]
//
// --view device: the page is `/devices/bench-history`, a device of four metrics whose last
// --history-minutes (default 60: the device page's window) of readings at 1/s are published
// stamped in the past before the first page (fleet/history-device.mjs); its metrics' cards are
// the tiles (first value, first live, all visible live). --view wall: the page is a wall board
// of --wall-devices such devices, `/wall?devices=…&window=<history-minutes>m` (at most 60).
// `largestFrameAtMs` is when the largest socket frame arrived (a window asked in a subscribe
// comes in it), `historyAtMs` when an HTTP window read (`/api/history`, `/api/devices/:id/history`)
// was in; `windowAtMs` is whichever brought the window: the HTTP read, else the largest socket
// frame with points in its history if it is window-sized (WINDOW_FRAME_BYTES; a rooms-only
// answer, device records and no points, is ~40 kB for 30 devices and does not count). Each page waits for its window (at most 15 s; the
// overview's: its first screen's sparkline points), so `httpKB` and `socketKB` include it.
// --warm S: the fleet runs S seconds before the first page (the overview's 5-minute window
// full at 300: its first screen's sparkline points as big as on a gateway that has run a while).
// --alert-storm: before the first page, the fleet benchmark's alert storm (two threshold rules
// every device breaks: about an open alert per device and metric, fleet/stack.mjs), so every page
// opens on a gateway holding that many open alerts (decision 0054).
// --latency N: Chromium's network emulation adds N ms to every request's round trip (CDP
// Network.emulateNetworkConditions), a screen far from its gateway. --throughput K: and caps
// its downloads and uploads at K kbit/s (a wall screen on Wi-Fi, a phone).
// --api-uncompressed: build A's `/api/` requests ask for no content encoding (the others keep
// Chromium's header; every build's `/api/` requests pass through CDP `Fetch` alike), to weigh
// the API's compression alone (decision 0047) with the same build as A and B. --idle N: N seconds
// after the visible tiles are live, the `/api/` bytes on the wire per second (`apiKBPerS`).
// --first-uncompressed: build A's pages ask for no content encoding (`Accept-Encoding: identity`
// through CDP Network.setExtraHTTPHeaders), so the gateway sends every file as it is, as
// it did before the dashboard was precompressed (decision 0045); give the same build as A and B
// to weigh the compression alone. Each page's HTTP bytes on the wire until its first live tile
// are reported (`httpKB`), and with every build the socket's bytes until every visible tile
// was live and its largest frame (`socketKB`, `largestFrameKB`).
// --unsettled-a: build A's pages are opened as soon as their window exists, while Chromium still
// starts that window's own WebUI (as every page was until session 32); the others wait for a
// quiet browser (wall/page.mjs settleBrowser). With the same build as A and B it weighs that
// start-up's share of the first live tile.
// --spinner-a: while build A's pages run, a busy loop at nice 19 (it takes only CPU nothing
// else wants, a core's worth on this 2-core machine). With the same build as A and B it shows
// what load on the other core alone does to the page's figures, whoever's load it is.
// --nice-fleet-a: while build A's pages run, every thread of the gateway and the simulator at
// nice 19 (back to their own for the others): whether the fleet's CPU hurts the page by taking its turns
// on a core or by running beside it.
//
// Each DIR is a built dashboard (a copy of dist/dashboard/browser). The built backend and
// simulator serve all of them from one directory (hash-named chunks side by side; index.html is
// swapped before each page). Per page, in a fresh browser context: time to the first value, the
// first live tile and all visible tiles live (fleet/measure.mjs timeToLive); with --scroll N, N
// seconds scrolling at 1,000 px/s (measureWindow: fps, busy, script %), the renderer processes'
// and the GPU process's CPU ms per second from /proc (load-independent work; the GPU process
// composites, in software here), and the elements the page inserted per
// second (a MutationObserver: tiles and rows made, or recycled rows put back). Prints the median
// and spread per build and the load average; writes bench/results/fleet-ab-<timestamp>.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFlags, printHeaderUsage } from './lib/args.mjs';
import { sleep } from './lib/util.mjs';
import { spreadByFigure, writeComparison } from './fleet/compare.mjs';
import { measureWindow, timeToLive } from './fleet/measure.mjs';
import { fleetBenchInit } from './fleet/page-probe.mjs';
import { cpuMsPerS, gpuProcessCpuMs, rendererCpuMs } from './fleet/renderer-cpu.mjs';
import { HISTORY_DEVICE_ID, startHistoryDevices } from './fleet/history-device.mjs';
import { PROBE_ID, raiseAlertStorm, startFleet, stopFleet } from './fleet/stack.mjs';
import { newPage, openBrowser } from './wall/page.mjs';
import {
  ensureBuilt,
  exitWith,
  guardRun,
  killAll,
  killChild,
  start,
  stopAll,
} from './wall/stack.mjs';

const entry = new URL(import.meta.url).pathname;
const fail = (msg) => {
  console.error(`fleet-ab: ${msg}`);
  process.exit(2);
};
const FLAGS = {
  '--devices': { key: 'devices', type: 'number', min: 1, max: 20_000, integer: true },
  '--runs': { key: 'runs', type: 'number', min: 1, max: 15, integer: true },
  '--scroll': { key: 'scroll', type: 'number', min: 0, max: 120 },
  '--latency': { key: 'latency', type: 'number', min: 0, max: 2000 },
  '--throughput': { key: 'throughput', type: 'number', min: 0, max: 10_000_000 },
  '--first-uncompressed': { key: 'firstUncompressed', type: 'flag' },
  '--api-uncompressed': { key: 'apiUncompressed', type: 'flag' },
  '--idle': { key: 'idle', type: 'number', min: 0, max: 120 },
  '--unsettled-a': { key: 'unsettledA', type: 'flag' },
  '--spinner-a': { key: 'spinnerA', type: 'flag' },
  '--nice-fleet-a': { key: 'niceFleetA', type: 'flag' },
  '--view': { key: 'view', type: 'string', choices: ['overview', 'device', 'wall'] },
  '--history-minutes': { key: 'historyMinutes', type: 'number', min: 1, max: 24 * 60 },
  '--wall-devices': { key: 'wallDevices', type: 'number', min: 1, max: 48, integer: true },
  '--warm': { key: 'warm', type: 'number', min: 0, max: 900, integer: true },
  '--alert-storm': { key: 'alertStorm', type: 'flag' },
};
// The directories: every argument that is neither a flag nor the value of one that takes one.
const takesValue = (a) => a?.startsWith('--') && FLAGS[a]?.type !== 'flag';
const dirs = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith('-') && !takesValue(all[i - 1]));
const { values: opt } = parseFlags(
  process.argv.slice(2).filter((a) => !dirs.includes(a)),
  FLAGS,
  {
    devices: 1000,
    runs: 3,
    scroll: 0,
    latency: 0,
    throughput: 0,
    firstUncompressed: false,
    apiUncompressed: false,
    idle: 0,
    unsettledA: false,
    spinnerA: false,
    niceFleetA: false,
    view: 'overview',
    historyMinutes: 60,
    wallDevices: 12,
    warm: 0,
    alertStorm: false,
  },
  { fail, help: () => printHeaderUsage(entry, 61) },
);
if (dirs.length < 2) fail('give at least two dashboard build directories');
for (const d of dirs) if (!fs.existsSync(path.join(d, 'index.html'))) fail(`${d}: no index.html`);
const labels = dirs.map((d, i) => `${String.fromCharCode(65 + i)}:${path.basename(d)}`);
guardRun(
  (300 + opt.warm + opt.runs * dirs.length * (40 + opt.idle + opt.scroll)) * 1000,
  'fleet-ab',
);
let browser = null;
/** The page's path (set once the fleet and its history devices are up). */
let route = '/';
/**
 * A socket frame with points this big is a window asked in a subscribe (a scroll batch's are a
 * few kB): the
 * overview's first screen of sparkline points (~55–90 kB at 1,000 devices), a wall board's window
 * (12 devices × 5 min: ~140 kB), a device page's hour (~160 kB).
 */
const WINDOW_FRAME_BYTES = { overview: 20_000, wall: 50_000, device: 100_000 };

/**
 * The page's `/api/` requests paused (CDP `Fetch`) and sent on with `Accept-Encoding: encoding`,
 * or with Chromium's own header when `encoding` is null: both builds' requests take the same
 * detour, so only the header differs between them.
 */
async function askApiAs(cdp, encoding) {
  await cdp.send('Fetch.enable', {
    patterns: [{ urlPattern: '*/api/*', requestStage: 'Request' }],
  });
  cdp.on('Fetch.requestPaused', (e) => {
    const headers = Object.entries(e.request.headers)
      .filter(([name]) => encoding === null || name.toLowerCase() !== 'accept-encoding')
      .map(([name, value]) => ({ name, value }));
    if (encoding !== null) headers.push({ name: 'Accept-Encoding', value: encoding });
    cdp.send('Fetch.continueRequest', { requestId: e.requestId, headers }).catch(() => undefined);
  });
}

/**
 * One page of build `index`: time to live, then (with --idle) the idle window's API bytes, then
 * (with --scroll) the scrolling window.
 */
async function pageRun(fleet, chromePid, index) {
  const { context, page, cdp } = await newPage(browser, {
    initScripts: [{ script: fleetBenchInit, arg: { probeId: PROBE_ID } }],
    label: 'fleet-ab',
    settle: !(opt.unsettledA && index === 0),
  });
  try {
    // HTTP bytes as they crossed the wire (compressed or not), the page's requests only; with
    // --idle, those of its `/api/` requests in the idle window too.
    let httpBytes = 0;
    let apiBytes = 0;
    let idling = false;
    const apiRequests = new Set();
    // A window read over HTTP (decisions 0050, 0051): when it was in, ms after the page's own
    // request (CDP's clock, not the page's).
    const historyRequests = new Set();
    let navigatedAt = null;
    let historyAtMs = null;
    await cdp.send('Network.enable');
    cdp.on('Network.requestWillBeSent', (e) => {
      navigatedAt ??= e.timestamp;
      const { pathname } = new URL(e.request.url);
      if (pathname.startsWith('/api/')) apiRequests.add(e.requestId);
      if (/^\/api\/(devices\/[^/]+\/)?history$/.test(pathname)) historyRequests.add(e.requestId);
    });
    cdp.on('Network.loadingFinished', (e) => {
      httpBytes += e.encodedDataLength;
      if (idling && apiRequests.has(e.requestId)) apiBytes += e.encodedDataLength;
      if (historyRequests.has(e.requestId) && navigatedAt !== null)
        historyAtMs ??= (e.timestamp - navigatedAt) * 1000;
    });
    if (opt.firstUncompressed && index === 0)
      await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'identity' } });
    if (opt.apiUncompressed) await askApiAs(cdp, index === 0 ? 'identity' : null);
    // A screen far from its gateway: Chromium adds the round trip to every HTTP request, and
    // with --throughput caps the link (bytes per second).
    if (opt.latency > 0 || opt.throughput > 0)
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: opt.latency,
        downloadThroughput: opt.throughput > 0 ? (opt.throughput * 1000) / 8 : -1,
        uploadThroughput: opt.throughput > 0 ? (opt.throughput * 1000) / 8 : -1,
      });
    await page.goto(`${fleet.backend.httpUrl}${route}`, { waitUntil: 'commit' });
    const ttl = await timeToLive(page, 30_000);
    // The page's window: wait for it (at most 15 s) if it is still on its way, as an HTTP answer
    // or a window-sized socket frame with points.
    const end = performance.now() + 15_000;
    const windowFrame = WINDOW_FRAME_BYTES[opt.view];
    const probe = () =>
      page
        .evaluate(() => {
          const fb = window.__fleetBench;
          return {
            bytes: fb.bytes,
            maxFrame: fb.maxFrame,
            maxFrameMs: fb.maxFrameMs,
            maxHistoryFrame: fb.maxHistoryFrame,
            maxHistoryFrameMs: fb.maxHistoryFrameMs,
          };
        })
        .catch(() => null);
    let frames = await probe();
    while (historyAtMs === null && performance.now() < end) {
      if ((frames?.maxHistoryFrame ?? 0) >= windowFrame) break;
      await sleep(50);
      frames = await probe();
    }
    if (frames) {
      ttl.largestFrameAtMs = frames.maxFrameMs;
      ttl.largestFrameBytes = frames.maxFrame;
      ttl.socketBytes = frames.bytes;
    }
    const windowFrameAtMs =
      (frames?.maxHistoryFrame ?? 0) >= windowFrame ? frames.maxHistoryFrameMs : null;
    const row = {
      firstValueMs: ttl.firstValueMs,
      firstLiveMs: ttl.firstLiveMs,
      visibleLiveMs: ttl.visibleLiveMs,
      httpKB: Math.round(httpBytes / 1024),
      // The socket's frames until every visible tile was live, and the largest of them.
      socketKB: Math.round(ttl.socketBytes / 1000),
      largestFrameKB: Math.round(ttl.largestFrameBytes / 1000),
      largestFrameAtMs: ttl.largestFrameAtMs,
      historyAtMs,
      windowAtMs: historyAtMs ?? windowFrameAtMs,
    };
    if (opt.idle > 0) {
      idling = true;
      await sleep(opt.idle * 1000);
      idling = false;
      row.apiKBPerS = apiBytes / 1000 / opt.idle;
    }
    if (opt.scroll > 0) {
      await page.evaluate(() => window.__fleetBench.stop());
      await sleep(2000);
      await page.evaluate(() => {
        window.__inserted = 0;
        new MutationObserver((records) => {
          for (const r of records)
            for (const n of r.addedNodes)
              if (n.nodeType === 1) window.__inserted += 1 + n.getElementsByTagName('*').length;
        }).observe(document, { subtree: true, childList: true });
      });
      const cpu0 = rendererCpuMs(chromePid);
      const gpu0 = gpuProcessCpuMs(chromePid);
      const w = await measureWindow(page, cdp, {
        seconds: opt.scroll,
        scrollPxPerS: 1000,
        httpUrl: fleet.backend.httpUrl,
      });
      Object.assign(row, {
        fps: w.fps,
        busyPct: w.busyPct,
        scriptPct: w.scriptPct,
        rendererCpuMsPerS: cpuMsPerS(cpu0, rendererCpuMs(chromePid), w.seconds),
        gpuCpuMsPerS: cpuMsPerS(gpu0, gpuProcessCpuMs(chromePid), w.seconds),
        insertedPerS: (await page.evaluate(() => window.__inserted)) / w.seconds,
        scrolledPxPerS: w.scrollPxPerS,
      });
    }
    return row;
  } finally {
    await context.close();
  }
}

/** A busy loop at the lowest priority (--spinner-a), killed by the caller (and by killAll). */
const startSpinner = () =>
  start('nice', ['-n', '19', process.execPath, '-e', 'for (;;);'], { name: 'spinner' });

/**
 * Every thread of the gateway and the simulator at nice 19 (`low`), or back at the nice each had
 * before (--nice-fleet-a). Raising a thread's priority back needs root (this machine's benches
 * run as root); a thread that ended meanwhile, or a refusal, is skipped and logged once.
 */
const niceBefore = new Map();
let niceRefused = false;
function niceFleet(fleet, low) {
  for (const pid of [fleet.backend.pid, fleet.sim.pid]) {
    let tids = [];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`).map(Number);
    } catch {
      continue; // the process is gone
    }
    for (const tid of tids) {
      try {
        if (!niceBefore.has(tid)) niceBefore.set(tid, os.getPriority(tid));
        os.setPriority(tid, low ? 19 : niceBefore.get(tid));
      } catch (error) {
        if (!niceRefused)
          console.error(`fleet-ab: --nice-fleet-a: thread ${tid}: ${error.message}`);
        niceRefused = true;
      }
    }
  }
}

async function main() {
  ensureBuilt();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const served = fs.mkdtempSync(path.join(os.tmpdir(), 'pulse-fleet-ab-'));
  process.on('exit', () => fs.rmSync(served, { recursive: true, force: true }));
  dirs.forEach((d, i) => {
    fs.cpSync(d, served, { recursive: true });
    fs.copyFileSync(path.join(d, 'index.html'), path.join(served, `index-${i}.html`));
  });
  // index.html is swapped before each page: a compressed sibling would be one build's for all.
  for (const ext of ['.br', '.gz'])
    fs.rmSync(path.join(served, `index.html${ext}`), { force: true });
  const session = await openBrowser();
  browser = session.browser;
  const fleet = await startFleet({ devices: opt.devices, dashboardDir: served, boundS: 3600 });
  const history =
    opt.view === 'overview'
      ? null
      : await startHistoryDevices(fleet.backend.mqttPort, {
          minutes: opt.historyMinutes,
          count: opt.view === 'wall' ? opt.wallDevices : 1,
        });
  route =
    opt.view === 'device'
      ? `/devices/${HISTORY_DEVICE_ID}`
      : opt.view === 'wall'
        ? `/wall?devices=${history.ids.join(',')}&window=${Math.min(60, opt.historyMinutes)}m`
        : '/';
  const loads = [os.loadavg()[0]];
  const results = Object.fromEntries(labels.map((l) => [l, []]));
  try {
    if (opt.alertStorm) opt.openAlerts = await raiseAlertStorm(fleet);
    await sleep(Math.max(3, opt.warm) * 1000);
    for (let run = 0; run < opt.runs; run++) {
      const order = dirs.map((_, i) => i);
      if (run % 2) order.reverse();
      for (const i of order) {
        fs.copyFileSync(path.join(served, `index-${i}.html`), path.join(served, 'index.html'));
        if (opt.niceFleetA) niceFleet(fleet, i === 0);
        let spinner = null;
        let row;
        try {
          if (opt.spinnerA && i === 0) spinner = startSpinner();
          row = { ...(await pageRun(fleet, session.chromePid, i)), load1: os.loadavg()[0] };
        } finally {
          if (spinner) killChild(spinner);
        }
        loads.push(row.load1);
        results[labels[i]].push(row);
        console.log(labels[i], JSON.stringify(row));
      }
    }
  } finally {
    await history?.stop();
    await stopFleet(fleet);
  }
  const summary = Object.fromEntries(labels.map((l) => [l, spreadByFigure(results[l])]));
  console.log(JSON.stringify(summary, null, 1));
  console.log(
    `load average (1 min) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
  );
  writeComparison('fleet-ab', stamp, { opt, builds: labels, loads, summary, results });
  stopAll();
  await browser.close().catch(() => undefined);
  browser = null;
  killAll('SIGKILL');
  return 0;
}

exitWith(main(), 'fleet-ab', async () => browser?.close().catch(() => undefined));

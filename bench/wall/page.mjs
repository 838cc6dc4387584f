// The wall page in headless Chromium, driven over playwright and CDP: the counters injected before
// the app (rAF frames, chart draws, canvas resizes, long tasks), what a read of the page returns,
// CDP metrics and the heap after a forced GC, the empty-page baseline, opening /wall and the
// warm-up. Owns the browser session and everything read inside the page; must not start or stop
// the backend (stack.mjs) nor turn readings into a verdict (report.mjs).
import os from 'node:os';
import { chromium } from 'playwright-core';
import { fmt } from '../lib/format.mjs';
import { sleep, waitFor } from '../lib/util.mjs';
import { log } from './log.mjs';
import { cpuByPid, findChromium, snapshot } from './procs.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Runs before the app.
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
export function readPage(page) {
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

export async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

/**
 * JS heap in use right after a forced full GC. Readings keep arriving between the GC and
 * the read, so take the lower of two GC+read rounds to keep in-flight garbage out.
 */
export async function heapAfterGc(cdp) {
  let best = null;
  for (let i = 0; i < 2; i++) {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize, totalSize } = await cdp.send('Runtime.getHeapUsage');
    if (!best || usedSize < best.used) best = { used: usedSize, total: totalSize };
  }
  return best;
}

/** Chromium's browser process of each browser openBrowser launched (for newPage's settle). */
const browserPids = new WeakMap();

/** Headless Chromium at 1920×1080 with the counters injected; `chromePid` for /proc sampling. */
export async function openBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const chromePid = findChromium(snapshot(), process.pid);
  if (chromePid) browserPids.set(browser, chromePid);
  const { page, cdp } = await newPage(browser);
  return { browser, chromePid, page, cdp };
}

/** A window of this long counts as quiet when Chromium's processes used under QUIET_SHARE of a core. */
const QUIET_WINDOW_MS = 250;
const QUIET_SHARE = 0.1;
/** Quiet windows in a row before a page is handed over. */
const QUIET_WINDOWS = 2;
/** Longest wait for quiet; the page is handed over anyway after it (and it is logged). */
const SETTLE_MAX_MS = 10_000;

/**
 * Wait until Chromium's process tree is quiet. Each new context opens a new window, and this
 * Chromium (156) starts the window's own WebUI (the omnibox's composebox) in a renderer of its
 * own: about 2 s of CPU in the first 1.4 s, measured before any navigation. Navigating at once
 * made every page load share two cores with that start-up (the overview's first live tile at
 * 1,000 devices 1.21 s, against 0.73 s once it was over, six loads each alternated; session 32).
 * A screen opens the dashboard in a browser already running, so pages are measured from a quiet
 * browser. Returns the ms waited.
 */
export async function settleBrowser(browser) {
  // Launched elsewhere (transport-browser.mjs): this process's one Chromium.
  const pid = browserPids.get(browser) ?? findChromium(snapshot(), process.pid);
  if (!pid) return 0;
  const started = performance.now();
  let quiet = 0;
  let last = cpuByPid(snapshot(), pid);
  while (quiet < QUIET_WINDOWS) {
    if (performance.now() - started > SETTLE_MAX_MS) {
      log(`Chromium still busy after ${SETTLE_MAX_MS} ms: the page is opened anyway`);
      break;
    }
    await sleep(QUIET_WINDOW_MS);
    const now = cpuByPid(snapshot(), pid);
    // Per process: one that exited (a closed page's renderer) takes its CPU out of a total, and
    // would make a busy window look quiet; a new one counts from its start.
    let usedS = 0;
    for (const [p, cpuS] of now) usedS += cpuS - (last.get(p) ?? 0);
    quiet = usedS * 1000 < QUIET_WINDOW_MS * QUIET_SHARE ? quiet + 1 : 0;
    last = now;
  }
  return performance.now() - started;
}

/**
 * A page in a fresh context (own cookies, own renderer heap) with the frame counters injected,
 * then `initScripts` (each a string or `{ script, arg }` for playwright's addInitScript), and a
 * CDP session with Performance enabled, handed over once Chromium is quiet (settleBrowser). Page
 * errors and console errors/warnings go to stderr prefixed with `label`.
 */
export async function newPage(
  browser,
  {
    viewport = { width: 1920, height: 1080 },
    initScripts = [],
    label = 'wall-longrun',
    // false: handed over at once, the new window's start-up still running (fleet-ab --unsettled-a).
    settle = true,
  } = {},
) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`${label}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      console.error(`${label}: page console.${m.type()}: ${m.text()}`);
  });
  await page.addInitScript(INIT_SCRIPT);
  for (const s of initScripts)
    await (typeof s === 'string' ? page.addInitScript(s) : page.addInitScript(s.script, s.arg));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  if (settle) await settleBrowser(browser);
  return { context, page, cdp };
}

/** The same counters on a page without the app, to tell this machine's load from the app's cost. */
export async function measureBaseline(page, cdp, httpUrl, seconds = 10) {
  await page.goto(`${httpUrl}/api/health`, { waitUntil: 'load' });
  await sleep(1000);
  const bm0 = await metrics(cdp);
  const bp0 = await page.evaluate(() => window.__wallBench.frames);
  const bt0 = performance.now();
  await sleep(seconds * 1000);
  const bm1 = await metrics(cdp);
  const bp1 = await page.evaluate(() => window.__wallBench.frames);
  const bdt = (performance.now() - bt0) / 1000;
  const baseline = {
    fps: (bp1 - bp0) / bdt,
    busyPct: (100 * (bm1.TaskDuration - bm0.TaskDuration)) / bdt,
    load1: os.loadavg()[0],
  };
  log(
    `baseline (empty page, ${seconds} s): ${fmt(baseline.fps, 1)} fps, busy ${fmt(baseline.busyPct, 1)} %, load ${fmt(baseline.load1, 2)}`,
  );
  return baseline;
}

/**
 * Opens /wall for the run's options and waits until every tile's charts draw data. Returns the
 * URL, the page's shape and the page's scripts (for naming profile entries: minified).
 */
export async function openWall(page, httpUrl, opt) {
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
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `${opt.devices} wall tiles with every chart drawing data`,
    },
  );
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
  return { wallUrl, shape, sources };
}

/** At least opt.warmup s, and until the charts' windows stop filling (ring buffers full), ≤ 3 min. */
export async function warmUp(page, opt) {
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
      return;
    }
  }
}

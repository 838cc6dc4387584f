// The browser fleet benchmark's measurements on one open page: a window of N seconds, idle or
// while scrolling at a steady speed (rAF fps, worst frame, main-thread busy from CDP TaskDuration,
// then DOM nodes and the JS heap after a forced GC); the time to the first live tile from
// navigation; and socket-to-screen latency of the probe's unique values. Owns the arithmetic of
// one measurement; must not start processes (stack.mjs), open pages (fleet-browser.mjs) nor
// judge against goals (report.mjs).
import { sleep } from '../lib/util.mjs';
import { heapAfterGc, metrics } from '../wall/page.mjs';
import { rendererMainThreadCpuS, snapshot } from '../wall/procs.mjs';
import { readTiles, startScroll, stopScroll } from './page-probe.mjs';
import { readingsAccepted } from './stack.mjs';

const mb = (b) => b / 1048576;
const frames = (page) =>
  page.evaluate(() => {
    const s = window.__wallBench;
    const out = { frames: s.frames, maxGapMs: s.maxGapMs, slowFrames: s.slowFrames };
    s.maxGapMs = 0;
    return out;
  });

/**
 * `seconds` of the open page, scrolling at `scrollPxPerS` when given. The heap is read after the
 * window so the forced GC is not counted in it. `httpUrl` for the backend's accepted rate; with
 * `chromePid` (the browser process), the CPU time of the renderers' main threads from /proc,
 * which unlike busy % does not stretch with the load beside the browser (README, session 32).
 */
export async function measureWindow(page, cdp, { seconds, scrollPxPerS = 0, httpUrl, chromePid }) {
  let scroller = null;
  if (scrollPxPerS > 0) scroller = await page.evaluate(startScroll, scrollPxPerS);
  const mainCpu = () => (chromePid ? rendererMainThreadCpuS(snapshot(), chromePid) : 0);
  const m0 = await metrics(cdp);
  const f0 = await frames(page);
  const r0 = await readingsAccepted(httpUrl);
  const c0 = mainCpu();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  // Over its own span, read right around the sleep (the reads below are round trips).
  const c1 = mainCpu();
  const cpuS = (performance.now() - t0) / 1000;
  const m1 = await metrics(cdp);
  const f1 = await frames(page);
  const r1 = await readingsAccepted(httpUrl);
  const dt = (performance.now() - t0) / 1000;
  const cdpS = m1.Timestamp - m0.Timestamp;
  const scrolledPx = scrollPxPerS > 0 ? await page.evaluate(stopScroll) : 0;
  const domNodes = await page.evaluate(() => document.getElementsByTagName('*').length);
  const heap = await heapAfterGc(cdp);
  return {
    seconds: dt,
    fps: (f1.frames - f0.frames) / dt,
    worstFrameMs: f1.maxGapMs,
    slowFramesPerS: (f1.slowFrames - f0.slowFrames) / dt,
    // Over the renderer's own clock (the metrics' Timestamp): on a jammed main thread a CDP read
    // waits for the running task, so Node's clock would split busy time unevenly between windows.
    busyPct: (100 * (m1.TaskDuration - m0.TaskDuration)) / cdpS,
    scriptPct: (100 * (m1.ScriptDuration - m0.ScriptDuration)) / cdpS,
    // Every renderer's main thread: the page's, and idle ones (the baseline page, the windows' own
    // WebUI) at a few ms a second.
    ...(chromePid ? { mainThreadCpuMsPerS: ((c1 - c0) * 1000) / cpuS } : {}),
    domNodes,
    heapMb: mb(heap.used),
    acceptedPerS: (r1 - r0) / dt,
    ...(scrollPxPerS > 0 ? { scroller, scrolledPx, scrollPxPerS: scrolledPx / dt } : {}),
  };
}

/**
 * Polls the page from navigation until every tile in the viewport has gone live (or `timeoutMs`):
 * first tile with a value, first live tile, all visible tiles live, all in ms since navigation
 * start (the page's performance.now()). Nulls when a moment never came.
 */
export async function timeToLive(page, timeoutMs) {
  const end = performance.now() + timeoutMs;
  let last = null;
  let allLiveMs = null;
  for (;;) {
    last = await page.evaluate(readTiles).catch(() => last);
    if (last && last.visible > 0 && last.live >= last.visible) {
      allLiveMs = last.nowMs;
      break;
    }
    if (performance.now() > end) break;
    await sleep(50);
  }
  return {
    firstValueMs: last?.firstValueMs ?? null,
    firstLiveMs: last?.firstLiveMs ?? null,
    // Polled every 50 ms: this figure is up to ~50 ms late, the two above are exact.
    visibleLiveMs: allLiveMs,
    visibleTiles: last?.visible ?? 0,
    visibleLive: last?.live ?? 0,
    socketFrames: last?.frames ?? 0,
    socketBytes: last?.bytes ?? 0,
    largestFrameBytes: last?.maxFrame ?? 0,
    largestFrameAtMs: last?.maxFrameMs ?? null,
  };
}

/** p-th percentile (nearest rank) of `xs`; null when empty. */
export function percentile(xs, p) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Socket-to-screen latency on the open page: waits until a probe value shows (the page shows the
 * probe), then has the page expect the next `values` probe values, and waits 3 s after the last.
 * Latency = DOM appearance − socket arrival; "skipped" = reached the socket, never on screen;
 * "lost" = neither on the socket nor on screen.
 */
export async function measureLatency(page, probe, { values, warmupTimeoutMs = 20_000 }) {
  probe.watch(page);
  try {
    const shown = async () =>
      page.evaluate(() =>
        Object.values(window.__fleetBench.results()).some((e) => e.domMs !== null),
      );
    const end = performance.now() + warmupTimeoutMs;
    while (!(await shown())) {
      if (performance.now() > end) return { onScreen: false, values: 0 };
      await sleep(200);
    }
    const before = new Set(Object.keys(await page.evaluate(() => window.__fleetBench.results())));
    await sleep(values * 1000 + 200);
    probe.watch(null);
    await sleep(3000);
    const all = await page.evaluate(() => window.__fleetBench.results());
    const measured = Object.entries(all)
      .filter(([v]) => !before.has(v))
      .slice(0, values)
      .map(([value, e]) => ({ value, ...e }));
    const lat = measured
      .filter((e) => e.socketMs !== null && e.domMs !== null)
      .map((e) => e.domMs - e.socketMs);
    const paint = measured
      .filter((e) => e.socketMs !== null && e.paintMs !== null)
      .map((e) => e.paintMs - e.socketMs);
    return {
      onScreen: true,
      values: measured.length,
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      maxMs: lat.length ? Math.max(...lat) : null,
      paintP50Ms: percentile(paint, 50),
      paintP99Ms: percentile(paint, 99),
      skipped: measured.filter((e) => e.socketMs !== null && e.domMs === null).length,
      lost: measured.filter((e) => e.socketMs === null && e.domMs === null).length,
      // On screen, but no frame matched its text: the socket encoding changed (a harness fault).
      unmatched: measured.filter((e) => e.socketMs === null && e.domMs !== null).length,
      samples: measured,
    };
  } finally {
    probe.watch(null);
  }
}

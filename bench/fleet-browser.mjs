#!/usr/bin/env node
// `npm run bench:fleet` — the dashboard at fleet scale in headless Chromium (issue 11).
//
//   node bench/fleet-browser.mjs [--quick] [--only latency,overview,alerts,heatmap] [--runs 3]
//                                [--seconds 15] [--values 12] [--scroll-speed 1000]
//                                [--large 10000] [--baseline 10] [--strict]
//
// Fleets of simulated devices at 1 reading/s each behind the built backend (embedded broker):
//   latency   socket → DOM latency of a probe device's unique values (--values, one a second) on
//             the overview, the device view and the wall, at 12 and at 1,000 devices
//   overview  `/` at 1,000 and at --large devices: first live tile after navigation, fps and main
//             thread busy idle and while scrolling (--scroll-speed px/s), DOM nodes and heap after
//             GC (flat = large ≤ 1.2× the 1,000 figure), the fleet ack's size (subscribe summary)
//   alerts    `/alerts` with 5,000 active alerts (rules created over the REST API as admin)
//   heatmap   `/wall?view=heatmap` with 2,000 devices at 3840×2160 ("view not available" if none)
// --quick: 1 run, 5 s windows, 5 latency values (smoke: 8 min at load average 20 on 2 cores, two
// of them starting the five fleets). Default 3 runs, each figure the median with its spread
// (min–max). --strict: exit 1 when a goal is missed.
//
// Same harness as bench:wall (wall/stack.mjs, wall/page.mjs): built backend + simulator, Chromium
// at /usr/bin/chromium over playwright-core and CDP (rAF frame counter, Performance.getMetrics
// TaskDuration, heap after a forced GC, DOM nodes), an empty-page baseline first. The goals are
// fixed in fleet/report.mjs. Prints the machine's load average, a markdown table and the verdict,
// writes bench/results/fleet-<timestamp>.json. Every child is killed on exit; the run is bounded.
//
// This file only orchestrates: flags (fleet/args.mjs), each fleet in turn (fleet/stack.mjs), the
// pages and what is measured on them (fleet/measure.mjs, fleet/page-probe.mjs), the report
// (fleet/report.mjs). It must not measure or format figures itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt } from './lib/format.mjs';
import { benchDir, root } from './lib/procs.mjs';
import { sleep } from './lib/util.mjs';
import { parseFleetArgs } from './fleet/args.mjs';
import { measureLatency, measureWindow, timeToLive } from './fleet/measure.mjs';
import { fleetBenchInit } from './fleet/page-probe.mjs';
import { judge, reportText, writeResults } from './fleet/report.mjs';
import {
  PROBE_ID,
  fleetAckSize,
  raiseAlertStorm,
  readingsAccepted,
  startFleet,
  stopFleet,
} from './fleet/stack.mjs';
import { log, setLogPrefix } from './wall/log.mjs';
import { measureBaseline, newPage, openBrowser } from './wall/page.mjs';
import { copyDashboard, ensureBuilt, exitWith, guardRun, killAll, stopAll } from './wall/stack.mjs';

const opt = parseFleetArgs(process.argv.slice(2));
setLogPrefix('fleet');
// Hard bound on the whole run (the simulators' --duration too): fleets' start-up, then per run the
// windows, the latency pages (values + warm-up + 3 s each) and page loads, plus slack.
const boundS = Math.ceil(420 + opt.runs * (12 * opt.seconds + 9 * (opt.values + 12) + 120));
guardRun(boundS * 1000, 'fleet-browser');
let browser = null;
/** Chromium's browser process, for the renderers' CPU from /proc (measureWindow). */
let chromePid = null;

/** Fleets in run order and what each serves; scenarios not asked for drop out. */
function plan() {
  const want = (id) => opt.only.includes(id);
  return [
    { devices: 12, tasks: want('latency') ? ['latency'] : [] },
    {
      devices: 1000,
      tasks: [...(want('latency') ? ['latency'] : []), ...(want('overview') ? ['overview'] : [])],
    },
    { devices: 2000, tasks: want('heatmap') ? ['heatmap'] : [] },
    { devices: 5000, tasks: want('alerts') ? ['alerts'] : [] },
    { devices: opt.large, tasks: want('overview') ? ['overview'] : [] },
  ].filter((f) => f.tasks.length);
}

const LATENCY_PAGES = [
  ['overview', '/'],
  ['device', `/devices/${PROBE_ID}`],
  ['wall', `/wall?devices=${PROBE_ID}`],
];

async function openPage(url, viewport) {
  const session = await newPage(browser, {
    viewport,
    initScripts: [{ script: fleetBenchInit, arg: { probeId: PROBE_ID } }],
    label: 'fleet-browser',
  });
  await session.page.goto(url, { waitUntil: 'commit' });
  return session;
}

/** Idle, then scrolling, each `opt.seconds`, with the page-side observer stopped first. */
async function windows(page, cdp, httpUrl) {
  await page.evaluate(() => window.__fleetBench.stop());
  await sleep(1000);
  const idle = await measureWindow(page, cdp, { seconds: opt.seconds, httpUrl, chromePid });
  const scroll = await measureWindow(page, cdp, {
    seconds: opt.seconds,
    chromePid,
    scrollPxPerS: opt.scrollSpeed,
    httpUrl,
  });
  log(
    `  idle ${fmt(idle.fps, 1)} fps, busy ${fmt(idle.busyPct, 1)} %, DOM ${idle.domNodes}, heap ${fmt(idle.heapMb, 1)} MB; scrolling (${scroll.scroller ?? 'nothing scrolls'}) ${fmt(scroll.fps, 1)} fps, busy ${fmt(scroll.busyPct, 1)} % (main thread CPU ${fmt(scroll.mainThreadCpuMsPerS, 0)} ms/s); backend ${fmt(idle.acceptedPerS, 0)} readings/s`,
  );
  return { idle, scroll };
}

async function overviewRun(fleet, shot) {
  const { httpUrl } = fleet.backend;
  const { context, page, cdp } = await openPage(`${httpUrl}/`);
  try {
    const ttl = await timeToLive(page, 15_000);
    log(
      `  overview: first value ${fmt(ttl.firstValueMs, 0)} ms, first live tile ${fmt(ttl.firstLiveMs, 0)} ms, ${ttl.visibleLive}/${ttl.visibleTiles} visible tiles live at ${fmt(ttl.visibleLiveMs, 0)} ms; largest frame ${fmt(ttl.largestFrameBytes / 1000, 0)} kB`,
    );
    if (shot) await page.screenshot({ path: shot });
    return { ttl, ...(await windows(page, cdp, httpUrl)) };
  } finally {
    await context.close();
  }
}

async function alertsRun(fleet, activeAlerts) {
  const { httpUrl } = fleet.backend;
  const { context, page, cdp } = await openPage(`${httpUrl}/alerts`);
  try {
    await page.waitForLoadState('load');
    await sleep(3000);
    return { activeAlerts, ...(await windows(page, cdp, httpUrl)) };
  } finally {
    await context.close();
  }
}

/** `promise`, or `fallback` once `ms` pass (a page too busy to answer must not stall the run). */
const within = (promise, ms, fallback) =>
  Promise.race([promise.catch(() => fallback), sleep(ms).then(() => fallback)]);

const HEAT_SELECTOR =
  '[data-testid*="heat"], [class*="heat"], [data-view="heatmap"], app-heatmap, app-heat-map, app-wall-heatmap';
const NO_HEATMAP = 'view not available (no heat-map element on /wall?view=heatmap)';

/**
 * The heat map is another branch's work (its `[data-testid=heat-map]` canvas): any element whose
 * test id or class says "heat" (or a heat-map component) counts. Up to 20 s for it to show; a page that shows wall tiles and no heat
 * map for 5 s, or stops answering, has none.
 */
async function heatmapRun(fleet, shot) {
  const { httpUrl } = fleet.backend;
  const { context, page, cdp } = await openPage(`${httpUrl}/wall?view=heatmap`, {
    width: 3840,
    height: 2160,
  });
  try {
    const end = performance.now() + 20_000;
    let found = false;
    let tilesSince = null;
    while (!found && performance.now() < end) {
      const seen = await within(
        page.evaluate(
          (sel) => ({
            heat: document.querySelector(sel) !== null,
            tiles: document.querySelector('app-wall-tile') !== null,
          }),
          HEAT_SELECTOR,
        ),
        3000,
        null,
      );
      found = seen?.heat ?? false;
      if (seen?.tiles && !found) tilesSince ??= performance.now();
      if (tilesSince !== null && performance.now() - tilesSince > 5000) break;
      if (!found) await sleep(500);
    }
    if (!found) {
      log(`  heat map: ${NO_HEATMAP}`);
      return { unavailable: NO_HEATMAP };
    }
    await sleep(3000);
    if (shot) await page.screenshot({ path: shot });
    // The heat map states its cell count (data-cells); a DOM-cell heat map is counted instead.
    const cells = await page.evaluate(() => {
      const stated = document.querySelector('[data-testid=heat-map]')?.getAttribute('data-cells');
      return stated ? Number(stated) : document.querySelectorAll('[data-device-id]').length;
    });
    await page.evaluate(() => window.__fleetBench.stop());
    const idle = await measureWindow(page, cdp, { seconds: opt.seconds, httpUrl, chromePid });
    log(`  heat map: ${cells} cells, ${fmt(idle.fps, 1)} fps, busy ${fmt(idle.busyPct, 1)} %`);
    return { cells, idle };
  } finally {
    await within(context.close(), 15_000, null);
  }
}

async function latencyRun(fleet, url) {
  const { context, page } = await openPage(`${fleet.backend.httpUrl}${url}`);
  try {
    const r = await measureLatency(page, fleet.probe, { values: opt.values });
    log(
      r.onScreen
        ? `  latency ${url}: p50 ${fmt(r.p50Ms, 1)} ms, p99 ${fmt(r.p99Ms, 1)} ms, skipped ${r.skipped}/${r.values}, lost ${r.lost}`
        : `  latency ${url}: the probe's values never showed on the page`,
    );
    return r;
  } finally {
    await context.close();
  }
}

async function main() {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = path.join(benchDir, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  ensureBuilt();
  const loadAtStart = os.loadavg();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  log(`load average ${loadAtStart.map((x) => x.toFixed(2)).join(' ')} on ${machine}`);
  const { dashboardDir, dashboardBuilt } = copyDashboard();
  const session = await openBrowser();
  browser = session.browser;
  chromePid = session.chromePid;
  const results = {};
  const push = (key, value) => (results[key] ??= []).push(value);
  const notes = [];
  let baseline = null;

  for (const f of plan()) {
    log(`fleet of ${f.devices} devices × 1/s: ${f.tasks.join(', ')}`);
    const fleet = await startFleet({ devices: f.devices, dashboardDir, boundS });
    try {
      const r0 = await readingsAccepted(fleet.backend.httpUrl);
      await sleep(3000);
      const rate = ((await readingsAccepted(fleet.backend.httpUrl)) - r0) / 3;
      log(
        `  backend accepting ${rate.toFixed(0)} readings/s (simulator asked for ${f.devices + 1}/s with the probe)`,
      );
      notes.push(
        `fleet ${f.devices}: backend accepted ${rate.toFixed(0)} readings/s at start (${f.devices + 1}/s asked)`,
      );
      if (!baseline) {
        baseline = await measureBaseline(
          session.page,
          session.cdp,
          fleet.backend.httpUrl,
          opt.baseline,
        );
        await session.page.goto('about:blank');
      }
      const activeAlerts = f.tasks.includes('alerts') ? await raiseAlertStorm(fleet) : undefined;
      for (let run = 1; run <= opt.runs; run++) {
        log(` run ${run}/${opt.runs}`);
        const shot = (name) =>
          run === 1 ? path.join(resultsDir, `fleet-${stamp}-${name}.png`) : null;
        if (f.tasks.includes('latency'))
          for (const [name, url] of LATENCY_PAGES)
            push(`latency@${f.devices} ${name}`, await latencyRun(fleet, url));
        if (f.tasks.includes('overview')) {
          push(`overview@${f.devices}`, await overviewRun(fleet, shot(`overview-${f.devices}`)));
          const ack = await fleetAckSize(fleet.backend.httpUrl);
          log(
            `  fleet ack: ${(ack.bytes / 1000).toFixed(0)} kB for ${ack.devices} devices in ${ack.ms.toFixed(0)} ms`,
          );
          push(`ack@${f.devices}`, ack);
        }
        if (f.tasks.includes('alerts'))
          push(`alerts@${f.devices}`, await alertsRun(fleet, activeAlerts));
        // A build without the heat map has none in the next run either.
        if (f.tasks.includes('heatmap') && !results[`heatmap@${f.devices}`]?.[0]?.unavailable)
          push(`heatmap@${f.devices}`, await heatmapRun(fleet, shot('heatmap')));
      }
    } finally {
      await stopFleet(fleet);
    }
  }

  const run = {
    command: `node bench/fleet-browser.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    opt,
    startedAt,
    machine,
    loadAtStart,
    loadAtEnd: os.loadavg(),
    elapsedS: (Date.now() - startedAt.getTime()) / 1000,
    dashboardBuilt,
    chromiumVersion: browser.version(),
    baseline,
    notes,
  };
  const rows = judge(results, opt);
  console.log(reportText(run, rows));
  const file = path.join(resultsDir, `fleet-${opt.quick ? 'quick-' : ''}${stamp}.json`);
  writeResults(file, run, rows, results);
  log(`wrote ${path.relative(root, file)}`);

  stopAll();
  await browser.close().catch(() => undefined);
  browser = null;
  killAll('SIGKILL');
  return opt.strict && rows.some((r) => r.pass === false) ? 1 : 0;
}

exitWith(main(), 'fleet-browser', async () => browser?.close().catch(() => undefined));

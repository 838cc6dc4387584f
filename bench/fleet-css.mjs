#!/usr/bin/env node
// Style variants of the overview side by side in ONE page against ONE fleet: each variant is a
// stylesheet added on top of the built dashboard's, swapped between windows, rounds interleaved
// (A B C, C B A, …). What a rule costs the page (layout, style, busy) before a build is made of
// it: a CSS rule that no measurement supports stays out of styles.css (decision 0042). Same
// harness and definitions as bench:fleet (fleet/measure.mjs); a comparison only inside one run.
//
//   node bench/fleet-css.mjs [--devices 1000] [--rounds 4] [--seconds 8] [--speed 1000] VARIANTS.json
//
// VARIANTS.json: {"name": "css text", …}; give "base": "" to measure the build as it is. Per
// window: fps, main-thread busy and script % (measureWindow), and layout and style recalculation
// as % of the renderer's time (CDP LayoutDuration, RecalcStyleDuration), the renderer and GPU
// processes' CPU ms per second (/proc; the window's measuring included). --speed 0 measures the
// idle page. The page bypasses its CSP for the added sheet (the built page refuses inline style).
// Prints every window and the median (min–max) per variant; writes
// bench/results/fleet-css-<timestamp>.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseFlags, printHeaderUsage } from './lib/args.mjs';
import { root } from './lib/procs.mjs';
import { sleep } from './lib/util.mjs';
import { spreadByFigure, writeComparison } from './fleet/compare.mjs';
import { measureWindow, timeToLive } from './fleet/measure.mjs';
import { fleetBenchInit } from './fleet/page-probe.mjs';
import { cpuMsPerS, gpuProcessCpuMs, rendererCpuMs } from './fleet/renderer-cpu.mjs';
import { PROBE_ID, startFleet, stopFleet } from './fleet/stack.mjs';
import { metrics, newPage, openBrowser } from './wall/page.mjs';
import { ensureBuilt, exitWith, guardRun, killAll, stopAll } from './wall/stack.mjs';

const entry = new URL(import.meta.url).pathname;
const fail = (msg) => {
  console.error(`fleet-css: ${msg}`);
  process.exit(2);
};
const files = process.argv.slice(2).filter((a) => a.endsWith('.json'));
const { values: opt } = parseFlags(
  process.argv.slice(2).filter((a) => !files.includes(a)),
  {
    '--devices': { key: 'devices', type: 'number', min: 1, max: 20_000, integer: true },
    '--rounds': { key: 'rounds', type: 'number', min: 1, max: 15, integer: true },
    '--seconds': { key: 'seconds', type: 'number', min: 2, max: 60 },
    '--speed': { key: 'speed', type: 'number', min: 0, max: 10_000 },
  },
  { devices: 1000, rounds: 4, seconds: 8, speed: 1000 },
  { fail, help: () => printHeaderUsage(entry, 14) },
);
if (files.length !== 1) fail('give one VARIANTS.json');
let variants;
try {
  variants = JSON.parse(fs.readFileSync(files[0], 'utf8'));
} catch (e) {
  fail(`${files[0]}: ${e.message}`);
}
const names = Object.keys(variants ?? {});
if (names.length < 2 || names.some((n) => typeof variants[n] !== 'string'))
  fail(`${files[0]}: give at least two variants, each {"name": "css"}`);
guardRun((300 + opt.rounds * names.length * (opt.seconds + 4)) * 1000, 'fleet-css');
let browser = null;

const pct = (m0, m1, key) => (100 * (m1[key] - m0[key])) / (m1.Timestamp - m0.Timestamp);

async function main() {
  ensureBuilt();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const session = await openBrowser();
  browser = session.browser;
  const fleet = await startFleet({
    devices: opt.devices,
    dashboardDir: path.join(root, 'dist/dashboard/browser'),
    boundS: 3600,
  });
  const rows = Object.fromEntries(names.map((n) => [n, []]));
  try {
    await sleep(3000);
    const { context, page, cdp } = await newPage(browser, {
      initScripts: [{ script: fleetBenchInit, arg: { probeId: PROBE_ID } }],
      label: 'fleet-css',
    });
    await cdp.send('Page.setBypassCSP', { enabled: true });
    await page.goto(`${fleet.backend.httpUrl}/`, { waitUntil: 'commit' });
    await timeToLive(page, 15_000);
    await page.evaluate(() => window.__fleetBench.stop());
    await page.evaluate(() => {
      const sheet = document.createElement('style');
      sheet.id = 'fleet-css';
      document.head.append(sheet);
    });
    const measured = {
      seconds: opt.seconds,
      scrollPxPerS: opt.speed,
      httpUrl: fleet.backend.httpUrl,
    };
    await measureWindow(page, cdp, measured); // warm-up: the first window of a page runs slower
    for (let round = 0; round < opt.rounds; round++) {
      const order = round % 2 ? [...names].reverse() : names;
      for (const name of order) {
        await page.evaluate((css) => {
          document.getElementById('fleet-css').textContent = css;
        }, variants[name]);
        await sleep(1500);
        const cpu0 = rendererCpuMs(session.chromePid);
        const gpu0 = gpuProcessCpuMs(session.chromePid);
        const m0 = await metrics(cdp);
        const w = await measureWindow(page, cdp, measured);
        const m1 = await metrics(cdp);
        const row = {
          fps: w.fps,
          busyPct: w.busyPct,
          scriptPct: w.scriptPct,
          layoutPct: pct(m0, m1, 'LayoutDuration'),
          stylePct: pct(m0, m1, 'RecalcStyleDuration'),
          rendererCpuMsPerS: cpuMsPerS(cpu0, rendererCpuMs(session.chromePid), w.seconds),
          gpuCpuMsPerS: cpuMsPerS(gpu0, gpuProcessCpuMs(session.chromePid), w.seconds),
        };
        rows[name].push(row);
        console.log(name, JSON.stringify(row));
      }
    }
    await context.close();
  } finally {
    await stopFleet(fleet);
  }
  const summary = Object.fromEntries(names.map((n) => [n, spreadByFigure(rows[n])]));
  const f = (s) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
  for (const n of names) {
    const s = summary[n];
    console.log(
      `${n}: busy ${f(s.busyPct)} %, layout ${f(s.layoutPct)} %, style ${f(s.stylePct)} %, script ${f(s.scriptPct)} %, fps ${f(s.fps)}, renderer ${f(s.rendererCpuMsPerS)} and GPU process ${f(s.gpuCpuMsPerS)} CPU ms/s`,
    );
  }
  writeComparison('fleet-css', stamp, { opt, variants, summary, rows });
  stopAll();
  await browser.close().catch(() => undefined);
  browser = null;
  killAll('SIGKILL');
  return 0;
}

exitWith(main(), 'fleet-css', async () => browser?.close().catch(() => undefined));

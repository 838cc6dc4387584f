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
//
// This file only orchestrates, in order: flags (wall/args.mjs), backend and simulator
// (wall/stack.mjs), the browser, baseline, wall page and warm-up (wall/page.mjs), the samples
// (wall/sampling.mjs), the profile (wall/profile.mjs), the verdict and output (wall/report.mjs).
// It must not measure or format figures itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDir, root } from './lib/procs.mjs';
import { sleep } from './lib/util.mjs';
import { parseWallArgs } from './wall/args.mjs';
import { log } from './wall/log.mjs';
import { measureBaseline, openBrowser, openWall, warmUp } from './wall/page.mjs';
import { profileMainThread } from './wall/profile.mjs';
import { judge, reportText, writeResults } from './wall/report.mjs';
import { sampleWall } from './wall/sampling.mjs';
import {
  copyDashboard,
  ensureBuilt,
  exitWith,
  guardRun,
  killAll,
  startBackend,
  startSimulator,
  stopAll,
} from './wall/stack.mjs';

const opt = parseWallArgs(process.argv.slice(2));
// Hard bound on the whole run: warm-up (≤ 3 min) + the measured minutes + profile + 4 min slack;
// the simulator's own --duration is the same bound, in case this process dies without clean-up.
const boundS = opt.minutes * 60 + 180 + opt.profile + 240;
guardRun(boundS * 1000);
let browser = null;

async function main() {
  const startedAt = new Date();
  ensureBuilt();
  const loadAtStart = os.loadavg();
  log(
    `load average ${loadAtStart.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores; node ${process.version}`,
  );
  const { dashboardDir, dashboardBuilt } = copyDashboard();
  const backend = await startBackend(dashboardDir);
  const { httpUrl } = backend;
  const sim = await startSimulator(backend, opt, Math.ceil(boundS));

  const session = await openBrowser();
  browser = session.browser;
  const { page, cdp } = session;
  const baseline = await measureBaseline(page, cdp, httpUrl);
  const { wallUrl, shape, sources } = await openWall(page, httpUrl, opt);
  await warmUp(page, opt);

  const resultsDir = path.join(benchDir, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const screenshot = path.join(resultsDir, `wall-${stamp}.png`);
  await page.screenshot({ path: screenshot });
  log(`screenshot ${path.relative(root, screenshot)}; document height ${shape.scrollHeight} px`);
  const measured = await sampleWall({
    page,
    cdp,
    httpUrl,
    opt,
    pids: { backend: backend.pid, simulator: sim.pid, chrome: session.chromePid },
  });

  const profileFile = opt.profile > 0 ? path.join(resultsDir, `wall-${stamp}.cpuprofile`) : null;
  const profileSummary = profileFile
    ? await profileMainThread(cdp, { seconds: opt.profile, file: profileFile, sources, httpUrl })
    : null;

  const run = {
    opt,
    startedAt,
    loadAtStart,
    dashboardBuilt,
    httpUrl,
    wallUrl,
    shape,
    sources,
    metricCount: sim.metricCount,
    chromiumVersion: browser.version(),
    baseline,
    ...measured,
    profileSummary,
    profileFile,
    screenshot,
  };
  const judged = judge(measured.samples);
  console.log(reportText(run, judged));
  const file = path.join(resultsDir, `wall-${stamp}.json`);
  writeResults(file, run, judged);
  log(
    `wrote ${path.relative(root, file)}${profileFile ? ` and ${path.relative(root, profileFile)}` : ''}`,
  );

  stopAll();
  await browser.close().catch(() => undefined);
  browser = null;
  killAll('SIGTERM');
  await sleep(500);
  killAll('SIGKILL');
  const { fps, busy, heap } = judged.verdict;
  return opt.strict && !(fps.pass && busy.pass && heap.pass) ? 1 : 0;
}

exitWith(main(), 'wall-longrun', async () => browser?.close().catch(() => undefined));

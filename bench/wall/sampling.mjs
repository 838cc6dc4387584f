// The measured part of the wall long-run: every `opt.interval` s, frames per second, chart draws,
// main-thread busy time (CDP), the heap after a forced GC, DOM size and the CPU of Chromium, its
// renderer main thread, the backend and the simulator (/proc), for `opt.minutes`. Owns the
// sample's fields and the interval arithmetic; must not judge them (report.mjs) nor print a report.
import os from 'node:os';
import { fmt } from '../lib/format.mjs';
import { sleep } from '../lib/util.mjs';
import { log } from './log.mjs';
import { heapAfterGc, metrics, readPage } from './page.mjs';
import { rendererMainThreadCpuS, snapshot, usage } from './procs.mjs';

const mb = (b) => b / 1048576;

/**
 * Samples the open wall page; `pids` of the backend, simulator and Chromium. Returns the samples
 * (the first one is the start: heap and DOM only), the measured seconds and the backend's
 * accepted / sent readings per second over them.
 */
export async function sampleWall({ page, cdp, httpUrl, opt, pids }) {
  const samples = [];
  const procsOf = (snap) => ({
    backend: usage(snap, pids.backend),
    sim: usage(snap, pids.simulator),
    chrome: pids.chrome ? usage(snap, pids.chrome) : null,
    mainThreadCpuS: pids.chrome ? rendererMainThreadCpuS(snap, pids.chrome) : null,
  });
  const begin = async () => {
    const m = await metrics(cdp);
    const p = await readPage(page);
    return { t: performance.now(), m, p, procs: procsOf(snapshot()) };
  };
  const heap0 = await heapAfterGc(cdp);
  const stats0 = await (await fetch(`${httpUrl}/api/stats`)).json();
  let base = await begin();
  const runStart = base.t;
  const endAt = runStart + opt.minutes * 60_000;
  log(
    `start: heap ${fmt(mb(heap0.used), 2)} MB after GC; sampling every ${opt.interval} s for ${opt.minutes} min`,
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
      `t=${fmt(sample.minute, 1)} min  fps ${fmt(sample.fps, 1)}  chart draws/s ${fmt(sample.chartDrawsPerS)}  canvas resizes/s ${fmt(sample.canvasResizesPerS, 1)}  busy ${fmt(sample.busyPct, 1)}% (script ${fmt(sample.scriptPct, 1)}%)  ` +
        `main-thread CPU ${fmt(sample.cpuPct.rendererMain, 1)}%  heap ${fmt(sample.heapMb, 2)} MB  DOM ${sample.domNodes}  load ${fmt(sample.load1, 2)}` +
        (p.banner ? `  BANNER: ${p.banner}` : ''),
    );
    base = await begin();
  }
  const stats1 = await (await fetch(`${httpUrl}/api/stats`)).json();
  const measuredS = (performance.now() - runStart) / 1000;
  return {
    samples,
    measuredS,
    readingsPerS: (stats1.readings.accepted - stats0.readings.accepted) / measuredS,
    liveSentPerS: (stats1.live.readingsSent - stats0.live.readingsSent) / measuredS,
  };
}

// The wall long-run's verdict and output: the perf targets (fps, main-thread busy, heap flat),
// the markdown table of samples with the verdict lines and the profile summary, and the results
// JSON. Owns the targets and the presentation; must not measure (sampling.mjs, profile.mjs do).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt as f } from '../lib/format.mjs';
import { root } from '../lib/procs.mjs';

export const TARGET = { fps: 55, busyPct: 30, heapPct: 10, heapMb: 2 };

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Least-squares slope of y over x. */
function slope(xs, ys) {
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

/** The figures the verdict rests on, and the verdict against TARGET. */
export function judge(samples) {
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
  const busyMean = mean(measured.map((s) => s.busyPct));
  const heapFlat = heapDelta < TARGET.heapMb || heapDeltaPct < TARGET.heapPct;
  return {
    loadMean: mean(measured.map((s) => s.load1)),
    cpuMean: (k) => mean(measured.map((s) => s.cpuPct[k]).filter((x) => x !== null)),
    verdict: {
      fps: {
        target: `>= ${TARGET.fps}`,
        mean: fpsMean,
        min: Math.min(...measured.map((s) => s.fps)),
        pass: fpsMean >= TARGET.fps,
      },
      busy: {
        target: `< ${TARGET.busyPct} %`,
        mean: busyMean,
        max: Math.max(...measured.map((s) => s.busyPct)),
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
    },
  };
}

export function sampleTable(samples) {
  const lines = [
    '| minute | fps | chart draws/s | canvas resizes/s | worst frame ms | busy % | script % | layout+style % | long tasks/min | main-thread CPU % | heap MB after GC | DOM nodes | load 1m |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
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
  return lines;
}

function profileLines(profileSummary) {
  const c = profileSummary.categories;
  const lines = [
    '',
    `### CPU profile of the renderer main thread (${f(profileSummary.durationMs / 1000, 1)} s, after the run)`,
    '',
    `idle ${f(c.idle.pct, 1)} % · JS ${f(c.js.pct, 1)} % · GC ${f(c.gc.pct, 1)} % · (program: native, incl. layout/paint not attributed to JS) ${f(c.program.pct, 1)} %`,
    '',
    '| self % | self ms | function | where | source starts with |',
    '|---:|---:|---|---|---|',
  ];
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
  return lines;
}

/** The markdown report printed at the end of a run. */
export function reportText(run, judged) {
  const { opt, shape, wallUrl, httpUrl, chromiumVersion, loadAtStart, baseline } = run;
  const { samples, measuredS, readingsPerS, liveSentPerS, profileSummary } = run;
  const { verdict, loadMean, cpuMean } = judged;
  const { heap } = verdict;
  const ok = (b) => (b ? 'PASS' : 'MISS');
  const first = samples[0];
  const last = samples[samples.length - 1];
  const lines = [
    '',
    `## Wall long-run: ${opt.devices} devices × ${opt.rate} Hz, ${shape.tiles} tiles, ${shape.charts} charts (${shape.chartsVisible} visible), ${f(measuredS / 60, 1)} min`,
    '',
    `URL \`${wallUrl.replace(httpUrl, '')}\` · Chromium ${chromiumVersion} headless 1920×1080 (--disable-gpu) · backend accepted ${f(readingsPerS)} readings/s, sent this page ${f(liveSentPerS)} readings/s`,
    `load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}, mean 1-min load during the run ${f(loadMean, 2)} on ${os.cpus().length} cores (the machine may be shared)`,
    `baseline on an empty page just before: ${f(baseline.fps, 1)} fps, main thread busy ${f(baseline.busyPct, 1)} % (what this machine allows right now)`,
    '',
    ...sampleTable(samples),
    '',
    `- fps: mean ${f(verdict.fps.mean, 1)} (lowest interval ${f(verdict.fps.min, 1)}) — target ≥ ${TARGET.fps}: **${ok(verdict.fps.pass)}**`,
    `- main thread busy: mean ${f(verdict.busy.mean, 1)} % (highest interval ${f(verdict.busy.max, 1)} %) — target < ${TARGET.busyPct} %: **${ok(verdict.busy.pass)}**`,
    `- JS heap after GC: start ${f(heap.startMb, 2)} MB, end ${f(heap.endMb, 2)} MB, delta ${heap.deltaMb >= 0 ? '+' : ''}${f(heap.deltaMb, 2)} MB (${heap.deltaPct >= 0 ? '+' : ''}${f(heap.deltaPct, 1)} %), trend ${f(heap.slopeMbPerMin * 1000, 0)} kB/min — target flat (< ${TARGET.heapMb} MB or < ${TARGET.heapPct} %): **${ok(heap.pass)}**`,
    `- DOM nodes: start ${first.domNodes}, end ${last.domNodes}; Blink Nodes metric (incl. detached) start ${first.nodesMetric}, end ${last.nodesMetric}; JS event listeners start ${first.listeners}, end ${last.listeners}`,
    `- main thread CPU time (CrRendererMain, /proc): mean ${f(cpuMean('rendererMain'), 1)} % — "busy %" above is wall time inside tasks (CDP TaskDuration) and also counts time the thread waited for a core, so on a loaded machine it reads higher than the CPU it used`,
    `- CPU (mean, % of one core): Chromium all processes ${f(cpuMean('chromium'))} %, renderer process ${f(cpuMean('renderer'))} %, backend ${f(cpuMean('backend'))} %, simulator ${f(cpuMean('simulator'))} %`,
  ];
  if (profileSummary) lines.push(...profileLines(profileSummary));
  lines.push('');
  return lines.join('\n');
}

/** The README's wall section from a results JSON (`bench/readme.mjs`): the samples and the verdict. */
export function renderWallResult(result) {
  const { options: opt, page, env, verdict, backend } = result;
  const ok = (b) => (b ? 'PASS' : 'MISS');
  const { heap } = verdict;
  return [
    `**Run of ${result.startedAt}**${opt.quick ? ' (QUICK: a 1-minute smoke, indicative only)' : ''}: ${opt.devices} devices × ${opt.rate} Hz, \`${page.url}\`, ${page.tiles} tiles, ${page.charts} charts (${page.chartsVisible} visible), Chromium ${env.chromium} headless 1920×1080 on ${env.cores} cores; backend accepted ${f(backend.readingsPerS)} readings/s; mean 1-min load ${f(env.loadMean, 2)}`,
    '',
    ...sampleTable(result.samples),
    '',
    `- fps: mean ${f(verdict.fps.mean, 1)} (lowest interval ${f(verdict.fps.min, 1)}) — target ${verdict.fps.target}: **${ok(verdict.fps.pass)}**`,
    `- main thread busy: mean ${f(verdict.busy.mean, 1)} % (highest interval ${f(verdict.busy.max, 1)} %) — target ${verdict.busy.target}: **${ok(verdict.busy.pass)}**`,
    `- JS heap after GC: ${f(heap.startMb, 2)} → ${f(heap.endMb, 2)} MB (${heap.deltaMb >= 0 ? '+' : ''}${f(heap.deltaMb, 2)} MB, trend ${f(heap.slopeMbPerMin * 1000, 0)} kB/min) — target ${heap.target}: **${ok(heap.pass)}**`,
  ].join('\n');
}

/** bench/results/wall-<stamp>.json with every figure of the run. */
export function writeResults(file, run, judged) {
  const { opt, startedAt, chromiumVersion, loadAtStart, dashboardBuilt, sources, httpUrl } = run;
  const rel = (p) => path.relative(root, p);
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
          chromium: chromiumVersion,
          cores: os.cpus().length,
          loadAtStart,
          loadMean: judged.loadMean,
        },
        page: {
          dashboardBuilt,
          scripts: [...sources.keys()].map((u) => u.replace(httpUrl, '')),
          url: run.wallUrl.replace(httpUrl, ''),
          tiles: run.shape.tiles,
          charts: run.shape.charts,
          canvases: run.shape.canvases,
          chartsVisible: run.shape.chartsVisible,
          metricsPerDevice: run.metricCount,
        },
        backend: { readingsPerS: run.readingsPerS, liveSentPerS: run.liveSentPerS },
        baseline: run.baseline,
        samples: run.samples,
        verdict: judged.verdict,
        profile: run.profileSummary,
        profileFile: run.profileFile && rel(run.profileFile),
        screenshot: rel(run.screenshot),
      },
      null,
      2,
    ),
  );
}

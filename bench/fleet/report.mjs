// The browser fleet benchmark's goals, verdict and output: the goals fixed here before any
// measurement (never derived from the run's configuration), the median of the runs with their
// spread (min–max), the markdown table, the verdict lines and the results JSON. Owns the goals and
// the presentation; must not measure (measure.mjs) nor start anything.
import fs from 'node:fs';
import { fmt } from '../lib/format.mjs';

/**
 * Issue 11's goals. `flatRatio`: DOM nodes and heap after GC at the large fleet may be at most
 * this multiple of the same figure at 1,000 devices ("flat"). `ackBytes`: 1 MB read as 10^6 bytes.
 */
export const GOALS = Object.freeze({
  fps: 55,
  busyPct: 30,
  firstLiveMs: 1000,
  flatRatio: 1.2,
  ackBytes: 1_000_000,
  latencyP99Ms: 50,
  skipped: 0,
});

/** Median of the numbers in `xs` (nulls dropped) with min and max; nulls when there are none. */
export function spread(xs) {
  const s = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x));
  s.sort((a, b) => a - b);
  const total = xs.length;
  if (!s.length) return { median: null, min: null, max: null, n: 0, total };
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length, total };
}

/** Median (min–max); a figure some runs never reached says in how many it did. */
function cell(sp, d) {
  if (sp.median === null) return '—';
  const text =
    sp.n > 1 ? `${fmt(sp.median, d)} (${fmt(sp.min, d)}–${fmt(sp.max, d)})` : fmt(sp.median, d);
  return sp.n < sp.total ? `${text}, in ${sp.n} of ${sp.total} runs (— in the others)` : text;
}

/**
 * Rows of the table from the collected runs: `results` maps a scenario label to its runs' records.
 * Each row: scenario, figure, its spread, the goal text and pass (null when the figure has no goal).
 */
export function judge(results, opt) {
  const rows = [];
  /** A row; `pass(spread)` judges it against its goal (no goal: both null). */
  const add = (scenario, figure, values, d, goal = null, pass = null) => {
    const sp = spread(values);
    rows.push({ scenario, figure, spread: sp, d, goal, pass: pass ? pass(sp) : null });
  };
  const atLeast = (min) => (sp) => sp.median !== null && sp.median >= min;
  const below = (max) => (sp) => sp.median !== null && sp.median < max;
  const atMost = (max) => (sp) => sp.median !== null && sp.median <= max;
  const windowRows = (label, runs, key) => {
    const w = runs.map((r) => r[key]).filter(Boolean);
    if (!w.length) return;
    const what = key === 'scroll' ? `scrolling ${fmt(opt.scrollSpeed)} px/s` : 'idle';
    add(
      label,
      `fps, ${what}`,
      w.map((x) => x.fps),
      1,
      `≥ ${GOALS.fps}`,
      atLeast(GOALS.fps),
    );
    add(
      label,
      `main thread busy %, ${what}`,
      w.map((x) => x.busyPct),
      1,
      `< ${GOALS.busyPct}`,
      below(GOALS.busyPct),
    );
    if (w.every((x) => x.mainThreadCpuMsPerS !== undefined))
      add(
        label,
        `renderers' main-thread CPU ms/s (/proc), ${what}`,
        w.map((x) => x.mainThreadCpuMsPerS),
        0,
      );
    add(
      label,
      `worst frame ms, ${what}`,
      w.map((x) => x.worstFrameMs),
      0,
    );
    add(
      label,
      `backend accepted readings/s, ${what}`,
      w.map((x) => x.acceptedPerS),
      0,
    );
  };
  const pageRows = (label, runs) => {
    if (runs.every((r) => r.unavailable)) {
      rows.push({
        scenario: label,
        figure: runs[0].unavailable,
        unavailable: true,
        spread: spread([]),
        d: 0,
        goal: null,
        pass: null,
      });
      return;
    }
    if (runs[0].ttl) {
      const ttl = runs.map((r) => r.ttl);
      add(
        label,
        'first tile with a value, ms after navigation',
        ttl.map((t) => t.firstValueMs),
        0,
      );
      add(
        label,
        'first live tile, ms after navigation',
        ttl.map((t) => t.firstLiveMs),
        0,
        `< ${GOALS.firstLiveMs}`,
        below(GOALS.firstLiveMs),
      );
      add(
        label,
        'every visible tile live, ms after navigation',
        ttl.map((t) => t.visibleLiveMs),
        0,
      );
      add(
        label,
        'largest socket frame before every visible tile was live, kB',
        ttl.map((t) => t.largestFrameBytes / 1000),
        0,
      );
    }
    windowRows(label, runs, 'idle');
    windowRows(label, runs, 'scroll');
    add(
      label,
      'DOM nodes (after the idle window)',
      runs.map((r) => r.idle?.domNodes),
      0,
    );
    add(
      label,
      'JS heap MB after GC (after the idle window)',
      runs.map((r) => r.idle?.heapMb),
      1,
    );
    if (runs[0].activeAlerts !== undefined)
      add(
        label,
        'active alerts (API)',
        runs.map((r) => r.activeAlerts),
        0,
      );
    if (runs[0].cells !== undefined)
      add(
        label,
        'heat-map cells',
        runs.map((r) => r.cells),
        0,
      );
  };
  // kB = 1,000 bytes, the unit of the goal (1 MB = 10^6 bytes).
  const kb = (x) => (x === null || x === undefined ? null : x / 1000);
  const ackRows = (label, runs) => {
    const large = label.endsWith(`@${opt.large}`);
    const goal = GOALS.ackBytes / 1000;
    add(
      label,
      'fleet ack (subscribe summary:true), kB',
      runs.map((r) => kb(r.bytes)),
      0,
      large ? `< ${goal} kB` : null,
      large ? below(goal) : null,
    );
    add(
      label,
      'of which the summary, kB',
      runs.map((r) => kb(r.summaryBytes)),
      0,
    );
    add(
      label,
      'fleet ack round trip, ms',
      runs.map((r) => r.ms),
      0,
    );
  };
  const latencyRows = (label, runs) => {
    const on = runs.filter((r) => r.onScreen);
    if (!on.length) {
      add(
        label,
        'probe value never on screen',
        [],
        0,
        `p99 ≤ ${GOALS.latencyP99Ms} ms`,
        () => false,
      );
      return;
    }
    add(
      label,
      'socket → DOM p50 ms',
      on.map((r) => r.p50Ms),
      1,
    );
    add(
      label,
      'socket → DOM p99 ms',
      on.map((r) => r.p99Ms),
      1,
      `≤ ${GOALS.latencyP99Ms}`,
      atMost(GOALS.latencyP99Ms),
    );
    add(
      label,
      'socket → painted frame p99 ms',
      on.map((r) => r.paintP99Ms),
      1,
    );
    const values = on.reduce((a, r) => a + r.values, 0);
    const skipped = on.reduce((a, r) => a + r.skipped, 0);
    add(
      label,
      `skipped of ${values} values (all runs)`,
      [skipped],
      0,
      `${GOALS.skipped}`,
      atMost(GOALS.skipped),
    );
    const lost = on.reduce((a, r) => a + r.lost + r.unmatched, 0);
    if (lost) add(label, 'values never matched on the socket (lost/unmatched)', [lost], 0);
    if (on.length < runs.length)
      add(label, 'runs where the probe never showed', [runs.length - on.length], 0);
  };

  for (const [label, runs] of Object.entries(results)) {
    if (label.startsWith('ack')) ackRows(label, runs);
    else if (label.startsWith('latency')) latencyRows(label, runs);
    else pageRows(label, runs);
  }

  // Flat from 1,000 to the large fleet: the ratio of the medians.
  const small = results['overview@1000'];
  const big = results[`overview@${opt.large}`];
  if (small && big)
    for (const [k, what] of [
      ['domNodes', 'DOM nodes'],
      ['heapMb', 'JS heap after GC'],
    ]) {
      const a = spread(small.map((r) => r.idle?.[k])).median;
      const b = spread(big.map((r) => r.idle?.[k])).median;
      add(
        `overview 1000 → ${opt.large}`,
        `${what}, ratio`,
        [a && b ? b / a : null],
        2,
        `≤ ${GOALS.flatRatio}`,
        atMost(GOALS.flatRatio),
      );
    }
  return rows;
}

/** The markdown: run header, table, the verdict (goals missed, if any). */
export function reportText(run, rows) {
  const lines = [
    '',
    `## Browser fleet benchmark — ${run.startedAt.toISOString()}`,
    '',
    `${run.command}; ${run.opt.runs} run(s) per scenario, median (min–max); ${Math.round(run.elapsedS)} s in all; Chromium ${run.chromiumVersion}; dashboard build ${run.dashboardBuilt}`,
    `Machine: ${run.machine}; load average at start ${run.loadAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${run.loadAtEnd.map((x) => x.toFixed(2)).join(' ')}`,
    `Baseline (empty page, ${run.opt.baseline} s): ${fmt(run.baseline.fps, 1)} fps, main thread busy ${fmt(run.baseline.busyPct, 1)} %`,
    `Goals (fixed before measuring): ≥ ${GOALS.fps} fps, main thread < ${GOALS.busyPct} % busy, first live tile < ${GOALS.firstLiveMs} ms after navigation, DOM nodes and heap at ${run.opt.large} ≤ ${GOALS.flatRatio}× those at 1,000, fleet ack < ${GOALS.ackBytes / 1000} kB at ${run.opt.large}, socket → DOM p99 ≤ ${GOALS.latencyP99Ms} ms with ${GOALS.skipped} skipped`,
    '',
    '| scenario | figure | median (min–max) | goal | verdict |',
    '|---|---|---:|---|---|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.scenario} | ${r.figure} | ${cell(r.spread, r.d)} | ${r.goal ?? ''} | ${r.pass === null ? '' : r.pass ? 'PASS' : '**FAIL**'} |`,
    );
  const judged = rows.filter((r) => r.pass !== null);
  const failed = judged.filter((r) => !r.pass);
  lines.push(
    '',
    failed.length
      ? `Verdict: ${failed.length} of ${judged.length} goals missed: ${failed.map((r) => `${r.scenario} ${r.figure}`).join('; ')}`
      : judged.length
        ? `Verdict: all ${judged.length} goals met`
        : 'Verdict: no goal measured',
  );
  const absent = rows.filter((r) => r.unavailable);
  if (absent.length)
    lines.push(`Not measured: ${absent.map((r) => `${r.scenario}: ${r.figure}`).join('; ')}`);
  if (run.notes.length) lines.push('', ...run.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

export function writeResults(file, run, rows, results) {
  fs.writeFileSync(file, JSON.stringify({ ...run, goals: GOALS, rows, results }, null, 2));
}

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
  if (!s.length) return { median: null, min: null, max: null, n: 0 };
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

const cell = (sp, d) =>
  sp.median === null
    ? '—'
    : sp.n > 1
      ? `${fmt(sp.median, d)} (${fmt(sp.min, d)}–${fmt(sp.max, d)})`
      : fmt(sp.median, d);

/**
 * Rows of the table from the collected runs: `results` maps a scenario label to its runs' records.
 * Each row: scenario, figure, its spread, the goal text and pass (null when the figure has no goal).
 */
export function judge(results, opt) {
  const rows = [];
  const add = (scenario, figure, values, d, goal = null, pass = null) =>
    rows.push({ scenario, figure, spread: spread(values), d, goal, pass });
  const get = (runs, f) => runs.map(f);
  const atLeast = (min) => (sp) => (sp.median === null ? false : sp.median >= min);
  const below = (max) => (sp) => (sp.median === null ? false : sp.median < max);
  const windowRows = (label, runs, key) => {
    const w = runs.map((r) => r[key]).filter(Boolean);
    if (!w.length) return;
    const what = key === 'scroll' ? `scrolling ${fmt(opt.scrollSpeed)} px/s` : 'idle';
    const fps = spread(get(w, (x) => x.fps));
    const busy = spread(get(w, (x) => x.busyPct));
    rows.push(
      {
        scenario: label,
        figure: `fps, ${what}`,
        spread: fps,
        d: 1,
        goal: `≥ ${GOALS.fps}`,
        pass: atLeast(GOALS.fps)(fps),
      },
      {
        scenario: label,
        figure: `main thread busy %, ${what}`,
        spread: busy,
        d: 1,
        goal: `< ${GOALS.busyPct}`,
        pass: below(GOALS.busyPct)(busy),
      },
    );
    add(
      label,
      `worst frame ms, ${what}`,
      get(w, (x) => x.worstFrameMs),
      0,
    );
    add(
      label,
      `backend accepted readings/s, ${what}`,
      get(w, (x) => x.acceptedPerS),
      0,
    );
  };

  for (const [label, runs] of Object.entries(results)) {
    if (label.startsWith('overview') || label.startsWith('alerts') || label.startsWith('heatmap')) {
      if (runs.every((r) => r.unavailable)) {
        rows.push({
          scenario: label,
          unavailable: true,
          figure: runs[0].unavailable,
          spread: spread([]),
          d: 0,
          goal: null,
          pass: null,
        });
        continue;
      }
      if (runs[0].ttl) {
        const first = spread(get(runs, (r) => r.ttl.firstLiveMs));
        add(
          label,
          'first tile with a value, ms after navigation',
          get(runs, (r) => r.ttl.firstValueMs),
          0,
        );
        rows.push({
          scenario: label,
          figure: 'first live tile, ms after navigation',
          spread: first,
          d: 0,
          goal: `< ${GOALS.firstLiveMs}`,
          pass: below(GOALS.firstLiveMs)(first),
        });
        add(
          label,
          'every visible tile live, ms after navigation',
          get(runs, (r) => r.ttl.visibleLiveMs),
          0,
        );
        add(
          label,
          'largest socket frame before every visible tile was live, kB',
          get(runs, (r) => r.ttl.largestFrameBytes / 1000),
          0,
        );
      }
      windowRows(label, runs, 'idle');
      windowRows(label, runs, 'scroll');
      add(
        label,
        'DOM nodes (after the idle window)',
        get(runs, (r) => r.idle?.domNodes),
        0,
      );
      add(
        label,
        'JS heap MB after GC (after the idle window)',
        get(runs, (r) => r.idle?.heapMb),
        1,
      );
      if (runs[0].activeAlerts !== undefined)
        add(
          label,
          'active alerts (API)',
          get(runs, (r) => r.activeAlerts),
          0,
        );
      if (runs[0].cells !== undefined)
        add(
          label,
          'heat-map cells in the DOM',
          get(runs, (r) => r.cells),
          0,
        );
    } else if (label.startsWith('ack')) {
      // kB = 1,000 bytes, the unit of the goal (1 MB = 10^6 bytes).
      const kb = (x) => (x === null || x === undefined ? null : x / 1000);
      const bytes = spread(get(runs, (r) => r.bytes));
      const large = label.endsWith(`@${opt.large}`);
      rows.push({
        scenario: label,
        figure: 'fleet ack (subscribe summary:true), kB',
        spread: spread(get(runs, (r) => kb(r.bytes))),
        d: 0,
        goal: large ? `< ${GOALS.ackBytes / 1000} kB` : null,
        pass: large ? below(GOALS.ackBytes)(bytes) : null,
      });
      add(
        label,
        'of which the summary, kB',
        get(runs, (r) => kb(r.summaryBytes)),
        0,
      );
      add(
        label,
        'fleet ack round trip, ms',
        get(runs, (r) => r.ms),
        0,
      );
    } else if (label.startsWith('latency')) {
      if (runs.every((r) => !r.onScreen)) {
        rows.push({
          scenario: label,
          figure: 'probe value never on screen',
          spread: spread([]),
          d: 0,
          goal: `p99 ≤ ${GOALS.latencyP99Ms} ms`,
          pass: false,
        });
        continue;
      }
      const p99 = spread(get(runs, (r) => r.p99Ms));
      const skipped = runs.reduce((a, r) => a + (r.onScreen ? r.skipped : r.values), 0);
      add(
        label,
        'socket → DOM p50 ms',
        get(runs, (r) => r.p50Ms),
        1,
      );
      rows.push({
        scenario: label,
        figure: 'socket → DOM p99 ms',
        spread: p99,
        d: 1,
        goal: `≤ ${GOALS.latencyP99Ms}`,
        pass: p99.median !== null && p99.median <= GOALS.latencyP99Ms,
      });
      add(
        label,
        'socket → painted frame p99 ms',
        get(runs, (r) => r.paintP99Ms),
        1,
      );
      const values = runs.reduce((a, r) => a + r.values, 0);
      rows.push({
        scenario: label,
        figure: `skipped of ${values} values (all runs)`,
        spread: spread([skipped]),
        d: 0,
        goal: `${GOALS.skipped}`,
        pass: skipped <= GOALS.skipped,
      });
      const lost = runs.reduce((a, r) => a + (r.lost ?? 0) + (r.unmatched ?? 0), 0);
      if (lost) add(label, 'values never matched on the socket (lost/unmatched)', [lost], 0);
    }
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
      const ratio = a && b ? b / a : null;
      rows.push({
        scenario: `overview 1000 → ${opt.large}`,
        figure: `${what}, ratio`,
        spread: spread([ratio]),
        d: 2,
        goal: `≤ ${GOALS.flatRatio}`,
        pass: ratio !== null && ratio <= GOALS.flatRatio,
      });
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
      : `Verdict: all ${judged.length} goals met`,
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

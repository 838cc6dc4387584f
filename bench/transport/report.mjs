// The transport benchmark's goals, verdict and output: the goals fixed here before any measurement
// (never derived from configuration), per scenario and build the median of the runs with their
// spread, the final transports, the markdown table and the results JSON. Owns the goals and the
// presentation; must not measure (transport-browser.mjs) nor start anything.
import fs from 'node:fs';
import path from 'node:path';
import { fmt } from '../lib/format.mjs';
import { spread } from '../fleet/report.mjs';

/**
 * Issue 12's goals, in ms from navigation to the first reading's value on screen (median of the
 * runs). `blocked*`: WebSocket closed, hanging or silent at the proxy. `working*`: WebSocket
 * passing; it must end on websocket, within `workingMaxMs` (the slow end of the 0.7–1.2 s the
 * issue measured on main) and, when the old dashboard ran beside it, within `workingVsOldMs` of
 * its median. `fallbackReloadMs`: a reload where a WebSocket worked before and now hangs (the
 * 1 s guard, then long-polling).
 */
export const GOALS = Object.freeze({
  blockedFirstMs: 2000,
  blockedReloadMs: 1000,
  workingMaxMs: 1200,
  workingVsOldMs: 150,
  fallbackReloadMs: 2000,
});

/** The proxy's mode per scenario: for the first load, then for the reload. */
export const SCENARIOS = Object.freeze({
  pass: { first: 'pass', reload: 'pass', what: 'WebSocket passes' },
  close: { first: 'close', reload: 'close', what: 'WebSocket closed at once (no answer)' },
  hang: { first: 'hang', reload: 'hang', what: 'WebSocket accepted, never answered' },
  silent: { first: 'silent', reload: 'silent', what: 'WebSocket answered 101, then silent' },
  'ws-then-hang': {
    first: 'pass',
    reload: 'hang',
    what: 'WebSocket worked on the first load, hangs on the reload',
  },
});

const ms = (sp) =>
  sp.median === null
    ? '—'
    : `${fmt(sp.median, 0)}${sp.n > 1 ? ` (${fmt(sp.min, 0)}–${fmt(sp.max, 0)})` : ''}${sp.n < sp.total ? `, data in ${sp.n}/${sp.total}` : ''}`;

/** "websocket 3/3" — how the loads ended. */
function transports(loads) {
  const counts = {};
  for (const l of loads)
    counts[l.finalTransport ?? 'none'] = (counts[l.finalTransport ?? 'none'] ?? 0) + 1;
  return Object.entries(counts)
    .map(([t, n]) => `${t} ${n}/${loads.length}`)
    .join(', ');
}

/**
 * Rows from `results[scenario][build]` (each a list of runs `{ first, reload }`, each load
 * `{ firstValueMs, finalTransport, … }`). Goals judge the `new` build; `old` rows are the
 * comparison. Each row: scenario, build, load, spread, transports, goal text, pass (null: no goal).
 */
export function judge(results) {
  const rows = [];
  const atMost = (max) => (sp) => sp.n === sp.total && sp.median !== null && sp.median <= max;
  for (const [scenario, builds] of Object.entries(results)) {
    const oldFirst = builds.old ? spread(builds.old.map((r) => r.first.firstValueMs)) : null;
    const oldReload = builds.old ? spread(builds.old.map((r) => r.reload.firstValueMs)) : null;
    for (const [build, runs] of Object.entries(builds)) {
      for (const load of ['first', 'reload']) {
        const loads = runs.map((r) => r[load]);
        const sp = spread(loads.map((l) => l.firstValueMs));
        // The transport's own share: from the moment the app starts connecting (its bootstrap,
        // which a loaded machine stretches, left out).
        const afterConnect = spread(loads.map(fromConnecting));
        const row = {
          afterConnect,
          scenario,
          build,
          load,
          spread: sp,
          transports: transports(loads),
          goal: null,
          pass: null,
        };
        if (build === 'new') goalFor(row, loads, load === 'first' ? oldFirst : oldReload, atMost);
        rows.push(row);
      }
    }
  }
  return rows;
}

/** ms from the indicator's first `connecting` to the first value; null when either never came. */
export function fromConnecting(load) {
  const start = load.timeline.find((e) => e.phase === 'connecting')?.t;
  return start === undefined || load.firstValueMs === null ? null : load.firstValueMs - start;
}

function goalFor(row, loads, old, atMost) {
  const { scenario, load, spread: sp } = row;
  const all = (t) => loads.every((l) => l.finalTransport === t);
  if (scenario === 'pass') {
    const limit =
      old?.median != null
        ? Math.min(GOALS.workingMaxMs, old.median + GOALS.workingVsOldMs)
        : GOALS.workingMaxMs;
    row.goal = `≤ ${fmt(limit, 0)} ms${old?.median != null ? ` (old + ${GOALS.workingVsOldMs}, at most ${GOALS.workingMaxMs})` : ''}, ends on websocket`;
    row.pass = atMost(limit)(sp) && all('websocket');
  } else if (scenario === 'ws-then-hang') {
    if (load === 'first') {
      row.goal = 'websocket (sets the memory)';
      row.pass = all('websocket');
    } else {
      row.goal = `≤ ${GOALS.fallbackReloadMs} ms, on polling`;
      row.pass = atMost(GOALS.fallbackReloadMs)(sp) && all('polling');
    }
  } else {
    const limit = load === 'first' ? GOALS.blockedFirstMs : GOALS.blockedReloadMs;
    row.goal = `≤ ${limit} ms, on polling`;
    row.pass = atMost(limit)(sp) && all('polling');
  }
}

export function reportText(run, rows) {
  const lines = [
    `## Transport choice: first live data with WebSocket passing and blocked (${run.runs} runs, median (min–max), ms from navigation)`,
    '',
    `Machine: ${run.machine}; load average ${run.loadAtStart.map((x) => x.toFixed(2)).join(' ')} at start, ${run.loadAtEnd.map((x) => x.toFixed(2)).join(' ')} at end; Chromium ${run.chromiumVersion}.`,
    `Builds: new = dist/dashboard (${run.builds.new}); ${run.builds.old ? `old = ${run.builds.old}` : 'old not measured (no --old)'}.`,
    '',
    '| scenario | build | load | first live data (ms) | of which after connect starts | final transport | goal | verdict |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.scenario} | ${r.build} | ${r.load} | ${ms(r.spread)} | ${ms(r.afterConnect)} | ${r.transports} | ${r.goal ?? ''} | ${r.pass === null ? '' : r.pass ? 'pass' : '**FAIL**'} |`,
    );
  const judged = rows.filter((r) => r.pass !== null);
  lines.push('', `${judged.filter((r) => r.pass).length} of ${judged.length} goals met.`);
  return lines.join('\n');
}

export function writeResults(file, run, rows, results) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify({ run, goals: GOALS, scenarios: SCENARIOS, rows, results }, null, 2),
  );
}

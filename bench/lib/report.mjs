// What a run prints and writes: the markdown table (one row per scenario × target), the
// Pulse/peer ratios, the targets checklist built from each scenario's check, the results JSON
// under bench/results/, and the exit code. Owns presentation and the JSON's shape; must not
// measure or judge (the scenarios' checks decide PASS/FAIL).
import fs from 'node:fs';
import path from 'node:path';
import { fmt } from './format.mjs';
import { benchDir, root } from './procs.mjs';
import { DEVICES } from './servers.mjs';

const HEADER = [
  'scenario',
  'target',
  'clients',
  'readings/s',
  'delivered %',
  'p50 ms',
  'p99 ms',
  'max ms',
  'server CPU %',
  'server RSS MB (peak)',
  'broker CPU %',
  'load CPU %',
  'publisher CPU %',
  'other procs CPU %',
  'notes',
];

/** What a row's figures need said beside them: noise, losses, Pulse's counters, the stall. */
function notes(r) {
  const u = r.usage ?? {};
  const note = [];
  if (r.killed) note.push(r.killed);
  if (u.machineBusyPct > 90)
    note.push(`machine saturated (${fmt(u.machineBusyPct)}% busy): figures bounded by the 2 cores`);
  if (u.foreignCpuPct > 30)
    note.push(`other processes used ${fmt(u.foreignCpuPct)}% of a core: noisy`);
  if (r.connectErrors) note.push(`${r.connectErrors} connect errors`);
  if (r.kbPerConnection !== undefined)
    note.push(
      `${fmt(r.kbPerConnection, 1)} KB/conn steady, ${fmt(r.kbPerConnectionSteadyMax, 1)} at most (${fmt(r.kbPerConnectionAt3s, 1)} KB 3 s after connecting; RSS ${fmt(r.rssBeforeMb)}→${fmt(r.rssAfterMb)} MB, ${fmt(r.connectSeconds, 1)} s to connect)`,
    );
  if (r.ratePerSec !== undefined) note.push(`drain/accepted ${fmt(r.ratePerSec)} readings/s`);
  if (r.drainMs > 2500) note.push(`drain took ${fmt(r.drainMs / 1000, 1)} s`);
  if (r.pulse) {
    const lost = r.published - r.pulse.accepted;
    note.push(`accepted ${r.pulse.accepted}${lost ? ` (lost ${lost})` : ''}`);
    if (r.pulse.droppedOverflow) note.push(`overflow-dropped ${r.pulse.droppedOverflow}`);
    if (r.pulse.lagPauses) note.push(`lag pauses ${r.pulse.lagPauses}`);
    if (r.pulse.lagDisconnects) note.push(`lag disconnects ${r.pulse.lagDisconnects}`);
    if (r.pulse.throttled) note.push(`throttled ${r.pulse.throttled} times`);
    if (r.pulse.throttledAtStart)
      note.push(
        `${r.pulse.throttledAtStart} clients throttled before the window (floor ${r.pulse.floorMsAtStart} ms)`,
      );
    if (r.floorWaitMs >= 1000)
      note.push(`waited ${(r.floorWaitMs / 1000).toFixed(1)} s for the warm-up's throttle to lift`);
    if (r.pulse.floorProbes) note.push(`throttle floor probed ${r.pulse.floorProbes} times`);
    const drops = Object.entries(r.pulse.disconnects ?? {});
    if (drops.length) note.push(`disconnects: ${drops.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  if (r.usPerDelivered !== undefined) note.push(...scaleOutNotes(r));
  if (r.duplicates) note.push(`${r.duplicates} duplicates (probes; not counted as delivered)`);
  if (r.outOfOrder) note.push(`${r.outOfOrder} out of order (probes)`);
  if (r.duplicates === null && r.target === 'pulse' && r.latency)
    note.push('duplicates not told apart (frame layout)');
  if (r.tapped !== null && r.tapped !== undefined && r.tapped !== r.published)
    note.push(`tap saw ${r.tapped}/${r.published}`);
  if (r.publisherSkipped || r.publisherUnflushedBytes)
    note.push(
      `broker stopped reading the publisher (${r.publisherSkipped} readings skipped, ${Math.round(r.publisherUnflushedBytes / 1024)} KB unsent)`,
    );
  if (r.stall && r.stall.baselineHealthy.p99 > 1000)
    note.push(
      `baseline already saturated (healthy p99 ${r.stall.baselineHealthy.p99} ms before any stall): the stall comparison says little on this machine`,
    );
  if (r.stall)
    note.push(
      `stall: RSS +${fmt(r.stall.rssGrowthMb)} MB, healthy p99 ${fmt(r.stall.baselineHealthy.p99)}→${fmt(r.stall.duringStallHealthy.p99)} ms, lagged ${r.stall.toldLagged}/${r.stall.stalledClients} (healthy clients paused: ${r.stall.healthyLagged}), refilled ${r.stall.refilled}/${r.stall.stalledClients}, reconnected ${r.stall.reconnected}`,
    );
  if (r.storm)
    note.push(
      `restart: serving again ${fmt(r.storm.restartS, 1)} s after the kill; back ${r.storm.back}/${r.clients} (${r.storm.withHistory} with history), p50 ${fmt(r.storm.p50S, 1)} s, p99 ${fmt(r.storm.p99S, 1)} s, last ${fmt(r.storm.maxS, 1)} s after the kill`,
    );
  return note;
}

/** The scale-out rows (scenario `scale-out`): every process of the system and Redis's traffic. */
function scaleOutNotes(r) {
  const u = r.usage;
  const gw =
    r.topology === 'one'
      ? ''
      : ` (${['A', 'B', 'C']
          .filter((g) => u[`gateway${g}`])
          .map((g) => `${g} ${fmt(u[`gateway${g}`].cpuPct)}`)
          .join(' + ')})`;
  const crossed = (r.crossGateway ?? []).reduce((n, g) => n + g.published, 0);
  return [
    `gateways + brokers + redis ${fmt(r.systemCpuPct)}% of a core${gw}, redis ${fmt(u.redis?.cpuPct, 1)}%`,
    `${withSpread(r, 'usPerDelivered', r.usPerDelivered, 2)} µs CPU per delivered reading, ${fmt(r.usPerReading)} µs per published`,
    `ingested ${(r.ingested ?? []).map((n) => fmt(n)).join(' / ')}${crossed ? `, ${fmt(crossed)} batches via Redis` : ''}`,
    ...(r.bystanderUsPerMessage
      ? [`C (no screens) ${fmt(r.bystanderUsPerMessage, 1)} µs per channel message`]
      : []),
    `load avg ${(r.loadAvg ?? []).join(' ')}`,
  ];
}

/** A figure with its min–max over the runs beside it, when it was measured more than once. */
function withSpread(r, name, value, digits = 0) {
  const range = r.runs > 1 ? r.spread?.[name] : undefined;
  if (!range || value === null || value === undefined) return fmt(value, digits);
  return `${fmt(value, digits)} (${fmt(range[0], digits)}–${fmt(range[1], digits)})`;
}

function tableRow(r) {
  const u = r.usage ?? {};
  const serverRss = r.peakRssMb?.server ?? u.server?.rssMb ?? r.rssAfterMb;
  return [
    r.label,
    r.target,
    r.transport === 'polling' ? `${fmt(r.clients)} (polling)` : fmt(r.clients),
    fmt(r.publishedPerSec ?? r.ratePerSec),
    withSpread(r, 'deliveredPct', r.deliveredPct, r.deliveredPct === 100 ? 0 : 2),
    withSpread(r, 'p50', r.latency?.p50),
    withSpread(r, 'p99', r.latency?.p99),
    fmt(r.latency?.max),
    withSpread(r, 'serverCpuPct', u.server?.cpuPct),
    withSpread(r, 'serverRssMb', serverRss),
    r.target === 'mosquitto' ? '(= server)' : withSpread(r, 'brokerCpuPct', u.broker?.cpuPct),
    fmt(u.load?.cpuPct),
    fmt(u.publisher?.cpuPct ?? u.simulator?.cpuPct),
    fmt(u.foreignCpuPct),
    notes(r).join('; '),
  ];
}

/** The history store rows (scenario `history`): one line per store. */
function historyTable(rows) {
  const ms = (r, name, q) =>
    q ? `${fmt(q.p50, 1)} / ${withSpread(r, name, q.p99, 1)} ms (${fmt(q.points)} pts)` : 'n/a';
  const lines = rows
    .filter((r) => r.history)
    .map((r) => [
      r.history.store,
      withSpread(r, 'historyWritePerSec', r.history.writePerSec),
      ms(r, 'historyDayP99', r.history.day),
      ms(r, 'historyWeekP99', r.history.week),
      `${fmt(r.history.mbPerMillion, 1)} MB`,
      fmt(r.history.values),
      r.history.memory
        ? `${fmt(r.history.memory.rssBeforeMb)}${r.history.memory.rssOneDayMb === undefined ? '' : ` (empty) · ${fmt(r.history.memory.rssOneDayMb)} (1 d)`} → ${fmt(r.history.memory.rssAfterMb)} MB (${r.history.memory.days} d, ${fmt(r.history.memory.readings)} readings)`
        : '—',
    ]);
  if (!lines.length) return '';
  return markdownTable(
    [
      'store',
      'write values/s',
      '24 h → 1,000 pts p50 / p99',
      '7 d → 1,000 pts p50 / p99',
      'per 1 M readings',
      'values written',
      'gateway RSS: empty store → N days stored',
    ],
    lines,
  );
}

function markdownTable(header, rows) {
  return [header, header.map(() => '---'), ...rows]
    .map((cols) => `| ${cols.join(' | ')} |`)
    .join('\n');
}

/**
 * A row whose figures say more about the machine than the server: the 2 cores were saturated, or
 * the server fell behind (lost readings). A ratio against such a row compares the machine's limit.
 */
const saturated = (r) => (r.usage?.machineBusyPct ?? 0) > 90 || (r.deliveredPct ?? 100) < 100;

function ratioTable(rows) {
  const lines = [];
  const left = [];
  for (const p of rows.filter(
    (r) => r.target === 'pulse' && r.latency && r.usage?.server && !r.label.startsWith('pulse'),
  )) {
    for (const peer of rows.filter(
      (r) => r.scenario === p.scenario && r.target !== 'pulse' && r.usage?.server,
    )) {
      if (saturated(p) || saturated(peer)) {
        left.push(`${p.label} vs ${peer.target}`);
        continue;
      }
      lines.push([
        p.scenario,
        peer.target,
        fmt(p.deliveredPct / Math.max(peer.deliveredPct ?? 0, 0.01), 2),
        fmt((p.latency.p99 ?? 0) / Math.max(peer.latency?.p99 ?? 1, 1), 2),
        fmt(p.usage.server.cpuPct / Math.max(peer.usage.server.cpuPct, 0.01), 2),
        fmt(
          (p.peakRssMb?.server ?? p.usage.server.rssMb) /
            Math.max(peer.peakRssMb?.server ?? peer.usage.server.rssMb, 0.01),
          2,
        ),
      ]);
    }
  }
  for (const p of rows.filter((r) => r.target === 'pulse' && r.kbPerConnection !== undefined)) {
    for (const peer of rows.filter((r) => r.scenario === p.scenario && r.target !== 'pulse')) {
      lines.push([
        p.scenario,
        peer.target,
        '—',
        '—',
        '—',
        `${fmt(p.kbPerConnection / Math.max(peer.kbPerConnection, 0.01), 2)} (per connection)`,
      ]);
    }
  }
  const leftOut = left.length
    ? `\n\nLeft out (a side saturated the machine or lost readings): ${left.join(', ')}.`
    : '';
  return lines.length || left.length
    ? (lines.length
        ? markdownTable(
            [
              'scenario',
              'peer',
              'delivered % (pulse/peer)',
              'p99 (pulse/peer)',
              'server CPU (pulse/peer)',
              'server RSS (pulse/peer)',
            ],
            lines,
          )
        : 'none from unsaturated rows') + leftOut
    : '';
}

/** One item per selected scenario, in run order: `{ target, status, figure[, quick] }`. */
export function checklist(rows, selected, ctx) {
  const items = [];
  for (const s of selected) {
    const { pass, figure } = s.check(rows, s, ctx, items);
    items.push({
      target: s.item ?? s.target,
      status: pass === null ? 'N/A' : pass ? 'PASS' : 'FAIL',
      figure,
      ...(ctx.quick ? { quick: true } : {}),
    });
  }
  return items;
}

/**
 * The markdown of a run from its results JSON (`report` prints it; `bench/readme.mjs` puts the
 * newest full run in the README): the heading, the table, the ratios, the checklist.
 */
export function renderRun(result) {
  const { machine, rows, checklist: checks, failures } = result;
  const runs = result.runs ?? 1;
  const out = [];
  out.push(
    `## Pulse benchmark — ${result.finishedAt ?? ''}${result.quick ? ' (QUICK: reduced sizes, figures indicative only)' : ''}\n`,
  );
  out.push(`Command: \`${result.command}\`  `);
  out.push(
    `Machine: ${machine.cpus} × ${machine.model}, ${machine.memGb} GB, Linux ${machine.kernel}, Node ${machine.node}; backend build ${result.builtAt}; FLUSH_MS ${result.flushMs}; Pulse auth ${result.auth === false ? 'off (anonymous viewers)' : 'on (a viewer token per client)'}; ${DEVICES} devices; CPU % = % of one core over the publish window; ${runs > 1 ? `every figure the median of ${runs} runs, (min–max) beside the ones that vary` : 'one run'}\n`,
  );
  out.push(markdownTable(HEADER, rows.filter((r) => !r.history).map(tableRow)));
  const stores = historyTable(rows);
  if (stores) out.push(`\nHistory stores (issue 13), same run:\n\n${stores}`);
  const ratios = ratioTable(rows);
  if (ratios)
    out.push(`\nPulse / peer, same run (lower is better except delivered %):\n\n${ratios}`);
  out.push(`\nTargets:\n`);
  for (const c of checks)
    out.push(`- [${c.status === 'PASS' ? 'x' : ' '}] ${c.status} target ${c.target}: ${c.figure}`);
  for (const f of failures)
    out.push(
      `- ✗ ${f.scenario}${f.target ? ` (${f.target})` : ''}${f.run ? ` run ${f.run}` : ''} did not complete: ${f.error.split('\n')[0]}`,
    );
  return out.join('\n');
}

/** Prints the table, ratios and checklist to stdout; writes the results JSON; returns its path. */
export function report({ rows, checks, failures, command, machine, builtAt, opts, started }) {
  const Q = opts.quick;
  const seconds = (Date.now() - started) / 1000;
  const result = {
    command,
    machine,
    builtAt,
    finishedAt: new Date().toISOString(),
    quick: Q,
    flushMs: opts.flushMs,
    runs: opts.runs,
    auth: !opts.anonymous,
    seconds,
    rows,
    checklist: checks,
    failures,
  };
  console.log(`\n${renderRun(result)}`);
  const dir = path.join(benchDir, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = result.finishedAt.replace(/[:.]/g, '-');
  const name = `${Q ? 'quick' : 'bench'}${opts.only ? `-${opts.only.join('+')}` : ''}-${stamp}.json`;
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`\nwritten ${path.relative(root, file)} in ${Math.round(seconds)} s`);
  return file;
}

/**
 * A broken harness or Pulse losing readings fails always (in quick mode: the CI smoke's one
 * promise); missed targets only with --strict.
 */
export function exitCode({ rows, checks, failures, opts }) {
  const pulseLost = rows.some(
    (r) =>
      r.target === 'pulse' &&
      r.deliveredPct !== undefined &&
      r.deliveredPct !== null &&
      r.deliveredPct < 100 &&
      // Where clients are stalled or the gateway overloaded, merged readings (conflation) count
      // once: fewer readings than published is the design there, judged by the scenario. So in
      // any row where the gateway throttled its clients (the smoke's saturated machine can push
      // it over its overload line): that is the overload policy, not a loss.
      !['stall', 'overload'].includes(r.scenario) &&
      !((r.pulse?.throttled ?? 0) > 0 || (r.pulse?.throttledAtStart ?? 0) > 0),
  );
  return failures.length ||
    (opts.quick && pulseLost) ||
    (opts.strict && checks.some((c) => c.status === 'FAIL'))
    ? 1
    : 0;
}

#!/usr/bin/env node
// `npm run bench` — Pulse side by side with its peers (a naive relay, a per-room batched
// relay and Mosquitto's own MQTT-over-WebSocket fan-out), same load, same run, one table,
// the issue's targets checked PASS/FAIL, JSON under bench/results/.
//
//   node bench/run.mjs                       full run: every scenario 3 times (~40 min on 2 cores)
//   node bench/run.mjs --quick               CI smoke (~2 min, reduced sizes, once; targets are indicative)
//   node bench/run.mjs --only fanout-1000    one scenario (comma-separated list allowed)
//   node bench/run.mjs --targets pulse,naive only these targets (pulse, naive, batched, mosquitto)
//   node bench/run.mjs --list                scenarios and what they check
//   options: --runs 3 (runs per scenario × target, judged on the median; quick: 1),
//            --flush-ms 50 (Pulse FLUSH_MS), --strict (exit 1 when a target fails),
//            --anonymous (Pulse with anonymous viewing instead of a viewer token per client),
//            --tap (an extra mqtt.js subscriber cross-checks what the broker carried; costs CPU)
//
// This file only orchestrates: flags (lib/args.mjs), the scenario list (scenarios/), `--runs` runs
// per scenario × target (targets interleaved run by run, so a noisy minute hits every peer alike)
// each inside its wall-clock budget, the runs folded to medians (lib/median.mjs), then the report
// (lib/report.mjs). It must not
// measure, start servers or format figures itself. Every process is a child on loopback; every
// phase has a timeout; every scenario stops by itself. Design: docs/decisions/0007-benchmark-harness.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_TARGETS, parseRunArgs } from './lib/args.mjs';
import { foldRuns } from './lib/median.mjs';
import { killAll, killChildrenOnExit, root } from './lib/procs.mjs';
import { checklist, exitCode, report } from './lib/report.mjs';
import { sleep } from './lib/util.mjs';
import { SCENARIO_IDS, scenarios } from './scenarios/index.mjs';

const opts = parseRunArgs(process.argv.slice(2), SCENARIO_IDS);
const ctx = {
  quick: opts.quick,
  flushMs: opts.flushMs,
  tap: opts.tap,
  targets: opts.targets,
  auth: !opts.anonymous,
};
const all = scenarios(opts.quick);
if (opts.list) {
  for (const s of all) console.log(`${s.id.padEnd(12)} target ${s.target}  ${s.what}`);
  process.exit(0);
}
const selected = all.filter((s) => !opts.only || opts.only.includes(s.id));
killChildrenOnExit();

/** The targets a scenario runs against; `--targets` picks from the full run's, so `--quick --targets mosquitto` can add a peer to the smoke. */
function targetsOf(s) {
  if (s.runsOnce) return [null];
  if (opts.targets) return (s.fullTargets ?? ALL_TARGETS).filter((t) => opts.targets.includes(t));
  return s.targets ?? ALL_TARGETS;
}

/** One run of `s` against `t`, failed when over the scenario's wall-clock budget. */
async function runBounded(s, t) {
  const budgetS = s.budgetS(s, ctx);
  let timer;
  try {
    return await Promise.race([
      s.run(s, t, ctx),
      new Promise(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`scenario over its ${budgetS} s budget`)),
            budgetS * 1000,
          )),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  for (const f of ['dist/backend/main.js', 'dist/simulator/main.js']) {
    if (!fs.existsSync(path.join(root, f)))
      throw new Error(
        `${f} is missing: run \`npx nx run-many -t build -p backend simulator\` first`,
      );
  }
  const command = `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? 'cpu',
    node: process.version,
    memGb: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
  };
  const builtAt = fs.statSync(path.join(root, 'dist/backend/main.js')).mtime.toISOString();
  const started = Date.now();
  console.error(
    `Pulse benchmark: ${command}\nmachine: ${machine.cpus} × ${machine.model}, Node ${machine.node}; backend build ${builtAt}; FLUSH_MS ${opts.flushMs}; Pulse auth ${ctx.auth ? 'on (viewer token per client)' : 'off (anonymous viewers)'}${opts.quick ? '; QUICK (reduced sizes)' : ''}`,
  );
  const runs = Array.from({ length: opts.runs }, () => []);
  const failures = [];
  for (const s of selected) {
    for (let run = 0; run < opts.runs; run++) {
      for (const t of targetsOf(s)) {
        const t0 = Date.now();
        const which = `${s.id}${t ? ` — ${t}` : ''}${opts.runs > 1 ? ` (run ${run + 1}/${opts.runs})` : ''}`;
        console.error(`▶ ${which}`);
        try {
          const result = await runBounded(s, t);
          for (const r of [result].flat()) runs[run].push(r);
          console.error(`  done in ${Math.round((Date.now() - t0) / 1000)} s`);
        } catch (err) {
          console.error(`  ✗ ${which}: ${err.message}`);
          failures.push({ scenario: s.id, target: t, run: run + 1, error: err.message });
          killAll(); // nothing from a failed scenario may leak into the next
          await sleep(500);
        }
      }
    }
  }
  const rows = foldRuns(runs);
  const checks = checklist(rows, selected, ctx);
  report({ rows, checks, failures, command, machine, builtAt, opts, started });
  process.exitCode = exitCode({ rows, checks, failures, opts });
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    setTimeout(() => process.exit(), 200).unref();
  });

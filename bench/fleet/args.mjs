// fleet-browser.mjs's flags, parsed and range-checked once with the table-driven parser the other
// benches use (../lib/args.mjs); --quick shortens whatever was not given explicitly. Owns flag
// names, ranges, defaults and the scenario ids; must not start anything. `--help` prints the
// entry point's opening comment.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, printHeaderUsage } from '../lib/args.mjs';

const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fleet-browser.mjs');

/** Scenario ids `--only` accepts, in run order. */
export const SCENARIOS = ['latency', 'overview', 'alerts', 'heatmap'];

export function fail(msg) {
  console.error(`fleet-browser: ${msg}`);
  process.exit(2);
}

/** The usage text is the entry point's opening comment up to its third empty `//` line. */
function help() {
  const lines = fs.readFileSync(entry, 'utf8').split('\n');
  const breaks = lines.map((l, i) => (l.trim() === '//' ? i : -1)).filter((i) => i > 0);
  printHeaderUsage(entry, breaks[2] ?? 20);
}

export function parseFleetArgs(argv) {
  const { values: o, given } = parseFlags(
    argv,
    {
      '--quick': { key: 'quick', type: 'flag' },
      '--strict': { key: 'strict', type: 'flag' },
      '--only': { key: 'only', type: 'list' },
      '--runs': { key: 'runs', type: 'number', min: 1, max: 9, integer: true },
      '--seconds': { key: 'seconds', type: 'number', min: 2, max: 300 },
      '--values': { key: 'values', type: 'number', min: 3, max: 120, integer: true },
      '--scroll-speed': { key: 'scrollSpeed', type: 'number', min: 50, max: 20_000 },
      '--large': { key: 'large', type: 'number', min: 1000, max: 20_000, integer: true },
      '--baseline': { key: 'baseline', type: 'number', min: 2, max: 60 },
    },
    {
      quick: false,
      strict: false,
      only: SCENARIOS,
      runs: 3,
      seconds: 15,
      values: 12,
      scrollSpeed: 1000,
      large: 10_000,
      baseline: 10,
    },
    { fail, help },
  );
  for (const id of o.only)
    if (!SCENARIOS.includes(id)) fail(`--only ${id}: expected one of ${SCENARIOS.join(', ')}`);
  if (o.quick) {
    if (!given.has('--runs')) o.runs = 1;
    if (!given.has('--seconds')) o.seconds = 5;
    if (!given.has('--values')) o.values = 5;
    if (!given.has('--baseline')) o.baseline = 4;
  }
  return o;
}

// Command-line flags of the bench entry points, parsed and validated once before anything starts:
// a small table-driven parser and the header-usage printer (shared with wall-longrun.mjs and
// fleet-browser.mjs) and run.mjs's own flags. A bad flag ends the process with exit code 2 and a
// message that quotes it. Owns flag syntax and ranges;
// must not know scenarios' contents beyond their ids (run.mjs checks --only against them).

import fs from 'node:fs';

/** Target names `--targets` accepts, in the order the peers are run. */
export const ALL_TARGETS = ['pulse', 'naive', 'batched', 'mosquitto'];

/**
 * Parses `argv` against `spec`: `{ '--flag': { key, type, min, max, round, choices } }` where type
 * is `flag` (true when present), `string` (one of `choices` when given), `list` (comma-separated) or `number` (within min..max;
 * rounded when `round`, refused unless whole when `integer`). `defaults` gives every key's value when its flag is absent.
 * Returns the values and the set of flags given; `fail(message)` must not return.
 */
export function parseFlags(argv, spec, defaults, { fail, help }) {
  const values = { ...defaults };
  const given = new Set();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '-h' || flag === '--help') help();
    const rule = spec[flag];
    if (!rule) fail(`unknown option ${flag}`);
    given.add(flag);
    if (rule.type === 'flag') {
      values[rule.key] = true;
      continue;
    }
    const raw = argv[++i];
    if (raw === undefined) fail(`${flag} needs a value`);
    if (rule.type === 'list') values[rule.key] = raw.split(',');
    else if (rule.type === 'number') {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < rule.min || n > rule.max)
        fail(`${flag} ${raw}: expected a number ${rule.min}..${rule.max}`);
      if (rule.integer && !Number.isInteger(n)) fail(`${flag} ${raw}: expected a whole number`);
      values[rule.key] = rule.round ? Math.round(n) : n;
    } else {
      if (rule.choices && !rule.choices.includes(raw))
        fail(`${flag} ${raw}: expected one of ${rule.choices.join(', ')}`);
      values[rule.key] = raw;
    }
  }
  return { values, given };
}

/**
 * Prints an entry point's usage, its opening comment's lines 2 to `end` (1-based, inclusive) with
 * the `//` taken off, and exits 0: the usage is the file's own header, so it cannot drift.
 */
export function printHeaderUsage(file, end) {
  console.log(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .slice(1, end)
      .join('\n')
      .replace(/^\/\/ ?/gm, ''),
  );
  process.exit(0);
}

const RUN_USAGE =
  'usage: node bench/run.mjs [--quick] [--only id[,id]] [--targets pulse,naive,batched,mosquitto] [--flush-ms 50] [--runs 3] [--anonymous] [--strict] [--tap] [--list]';

function usage(error) {
  if (error) console.error(`bench: ${error}\n`);
  console.error(RUN_USAGE);
  process.exit(error ? 2 : 0);
}

/**
 * run.mjs's options. `scenarioIds` are the ids `--only` may name. `--flush-ms` takes the range
 * Pulse's own FLUSH_MS accepts (backend config), so a typo fails here and not at the gateway's boot.
 */
export function parseRunArgs(argv, scenarioIds) {
  const { values } = parseFlags(
    argv,
    {
      '--quick': { key: 'quick', type: 'flag' },
      '--strict': { key: 'strict', type: 'flag' },
      '--list': { key: 'list', type: 'flag' },
      '--tap': { key: 'tap', type: 'flag' },
      '--anonymous': { key: 'anonymous', type: 'flag' },
      '--only': { key: 'only', type: 'list' },
      '--targets': { key: 'targets', type: 'list' },
      '--flush-ms': { key: 'flushMs', type: 'number', min: 1, max: 10000, integer: true },
      '--runs': { key: 'runs', type: 'number', min: 1, max: 9, integer: true },
    },
    {
      quick: false,
      only: null,
      targets: null,
      flushMs: 100,
      runs: null,
      strict: false,
      list: false,
      tap: false,
      anonymous: false,
    },
    { fail: usage, help: () => usage() },
  );
  const unknownScenarios = (values.only ?? []).filter((id) => !scenarioIds.includes(id));
  if (unknownScenarios.length)
    usage(`unknown scenario ${unknownScenarios.join(', ')} (see --list)`);
  const unknownTargets = (values.targets ?? []).filter((t) => !ALL_TARGETS.includes(t));
  if (unknownTargets.length)
    usage(`unknown target ${unknownTargets.join(', ')} (one of ${ALL_TARGETS.join(', ')})`);
  // Every target is judged on the median of 3 runs; the CI smoke runs once.
  values.runs ??= values.quick ? 1 : 3;
  return values;
}

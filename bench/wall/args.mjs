// wall-longrun.mjs's flags, parsed and range-checked once with the table-driven parser the main
// bench uses (../lib/args.mjs); --quick shortens whatever was not given explicitly. Owns flag
// names, ranges and defaults; must not start anything. `--help` prints wall-longrun.mjs's header.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, printHeaderUsage } from '../lib/args.mjs';

const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'wall-longrun.mjs');

export function fail(msg) {
  console.error(`wall-longrun: ${msg}`);
  process.exit(2);
}

/** The usage text is the entry point's opening comment (its lines 2–17), so it cannot drift. */
const help = () => printHeaderUsage(entry, 17);

export function parseWallArgs(argv) {
  const { values: o, given } = parseFlags(
    argv,
    {
      '--quick': { key: 'quick', type: 'flag' },
      '--strict': { key: 'strict', type: 'flag' },
      '--minutes': { key: 'minutes', type: 'number', min: 0.25, max: 240 },
      '--devices': { key: 'devices', type: 'number', min: 1, max: 500, round: true },
      '--rate': { key: 'rate', type: 'number', min: 0.1, max: 100 },
      '--interval': { key: 'interval', type: 'number', min: 5, max: 600 },
      '--warmup': { key: 'warmup', type: 'number', min: 5, max: 600 },
      '--metrics': { key: 'metrics', type: 'string' },
      '--css': { key: 'css', type: 'string' },
      '--cols': { key: 'cols', type: 'number', min: 0, max: 12, round: true },
      '--window': { key: 'window', type: 'string' },
      '--profile': { key: 'profile', type: 'number', min: 0, max: 60 },
    },
    {
      minutes: 10,
      devices: 24,
      rate: 10,
      interval: 30,
      metrics: '',
      cols: 0,
      window: '',
      profile: 10,
      strict: false,
      quick: false,
      warmup: 30,
      css: '',
    },
    { fail, help },
  );
  if (o.quick) {
    if (!given.has('--minutes')) o.minutes = 1;
    if (!given.has('--interval')) o.interval = 15;
    if (!given.has('--warmup')) o.warmup = 15;
    if (!given.has('--profile')) o.profile = 5;
  }
  return o;
}

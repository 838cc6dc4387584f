// What the side-by-side tools (fleet-ab.mjs: builds; fleet-css.mjs: style variants) share after
// measuring: the median and spread of each figure over a side's pages or windows, and the results
// file with the command line that made it. Must not measure (measure.mjs) nor judge against goals
// (report.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { benchDir } from '../lib/procs.mjs';

/**
 * `{ figure: { median, min, max } }` over `rows` (one object of figures per page or window), for
 * every numeric figure of the first row; the median is the lower middle of an even count.
 */
export function spreadByFigure(rows) {
  const out = {};
  for (const key of Object.keys(rows[0] ?? {})) {
    const xs = rows
      .map((r) => r[key])
      .filter((x) => typeof x === 'number')
      .sort((a, b) => a - b);
    if (!xs.length) continue;
    out[key] = { median: xs[Math.floor((xs.length - 1) / 2)], min: xs[0], max: xs.at(-1) };
  }
  return out;
}

/** Writes `bench/results/<name>-<stamp>.json`: the command line, then `payload`; prints where. */
export function writeComparison(name, stamp, payload) {
  const file = path.join(benchDir, 'results', `${name}-${stamp}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const command = `node bench/${name}.mjs ${process.argv.slice(2).join(' ')}`;
  fs.writeFileSync(file, JSON.stringify({ command, ...payload }, null, 1));
  console.log(`wrote ${path.relative(path.dirname(benchDir), file)}`);
}

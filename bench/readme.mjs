#!/usr/bin/env node
// `npm run bench:readme` — the README's performance tables, generated from results JSON so they
// can only say what a run measured. Replaces what sits between each pair of markers in README.md:
//   <!-- generated:bench -->  … <!-- /generated:bench -->   newest full `npm run bench` run
//   <!-- generated:wall -->   … <!-- /generated:wall -->    newest `npm run bench:wall` run
//
//   node bench/readme.mjs                          newest results under bench/results/
//   node bench/readme.mjs --bench <file> --wall <file>   these results
//   node bench/readme.mjs --check                  exit 1 if README.md differs from what it would write
//
// Owns the markers and which results file each section shows; must not measure or judge (the
// tables and verdicts are rendered by lib/report.mjs and wall/report.mjs from the JSON as written).
import fs from 'node:fs';
import path from 'node:path';
import { parseFlags, printHeaderUsage } from './lib/args.mjs';
import { benchDir, root } from './lib/procs.mjs';
import { renderRun } from './lib/report.mjs';
import { renderWallResult } from './wall/report.mjs';

const { values: opts } = parseFlags(
  process.argv.slice(2),
  {
    '--bench': { key: 'bench', type: 'string' },
    '--wall': { key: 'wall', type: 'string' },
    '--check': { key: 'check', type: 'flag' },
  },
  { bench: null, wall: null, check: false },
  {
    fail: (message) => {
      console.error(`bench:readme: ${message}`);
      process.exit(2);
    },
    help: () => printHeaderUsage(new URL(import.meta.url).pathname, 10),
  },
);

const resultsDir = path.join(benchDir, 'results');

const stampOf = (file) => /\d{4}-\d\d-\d\dT[\d-]+Z/.exec(path.basename(file))?.[0] ?? '';

/** The newest results file whose name starts with `prefix` (`accept` picks by content). */
function newest(prefix, accept = () => true) {
  if (!fs.existsSync(resultsDir)) return null;
  const files = fs
    .readdirSync(resultsDir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .map((f) => path.join(resultsDir, f))
    .filter((f) => accept(JSON.parse(fs.readFileSync(f, 'utf8'))))
    // By the time stamp in the name (a clone's file times say nothing).
    .sort((a, b) => stampOf(b).localeCompare(stampOf(a)));
  return files[0] ?? null;
}

const fullRun = (r) => !r.quick && !/--only/.test(r.command ?? '');
const benchFile = opts.bench ?? newest('bench-', fullRun) ?? newest('bench-');
const wallFile =
  opts.wall ?? newest('wall-', (r) => !r.options?.quick) ?? newest('wall-', () => true);

const sections = [];
if (benchFile) {
  const result = JSON.parse(fs.readFileSync(benchFile, 'utf8'));
  // The run's own heading line gives way to the README's: its file and time instead.
  const body = renderRun(result).split('\n').slice(1).join('\n');
  const when = result.finishedAt ?? path.basename(benchFile);
  sections.push(['bench', `**Run of ${when}** (\`${path.relative(root, benchFile)}\`)\n${body}`]);
}
if (wallFile) {
  const result = JSON.parse(fs.readFileSync(wallFile, 'utf8'));
  sections.push(['wall', `${renderWallResult(result)}\n\n(\`${path.relative(root, wallFile)}\`)`]);
}

const readmePath = path.join(root, 'README.md');
const before = fs.readFileSync(readmePath, 'utf8');
let after = before;
for (const [name, text] of sections) {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const start = after.indexOf(open);
  const end = after.indexOf(close);
  if (start === -1 || end < start) {
    console.error(`bench:readme: README.md has no ${open} … ${close} pair`);
    process.exit(1);
  }
  after = `${after.slice(0, start + open.length)}\n\n${text}\n\n${after.slice(end)}`;
}
if (opts.check) {
  if (after !== before) {
    console.error(
      'bench:readme: README.md is not what the results say; run `npm run bench:readme`',
    );
    process.exit(1);
  }
  console.log('README.md matches the results');
} else {
  fs.writeFileSync(readmePath, after);
  for (const [name] of sections) console.log(`README.md: ${name} section written`);
  console.log(
    `from ${[benchFile, wallFile]
      .filter(Boolean)
      .map((f) => path.relative(root, f))
      .join(', ')}`,
  );
}

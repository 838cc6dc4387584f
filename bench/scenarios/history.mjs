// Scenario `history` (issue 13): each history store side by side, same run — the sustained write
// rate (the writer's batches of 2,000 values over 4,000 series at 1 reading/s, rollups on), the
// p99 of a 24 h and a 7 d query of one series at 1 reading/s downsampled to 1,000 points, and the
// store size per million readings. The measurement is bench/history-store.mjs's (run as a child,
// `--json`); this file owns the rows and the pass line (fixed limits from issue 13), and must not
// print. Not measured here yet: the write rate through the whole gateway (MQTT → ingest → store)
// and the gateway's RSS as retention grows (docs/decisions/0021, addendum).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fmt } from '../lib/format.mjs';
import { benchDir } from '../lib/procs.mjs';

/** p99 limits (ms) of a downsampled query, fixed by issue 13. */
const P99_LIMIT_MS = { SQLite: 50, PostgreSQL: 100 };
/** Share of target 5's lossless rate each store must write (issue 13: PostgreSQL at least half). */
const RATE_SHARE = { SQLite: 1, PostgreSQL: 0.5 };

function measure(args, timeoutMs) {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [path.join(benchDir, 'history-store.mjs'), '--json', ...args],
      { timeout: timeoutMs, maxBuffer: 1 << 20 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`history-store.mjs: ${error.message} ${stderr.slice(-400)}`))
          : resolve(
              stdout
                .split('\n')
                .filter((line) => line.startsWith('{'))
                .map((line) => JSON.parse(line)),
            ),
    ),
  );
}

async function runHistory(s, _target, ctx) {
  const args = ['--stores', s.stores.join(','), ...(ctx.quick ? ['--quick'] : [])];
  const measured = await measure(args, s.budgetS(s, ctx) * 1000);
  return measured.map((m) => ({
    scenario: s.id,
    label: `history store ${m.name}`,
    target: 'pulse',
    history: {
      store: m.name,
      values: m.values,
      writePerSec: m.rate,
      day: m.day,
      week: m.week,
      mbPerMillion: m.perMillion / 1e6,
    },
  }));
}

/** The highest rate Pulse took losslessly in target 5 (`ingest`) of the same run, if it ran. */
function losslessRate(rows) {
  const rates = rows
    .filter(
      (r) =>
        r.scenario === 'ingest' &&
        r.target === 'pulse' &&
        r.label.startsWith('pulse lossless') &&
        r.deliveredPct === 100,
    )
    .map((r) => r.publishedPerSec);
  return rates.length ? Math.max(...rates) : null;
}

export default {
  id: 'history',
  target: 13,
  item: '13 (history stores)',
  targets: ['pulse'],
  stores: ['sqlite', 'postgres'],
  what: 'history stores: write rate >= target 5 lossless rate (SQLite) / half of it (PostgreSQL); 24 h and 7 d → 1,000 points p99 < 50 ms (SQLite) / < 100 ms (PostgreSQL); MB per million readings',
  // CI smoke: the embedded store only, 200,000 values, the 24 h query (no 7 d series).
  quick: { stores: ['sqlite'] },
  run: runHistory,
  budgetS: (_s, ctx) => (ctx.quick ? 90 : 900),
  check(rows, s) {
    const mine = rows.filter((r) => r.scenario === s.id && r.history);
    if (!mine.length) return { pass: null, figure: 'not run' };
    const target5 = losslessRate(rows);
    let pass = true;
    const parts = mine.map(({ history: h }) => {
      const limit = P99_LIMIT_MS[h.store];
      const p99s = [h.day?.p99, h.week?.p99].filter((x) => typeof x === 'number');
      if (p99s.some((p) => p >= limit)) pass = false;
      const need = target5 === null ? null : target5 * RATE_SHARE[h.store];
      if (need !== null && h.writePerSec < need) pass = false;
      return `${h.store} ${fmt(h.writePerSec)} values/s${need === null ? '' : ` (needs ${fmt(need)})`}, p99 24 h ${fmt(h.day?.p99, 1)} ms / 7 d ${h.week ? `${fmt(h.week.p99, 1)} ms` : 'n/a'} (< ${limit}), ${fmt(h.mbPerMillion, 1)} MB per 1 M readings`;
    });
    const rateNote =
      target5 === null
        ? '; write rate not judged (target 5 did not run)'
        : `; target 5 lossless ${fmt(target5)}/s`;
    return { pass, figure: parts.join('; ') + rateNote };
  },
};

// Scenario `light-100` (target 4): 100 clients at 100 readings/s, where an idle gateway must send
// at once (p99 <= 10 ms) whatever the arrivals: twice, with random (Poisson) arrivals as real
// devices publish and with the simulator's 50 ms bursts; target 1 must hold too. Owns its sizes
// and pass line; the measurement is fixed-rate.mjs's, and it must not start processes itself.
import { ALL_TARGETS } from '../lib/args.mjs';
import { fmt } from '../lib/format.mjs';
import { fixedRateScenario, pulseRow, runRate } from './fixed-rate.mjs';

const LIMIT_P99_MS = 10;
const ARRIVALS = ['poisson', 'bursts'];

export default fixedRateScenario({
  id: 'light-100',
  target: 4,
  clients: 100,
  rate: 100,
  seconds: 10,
  targets: ALL_TARGETS,
  what: `100 clients, 100 readings/s, Poisson arrivals and 50 ms bursts: p99 <= ${LIMIT_P99_MS} ms in both (idle gateway sends at once)`,
  quick: { seconds: 1, targets: ['pulse'] },
  /** One row per arrival shape, labelled `light-100 <shape>`. */
  async run(s, targetName, ctx) {
    const rows = [];
    for (const arrivals of ARRIVALS)
      rows.push(await runRate(s, targetName, ctx, { arrivals, label: `${s.id} ${arrivals}` }));
    return rows;
  },
  budgetS: (s) => ARRIVALS.length * (s.seconds + 120),
  /** `items`: the checklist so far, for target 1's verdict (light load is no excuse for a heavy one). */
  check(rows, s, ctx, items) {
    const measured = ARRIVALS.map((a) => [a, pulseRow(rows, s.id, `${s.id} ${a}`)]);
    if (measured.some(([, r]) => !r)) return { pass: null, figure: 'not run' };
    const t1 = items.find((i) => i.target === 1);
    return {
      pass:
        measured.every(([, r]) => r.latency.p99 !== null && r.latency.p99 <= LIMIT_P99_MS) &&
        (!t1 || t1.status === 'PASS'),
      figure: `${measured.map(([a, r]) => `${a}: p99 ${fmt(r.latency.p99)} ms at ${r.publishedPerSec} readings/s`).join('; ')} (limit ${LIMIT_P99_MS})${t1 ? `; target 1 ${t1.status}` : '; target 1 not in this run'}`,
    };
  },
});

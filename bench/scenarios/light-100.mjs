// Scenario `light-100` (target 4): 100 clients at 100 readings/s, where an idle gateway must send
// at once (p99 <= 10 ms) and target 1 must hold too. Owns its sizes and pass line; the
// measurement is fixed-rate.mjs's, and it must not start processes itself.
import { ALL_TARGETS } from '../lib/args.mjs';
import { fixedRateScenario } from './fixed-rate.mjs';

export default fixedRateScenario({
  id: 'light-100',
  target: 4,
  clients: 100,
  rate: 100,
  seconds: 10,
  targets: ALL_TARGETS,
  what: '100 clients, 100 readings/s: p99 <= 10 ms (idle gateway sends at once)',
  quick: { seconds: 2, targets: ['pulse'] },
  /** `items`: the checklist so far, for target 1's verdict (light load is no excuse for a heavy one). */
  judge(r, ctx, items) {
    const t1 = items.find((i) => i.target === 1);
    return {
      pass: r.latency.p99 !== null && r.latency.p99 <= 10 && (!t1 || t1.status === 'PASS'),
      figure: `p99 ${r.latency.p99} ms at ${r.publishedPerSec} readings/s (limit 10)${t1 ? `; target 1 ${t1.status}` : '; target 1 not in this run'}`,
    };
  },
});

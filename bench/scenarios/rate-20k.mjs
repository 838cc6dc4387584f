// Scenario `rate-20k` (target 2): 100 clients at 20k readings/s. Owns its sizes and pass line;
// the measurement is fixed-rate.mjs's, and it must not start processes itself.
import { ALL_TARGETS } from '../lib/args.mjs';
import { fmt } from '../lib/format.mjs';
import { deliveredWithin, fixedRateScenario } from './fixed-rate.mjs';

export default fixedRateScenario({
  id: 'rate-20k',
  target: 2,
  clients: 100,
  rate: 20000,
  seconds: 10,
  targets: ALL_TARGETS,
  what: '100 clients, 20k readings/s: 100% delivered, p99 <= 150 ms',
  quick: { clients: 20, rate: 5000, seconds: 1, targets: ['pulse'] },
  judge: (r) => ({
    pass: deliveredWithin(r, 150, true),
    figure: `${r.publishedPerSec} readings/s to ${r.clients} clients: delivered ${fmt(r.deliveredPct, 3)}%, p99 ${r.latency.p99} ms (limit 150)`,
  }),
});

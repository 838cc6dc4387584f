// Scenario `fanout-1000` (target 1): 1,000 websocket clients watching the whole fleet at 1k
// readings/s. Owns its sizes and pass line; the measurement is fixed-rate.mjs's, and it must not
// start processes itself.
import { ALL_TARGETS } from '../lib/args.mjs';
import { fmt } from '../lib/format.mjs';
import { deliveredWithin, fixedRateScenario } from './fixed-rate.mjs';

const LIMIT_P99_MS = 80;
const LIMIT_CPU_PCT = 20;

export default fixedRateScenario({
  id: 'fanout-1000',
  target: 1,
  clients: 1000,
  rate: 1000,
  seconds: 15,
  targets: ALL_TARGETS,
  what: '1,000 websocket clients, whole fleet, 1k readings/s: 100% delivered, p99 <= 80 ms, gateway <= 20% of a core',
  quick: { clients: 200, seconds: 1, targets: ['pulse', 'naive'] },
  // Fixed limits (issue 12): they never follow the configuration under test (FLUSH_MS included).
  judge: (r) => ({
    pass: deliveredWithin(r, LIMIT_P99_MS, true) && r.usage.server.cpuPct <= LIMIT_CPU_PCT,
    figure: `${r.clients} clients: delivered ${fmt(r.deliveredPct, 3)}%, p99 ${r.latency.p99} ms (limit ${LIMIT_P99_MS}), gateway ${fmt(r.usage.server.cpuPct)}% of a core (limit ${LIMIT_CPU_PCT})`,
  }),
});

// Scenario `fanout-1000` (target 1): 1,000 websocket clients watching the whole fleet at 1k
// readings/s. Owns its sizes and pass line; the measurement is fixed-rate.mjs's, and it must not
// start processes itself.
import { ALL_TARGETS } from '../lib/args.mjs';
import { fmt } from '../lib/format.mjs';
import { deliveredWithin, fixedRateScenario } from './fixed-rate.mjs';

export default fixedRateScenario({
  id: 'fanout-1000',
  target: 1,
  clients: 1000,
  rate: 1000,
  seconds: 15,
  targets: ALL_TARGETS,
  what: '1,000 websocket clients, whole fleet, 1k readings/s: 100% delivered, p99 <= FLUSH_MS + 30 ms, gateway <= 30% of a core',
  quick: { clients: 200, seconds: 2, targets: ['pulse', 'naive'] },
  judge(r, ctx) {
    // The latency limit follows the flush interval under test: a flush holds a reading that long.
    const limit = ctx.flushMs + 30;
    return {
      pass: deliveredWithin(r, limit, true) && r.usage.server.cpuPct <= 30,
      figure: `${r.clients} clients: delivered ${fmt(r.deliveredPct, 3)}%, p99 ${r.latency.p99} ms (limit ${limit}), gateway ${fmt(r.usage.server.cpuPct)}% of a core (limit 30)`,
    };
  },
});

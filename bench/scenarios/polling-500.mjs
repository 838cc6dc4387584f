// Scenario `polling-500` (target 6): 500 clients on Engine.IO long-polling at 1k readings/s.
// Owns its sizes and pass line; the measurement is fixed-rate.mjs's, and it must not start
// processes itself.
import { fmt } from '../lib/format.mjs';
import { deliveredWithin, pulseRow, rateBudgetS, runRate } from './fixed-rate.mjs';

export default {
  id: 'polling-500',
  kind: 'rate',
  target: 6,
  transport: 'polling',
  clients: 500,
  rate: 1000,
  seconds: 15,
  // Mosquitto has no long-polling transport.
  targets: ['pulse', 'naive', 'batched'],
  what: '500 long-polling clients, 1k readings/s: 100% delivered, p99 < 250 ms',
  quick: { clients: 50, seconds: 2, targets: ['pulse'] },
  run: runRate,
  budgetS: rateBudgetS,
  check(rows, s) {
    const r = pulseRow(rows, s.id);
    if (!r) return { pass: null, figure: 'not run' };
    return {
      pass: deliveredWithin(r, 250),
      figure: `${r.clients} polling clients: delivered ${fmt(r.deliveredPct, 3)}%, p99 ${r.latency.p99} ms (limit < 250)`,
    };
  },
};

// Scenario `polling-1000` (target 6): 1,000 clients on Engine.IO long-polling at 1k readings/s.
// Owns its sizes and pass line; the measurement is fixed-rate.mjs's, and it must not start
// processes itself.
import { fmt } from '../lib/format.mjs';
import { deliveredWithin, fixedRateScenario } from './fixed-rate.mjs';

export default fixedRateScenario({
  id: 'polling-1000',
  target: 6,
  transport: 'polling',
  clients: 1000,
  rate: 1000,
  seconds: 15,
  // Mosquitto has no long-polling transport.
  targets: ['pulse', 'naive', 'batched'],
  what: '1,000 long-polling clients, 1k readings/s: 100% delivered, p99 < 250 ms',
  quick: { clients: 50, seconds: 1, targets: ['pulse'] },
  judge: (r) => ({
    pass: deliveredWithin(r, 250),
    figure: `${r.clients} polling clients: delivered ${fmt(r.deliveredPct, 3)}%, p99 ${r.latency.p99} ms (limit < 250)`,
  }),
});

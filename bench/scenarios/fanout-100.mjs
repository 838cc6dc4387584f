// Scenario `fanout-100` (target 3): 100 clients at 1k readings/s, Pulse's CPU against Mosquitto's
// own MQTT-over-WebSocket fan-out of the same load. Owns its sizes and pass line; the
// measurement is fixed-rate.mjs's, and it must not start processes itself.
import { ALL_TARGETS } from '../lib/args.mjs';
import { fmt } from '../lib/format.mjs';
import { fixedRateScenario, pulseRow } from './fixed-rate.mjs';

const LIMIT_RATIO = 0.3;

export default fixedRateScenario({
  id: 'fanout-100',
  target: 3,
  clients: 100,
  rate: 1000,
  seconds: 10,
  targets: ALL_TARGETS,
  what: "100 clients, 1k readings/s: Pulse's CPU with its broker's <= 0.3× Mosquitto MQTT-over-WebSocket CPU for the same fan-out",
  quick: { clients: 50, seconds: 1, targets: ['pulse', 'mosquitto'] },
  // The verdict compares two rows, so it replaces the one-row judge.
  check(rows, s) {
    const r = pulseRow(rows, s.id);
    const m = rows.find((x) => x.scenario === s.id && x.target === 'mosquitto');
    if (!r || !m) return { pass: null, figure: 'needs pulse and mosquitto targets' };
    // Pulse needs a broker in front of it to do this job; Mosquitto serving WebSocket does not.
    const pulseCpu = r.usage.server.cpuPct + (r.usage.broker?.cpuPct ?? 0);
    const mosquittoCpu = m.usage.server.cpuPct;
    return {
      pass: pulseCpu <= mosquittoCpu * LIMIT_RATIO,
      figure: `gateway + its broker ${fmt(pulseCpu, 1)}% (${fmt(r.usage.server.cpuPct, 1)} + ${fmt(r.usage.broker?.cpuPct ?? 0, 1)}) vs mosquitto MQTT-over-WS ${fmt(mosquittoCpu, 1)}% (ratio ${fmt(pulseCpu / Math.max(mosquittoCpu, 0.01), 2)}, limit ${LIMIT_RATIO}); mosquitto delivered ${fmt(m.deliveredPct, 2)}%`,
    };
  },
});

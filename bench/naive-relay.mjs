// The naive relay Pulse is measured against (forked by run.mjs): mqtt.js in, JSON.parse, then
// one Socket.IO `emit` per reading to the fleet room. No validation, history or alerts. Owns only
// that emit policy; the server and subscriber are lib/relay.mjs's.
// argv: <mqtt url> <http port> ; IPC -> ready
import { startRelay } from './lib/relay.mjs';

startRelay('naive', {
  rooms: () => ['fleet'],
  onReading: (reading, live) => live.to('fleet').emit('readings', [reading]),
});

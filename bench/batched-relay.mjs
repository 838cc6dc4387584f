// Peer "per-room batched relay" (forked by run.mjs): readings buffered per device room and
// flushed every 100 ms with ONE emit per room. Clients watching the fleet must join all device
// rooms (subscribe {devices: [...]}) — so each client gets one frame per device per flush, which
// is what makes the design expensive. No validation, history, alerts. Owns only the buffering
// and flush policy; the server and subscriber are lib/relay.mjs's.
// argv: <mqtt url> <http port> ; IPC -> ready
import { startRelay } from './lib/relay.mjs';

const FLUSH_MS = 100;
const buffers = new Map();
const live = startRelay('batched', {
  rooms: (request) => (request?.devices ?? []).map((id) => `device:${id}`),
  onReading(reading) {
    const room = `device:${reading.deviceId}`;
    let buf = buffers.get(room);
    if (!buf) buffers.set(room, (buf = []));
    buf.push(reading);
  },
});
setInterval(() => {
  for (const [room, readings] of buffers) {
    if (readings.length === 0) continue;
    live.to(room).emit('readings', readings);
    buffers.set(room, []);
  }
}, FLUSH_MS);

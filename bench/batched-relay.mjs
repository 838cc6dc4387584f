// Peer "per-room batched relay": mqtt.js in, JSON.parse, readings buffered per device
// room and flushed every 100 ms with ONE emit per room. Clients watching the fleet must
// join all device rooms (subscribe {devices: [...]}) — so each client gets one frame per
// device per flush, which is what makes the design expensive. No validation, history, alerts.
// argv: <mqtt url> <http port> ; IPC -> ready
import http from 'node:http';
import mqtt from 'mqtt';
import { Server } from 'socket.io';

const FLUSH_MS = 100;
const [mqttUrl, portArg] = process.argv.slice(2);
const server = http.createServer();
const io = new Server(server, { transports: ['websocket', 'polling'] });
const live = io.of('/live');
live.on('connection', (socket) => {
  socket.on('subscribe', (req, ack) => {
    const rooms = (req?.devices ?? []).map((id) => `device:${id}`);
    socket.join(rooms);
    if (typeof ack === 'function')
      ack({ ok: true, serverTime: Date.now(), devices: [], history: [], rooms });
  });
});
const buffers = new Map();
const client = mqtt.connect(mqttUrl, { clientId: `batched-${process.pid}` });
client.on('connect', () => client.subscribe('devices/+/telemetry', { qos: 0 }));
client.on('message', (topic, payload) => {
  const deviceId = topic.split('/')[1];
  let body;
  try {
    body = JSON.parse(payload.toString());
  } catch {
    return;
  }
  const room = `device:${deviceId}`;
  let buf = buffers.get(room);
  if (!buf) buffers.set(room, (buf = []));
  for (const item of Array.isArray(body) ? body : [body])
    buf.push({ deviceId, ts: item.ts ?? Date.now(), values: item.values ?? item });
});
setInterval(() => {
  for (const [room, readings] of buffers) {
    if (readings.length === 0) continue;
    live.to(room).emit('readings', readings);
    buffers.set(room, []);
  }
}, FLUSH_MS);
server.listen(Number(portArg), '127.0.0.1', () => process.send?.({ type: 'ready' }));
process.on('SIGTERM', () => {
  client.end(true);
  io.close();
  process.exit(0);
});

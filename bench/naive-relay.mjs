// The naive relay Pulse is measured against: mqtt.js in, JSON.parse, then one
// Socket.IO `emit` per reading to the fleet room. Same wire contract as Pulse's
// `/live` namespace so the same clients measure both. No validation, history or alerts.
import http from 'node:http';
import mqtt from 'mqtt';
import { Server } from 'socket.io';

const [mqttUrl, portArg] = process.argv.slice(2);
const server = http.createServer();
const io = new Server(server, { transports: ['websocket', 'polling'] });
const live = io.of('/live');
live.on('connection', (socket) => {
  socket.on('subscribe', (_req, ack) => {
    socket.join('fleet');
    if (typeof ack === 'function')
      ack({ ok: true, serverTime: Date.now(), devices: [], history: [], rooms: ['fleet'] });
  });
});
const client = mqtt.connect(mqttUrl, { clientId: `naive-${process.pid}` });
client.on('connect', () => client.subscribe('devices/+/telemetry', { qos: 0 }));
client.on('message', (topic, payload) => {
  const deviceId = topic.split('/')[1];
  let body;
  try {
    body = JSON.parse(payload.toString());
  } catch {
    return;
  }
  const items = Array.isArray(body) ? body : [body];
  for (const item of items) {
    live
      .to('fleet')
      .emit('readings', [{ deviceId, ts: item.ts ?? Date.now(), values: item.values ?? item }]);
  }
});
server.listen(Number(portArg), '127.0.0.1', () => process.send?.({ type: 'ready' }));
process.on('SIGTERM', () => {
  client.end(true);
  io.close();
  process.exit(0);
});

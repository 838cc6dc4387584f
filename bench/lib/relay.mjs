// What the two peer relays (naive-relay.mjs, batched-relay.mjs) share: a Socket.IO server with
// Pulse's `/live` wire contract (subscribe with an ack, `readings` frames) so the same load
// workers measure them, and an mqtt.js subscriber on devices/+/telemetry decoding each payload
// with JSON.parse. Owns that plumbing and the child's ready/SIGTERM protocol; must not choose
// rooms or when to emit (each relay's own file does, which is the difference being measured).
// argv: <mqtt url> <http port> ; IPC -> ready
import http from 'node:http';
import mqtt from 'mqtt';
import { Server } from 'socket.io';

/**
 * Starts the relay: `rooms(request)` names the rooms a `subscribe` joins; `onReading(reading,
 * live)` gets every decoded reading `{deviceId, ts, values}` with the `/live` namespace to emit on.
 * Returns the namespace.
 */
export function startRelay(name, { rooms, onReading }) {
  const [mqttUrl, portArg] = process.argv.slice(2);
  const server = http.createServer();
  const io = new Server(server, { transports: ['websocket', 'polling'] });
  const live = io.of('/live');
  live.on('connection', (socket) => {
    socket.on('subscribe', (request, ack) => {
      const joined = rooms(request);
      socket.join(joined);
      if (typeof ack === 'function')
        ack({ ok: true, serverTime: Date.now(), devices: [], history: [], rooms: joined });
    });
  });
  const client = mqtt.connect(mqttUrl, { clientId: `${name}-${process.pid}` });
  client.on('connect', () => client.subscribe('devices/+/telemetry', { qos: 0 }));
  client.on('message', (topic, payload) => {
    const deviceId = topic.split('/')[1];
    let body;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      return;
    }
    for (const item of Array.isArray(body) ? body : [body])
      onReading({ deviceId, ts: item.ts ?? Date.now(), values: item.values ?? item }, live);
  });
  server.listen(Number(portArg), '127.0.0.1', () => process.send?.({ type: 'ready' }));
  process.on('SIGTERM', () => {
    client.end(true);
    io.close();
    process.exit(0);
  });
  return live;
}

// Load-side process: N Socket.IO clients watching the whole fleet. Each reading's
// latency is receive time minus its `ts` (the simulator stamps ts at publish time;
// same machine, same clock). Reports over IPC when asked, then exits.
import { io } from 'socket.io-client';
import { Histogram } from './lib.mjs';

const [url, countArg, transport = 'websocket'] = process.argv.slice(2);
const count = Number(countArg);
const histogram = new Histogram();
let received = 0;
let subscribed = 0;
let errors = 0;
const sockets = [];

function onReadings(readings) {
  const now = Date.now();
  for (let i = 0; i < readings.length; i++) histogram.record(now - readings[i].ts);
  received += readings.length;
}

for (let i = 0; i < count; i++) {
  const socket = io(`${url}/live`, { transports: [transport], reconnection: false, forceNew: true });
  socket.on('connect', () => {
    socket.emit('subscribe', { fleet: true, history: false }, (ack) => {
      if (ack && ack.ok) subscribed++;
      else errors++;
      if (subscribed + errors === count) process.send?.({ type: 'ready', subscribed, errors });
    });
  });
  socket.on('readings', onReadings);
  socket.on('connect_error', () => errors++);
  sockets.push(socket);
  // Stagger connects a little so the server's accept queue is not the thing measured.
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}

process.on('message', (msg) => {
  if (msg?.type === 'reset') {
    received = 0;
    histogram.buckets.fill(0);
    histogram.count = 0;
    histogram.max = 0;
  } else if (msg?.type === 'report') {
    process.send({ type: 'report', received, clients: count, subscribed, errors, latency: histogram.toJSON() });
    for (const s of sockets) s.close();
    setTimeout(() => process.exit(0), 100);
  }
});

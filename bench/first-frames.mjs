#!/usr/bin/env node
// What a screen's socket carries before its first reading: the built backend and simulator at
// N devices × 1 reading/s, and once the fleet has run --wait seconds, a socket.io-client over
// WebSocket connects to /live (as the dashboard does: the gateway greets it with its status and
// the `alerts` snapshot) and sends the overview's first subscribe, rooms only (30 devices,
// `history: false`). Prints each frame's event and bytes in the first 3 s, the snapshot's
// alerts, the answer's bytes and the total. Then a second socket asks for the list's version
// instead (`auth.alerts: 'http'`, decision 0054, as the dashboard does) and reads the list with
// GET /api/alerts as a browser would (br), as gzip and plain: the greeting's bytes and the list's
// on the wire. Writes bench/results/first-frames-<timestamp>.json.
//
//   node bench/first-frames.mjs [--devices 1000] [--wait 300]
//
// No limit: a measure (performance log, session 36).
import { io } from 'socket.io-client';
import { parseFlags, printHeaderUsage } from './lib/args.mjs';
import { getRaw, sleep } from './lib/util.mjs';
import { writeComparison } from './fleet/compare.mjs';
import { startFleet, stopFleet } from './fleet/stack.mjs';
import { copyDashboard, guardRun, killAll } from './wall/stack.mjs';

const entry = new URL(import.meta.url).pathname;
const fail = (msg) => {
  console.error(`first-frames: ${msg}`);
  process.exit(2);
};
const { values: opt } = parseFlags(
  process.argv.slice(2),
  {
    '--devices': { key: 'devices', type: 'number', min: 30, max: 20_000, integer: true },
    '--wait': { key: 'wait', type: 'number', min: 0, max: 900, integer: true },
  },
  { devices: 1000, wait: 300 },
  { fail, help: () => printHeaderUsage(entry, 10) },
);
guardRun((opt.wait + 120) * 1000, 'first-frames');

// The simulator's ids (simulator/src/app/models/fleet.ts): at least 3 digits, as many as the count has.
const simId = (i) => `sim-${String(i).padStart(Math.max(3, String(opt.devices).length), '0')}`;

const { dashboardDir } = copyDashboard();
const fleet = await startFleet({ devices: opt.devices, dashboardDir, boundS: opt.wait + 120 });
let result;
try {
  console.log(`fleet of ${opt.devices} running; connecting in ${opt.wait} s`);
  await sleep(opt.wait * 1000);
  const frames = [];
  const t0 = Date.now();
  let alerts = null;
  const socket = io(`${fleet.backend.httpUrl}/live`, { transports: ['websocket'] });
  socket.on('alerts', (list) => (alerts = list.length));
  socket.io.on('open', () =>
    socket.io.engine.on('packet', ({ data }) => {
      if (typeof data !== 'string') return;
      // `2/live,["event",…` for an event, `3/live,<id>[…` for an answer.
      const event = /^2\/live,\["([^"]+)"/.exec(data)?.[1] ?? (data.startsWith('3') ? 'ack' : '?');
      frames.push({ atMs: Date.now() - t0, event, bytes: Buffer.byteLength(data) });
    }),
  );
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const ids = Array.from({ length: 30 }, (_, i) => simId(i + 1));
  const ack = await socket
    .timeout(10_000)
    .emitWithAck('subscribe', { devices: ids, history: false });
  if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
  await sleep(3000);
  socket.close();
  const overHttp = await alertsOverHttp(fleet.backend.httpUrl);
  const bytesOf = (event) =>
    frames.filter((f) => f.event === event).reduce((n, f) => n + f.bytes, 0);
  result = {
    alertsSnapshotBytes: bytesOf('alerts'),
    alertsInSnapshot: alerts,
    roomsOnlyAnswerBytes: bytesOf('ack'),
    readingsBytes: bytesOf('readings'),
    frames: frames.length,
    totalBytes: frames.reduce((n, f) => n + f.bytes, 0),
    overHttp,
  };
  for (const f of frames.filter((x) => x.event !== 'readings'))
    console.log(`  ${String(f.atMs).padStart(5)} ms  ${f.event.padEnd(9)} ${f.bytes} bytes`);
  console.log(JSON.stringify(result));
} finally {
  await stopFleet(fleet);
  killAll();
}
/** The greeting a client that asks for the version gets, and GET /api/alerts's bytes per encoding. */
async function alertsOverHttp(httpUrl) {
  let greetingBytes = 0;
  const socket = io(`${httpUrl}/live`, { transports: ['websocket'], auth: { alerts: 'http' } });
  socket.io.on('open', () =>
    socket.io.engine.on('packet', ({ data }) => {
      if (typeof data === 'string' && data.startsWith('2/live,["alertsVersion"'))
        greetingBytes = Buffer.byteLength(data);
    }),
  );
  const greeted = await new Promise((resolve, reject) => {
    socket.once('alertsVersion', resolve);
    socket.once('connect_error', reject);
  });
  const get = (encoding) =>
    getRaw(`${httpUrl}/api/alerts`, encoding ? { 'accept-encoding': encoding } : {});
  const [br, gzip, plain] = [await get('br, gzip'), await get('gzip'), await get('')];
  socket.close();
  const list = JSON.parse(plain.bytes.toString());
  return {
    greeting: greeted,
    greetingBytes,
    alerts: list.alerts.length,
    listBytes: {
      [br.encoding]: br.bytes.length,
      [gzip.encoding]: gzip.bytes.length,
      plain: plain.bytes.length,
    },
  };
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeComparison('first-frames', stamp, { opt, startedAt: stamp, result });
process.exit(0);

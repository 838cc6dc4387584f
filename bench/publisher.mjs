// Paced publisher for the fixed-rate scenarios (forked by run.mjs).
//
// Why not the simulator: in paced mode it stamps `ts` with the scheduled slot time and
// publishes on a 50 ms tick, so a reading can leave up to 50 ms after its ts — that
// would swamp a 10 ms p99 target. This publisher writes raw MQTT 3.1.1 over TCP (CONNECT,
// PUBLISH QoS 0; cheap enough for 50k readings/s on one core), runs a 1 ms tick and
// stamps every reading with Date.now() right before the write (made strictly increasing per
// device, so a device's readings never share a ts).
//
// argv: <mqtt://host:port> <devices> <readings per second, total> <seconds> [prefix] [arrivals] [format]
// arrivals: `paced` (default: evenly spread, the 1 ms tick sends what is due), `poisson` (random
// arrivals at the same mean rate, exponential gaps: real devices are not synchronised) or
// `bursts` (the simulator's shape: everything due in a 50 ms tick at once).
// format: `pulse` (default: the contract's `devices/<id>/telemetry`) or `json` (issue 14's generic
// format, as a Tasmota-like device publishes it: `bench-json/<id>`, nested objects and a text
// field, read through an ingest source; ingest.mjs configures it).
// IPC:  -> ready (connected) ; <- go ; -> done {published, skipped, unflushedBytes, seconds, maxLateMs}
// `published` counts readings offered in the window (skipped ones included: the broker refused them).
// Owns pacing, stamping and the MQTT bytes on the wire; must not subscribe or measure delivery.
import net from 'node:net';

const [
  url,
  devicesArg,
  rateArg,
  secondsArg,
  prefix = 'bench',
  arrivals = 'paced',
  format = 'pulse',
] = process.argv.slice(2);
if (!['pulse', 'json'].includes(format)) {
  console.error(`publisher: unknown format ${format}`);
  process.exit(2);
}
if (!['paced', 'poisson', 'bursts'].includes(arrivals)) {
  console.error(`publisher: unknown arrivals ${arrivals}`);
  process.exit(2);
}
/** The simulator's publish tick: a burst every 50 ms. */
const BURST_MS = 50;
const devices = Number(devicesArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const { hostname, port } = new URL(url);
/** Bytes the socket may hold unsent before readings are skipped instead of buffered. */
const MAX_BUFFERED = 16 * 1024 * 1024;

function remainingLength(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

const topics = Array.from({ length: devices }, (_, i) => {
  const id = `${prefix}-${String(i + 1).padStart(3, '0')}`;
  const t = Buffer.from(format === 'json' ? `bench-json/${id}` : `devices/${id}/telemetry`);
  return Buffer.concat([Buffer.from([t.length >> 8, t.length & 255]), t]);
});

/** One telemetry PUBLISH: the same four metrics as the simulator's env-sensor, gently moving. */
function publishPacket(i, ts, k) {
  const phase = k / 600 + i;
  const temperature = (21 + 3 * Math.sin(phase)).toFixed(2);
  const humidity = (45 - 5 * Math.sin(phase)).toFixed(1);
  const pressure = (1013 + Math.cos(phase)).toFixed(1);
  const body =
    format === 'json'
      ? `{"Time":"2026-12-02T05:00:00","ts":${ts},"ENV":{"Temperature":${temperature},"Humidity":${humidity}},"Pressure":${pressure},"CO2":${600 + (k % 200)}}`
      : `{"ts":${ts},"values":{"temperature":${temperature},"humidity":${humidity},"pressure":${pressure},"co2":${600 + (k % 200)}}}`;
  const payload = Buffer.from(body);
  const rest = topics[i].length + payload.length;
  return Buffer.concat([Buffer.from([0x30]), remainingLength(rest), topics[i], payload]);
}

const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
socket.on('error', (err) => {
  console.error(`publisher: ${err.message}`);
  process.exit(1);
});
socket.once('connect', () => {
  const id = Buffer.from(`bench-pub-${process.pid}`);
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0]);
  const rest = Buffer.concat([variable, Buffer.from([id.length >> 8, id.length & 255]), id]);
  socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(rest.length), rest]));
});
socket.once('data', (d) => {
  if (d[0] !== 0x20 || d[3] !== 0) {
    console.error('publisher: CONNACK refused');
    process.exit(1);
  }
  process.send?.({ type: 'ready' });
});
socket.on('data', () => {
  /* nothing else comes back for QoS 0 */
});

/**
 * How many readings are due `elapsedMs` into the window: evenly spread, in 50 ms bursts, or by a
 * Poisson process (arrival times drawn ahead, exponential gaps of mean 1000 / rate ms).
 */
function dueCounter() {
  if (arrivals === 'paced') return (elapsedMs) => Math.floor((elapsedMs * rate) / 1000);
  if (arrivals === 'bursts')
    return (elapsedMs) => Math.floor((Math.floor(elapsedMs / BURST_MS) * BURST_MS * rate) / 1000);
  let count = 0;
  let nextAt = 0;
  const gap = () => (-Math.log(1 - Math.random()) * 1000) / rate;
  nextAt = gap();
  return (elapsedMs) => {
    while (nextAt <= elapsedMs) {
      count++;
      nextAt += gap();
    }
    return count;
  };
}

/** Per device, the last ts stamped. */
const lastTs = new Float64Array(devices);

function run() {
  const dueAt = dueCounter();
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  let skipped = 0;
  let maxLateMs = 0;
  let lastTick = t0;
  const tick = () => {
    const now = Date.now();
    if (now - lastTick > maxLateMs) maxLateMs = now - lastTick;
    lastTick = now;
    const until = Math.min(now, end);
    const due = dueAt(until - t0);
    if (due > sent) {
      if (socket.writableLength > MAX_BUFFERED) {
        // The broker stopped reading us: offered but never sent (bounded memory, counted).
        skipped += due - sent;
        sent = due;
      } else {
        const packets = [];
        for (; sent < due; sent++) {
          // A device's stamps strictly increase: two readings of one device in one tick (high
          // rates, a late tick) would otherwise share a ts and read as a duplicate to the load
          // clients (and to history, which keeps one point per device, metric and ts). At most a
          // few ms ahead at 30k/s over 100 devices, which reads as that much less latency.
          const i = sent % devices;
          const ts = (lastTs[i] = Math.max(now, lastTs[i] + 1));
          packets.push(publishPacket(i, ts, sent));
        }
        socket.write(packets.length === 1 ? packets[0] : Buffer.concat(packets));
      }
    }
    if (now >= end) {
      clearInterval(timer);
      // Report at the end of the window whether or not the broker has read everything yet
      // (an overloaded broker must not stall the benchmark), then DISCONNECT.
      process.send?.({
        type: 'done',
        published: sent,
        skipped,
        unflushedBytes: socket.writableLength,
        seconds: (Date.now() - t0) / 1000,
        maxLateMs,
      });
      socket.end(Buffer.from([0xe0, 0]));
      setTimeout(() => process.exit(0), 3000).unref();
      socket.on('close', () => process.exit(0));
    }
  };
  const timer = setInterval(tick, 1);
}

process.on('message', (msg) => {
  if (msg?.type === 'go') run();
});

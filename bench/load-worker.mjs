// Load-side worker (forked by run.mjs, several per scenario): many cheap raw clients.
//
// socket.io-client spends as much CPU decoding as the server spends encoding, so
// these clients speak the wire protocols by hand and only scan what they measure:
//  - sio-ws:      Engine.IO v4 / Socket.IO v5 over `ws` (open `0{..}`, ping `2` -> pong `3`,
//                 `40/live,` -> `40/live,{"sid":..}`, `42/live,1["subscribe",{..}]` -> `43/live,1[..]`)
//  - sio-polling: the same packets over Engine.IO long-polling with plain `http`
//                 (GET/POST /socket.io/?EIO=4&transport=polling&sid=.., packets joined by \x1e)
//  - mqtt-ws:     MQTT 3.1.1 over WebSocket (CONNECT, SUBSCRIBE QoS 0, PUBLISH parsed minimally)
// A `readings` frame is never JSON.parsed: every `"ts":<digits>` in it is one reading
// (latency = now - ts; the publisher stamps ts at publish time on the same clock).
//
// This file is the worker's control loop: it opens the clients (load/socket-io.mjs,
// load/mqtt-ws.mjs), turns measuring on and off, pauses and resumes the stallable ones, and
// reports over IPC. It must not parse any wire protocol itself.
//
// IPC in:  start {kind, url, token, count, subscribe, stallable, reconnect} | reset | stall {n}
//          | resume | snapshot {tag} | progress | storm | report
// IPC out: ready {ok, errors, firstError} | snapshot {...} | progress {...} | storm {...}
//          | report {...}
import { Histogram, histogramToSparse } from './lib/histogram.mjs';
import { mqttWebSocket } from './load/mqtt-ws.mjs';
import { sioPolling, sioWebSocket } from './load/socket-io.mjs';
import { Client, fail, tally } from './load/tally.mjs';

const clients = [];

/** How often the newest-value age of every healthy probe is sampled while measuring. */
const AGE_SAMPLE_MS = 250;
setInterval(() => {
  if (!tally.measuring) return;
  const now = Date.now();
  for (const c of clients)
    if (c.probe && !c.wasStalled && c.lastTs > 0 && !c.closed) tally.age.record(now - c.lastTs);
}, AGE_SAMPLE_MS).unref();

let clientKind = null;
async function start({
  kind,
  url,
  token,
  count,
  subscribe,
  stallable = 0,
  refillMaxPoints = 10000,
  concurrency = 64,
  probeEvery = 1,
  reconnect = false,
}) {
  clientKind = kind;
  let next = 0;
  const open = async () => {
    while (next < count) {
      const c = new Client(next, next < stallable);
      // Stallable clients are always probes (they need their newest ts to ask for a refill).
      c.probe = c.stallable || next % probeEvery === 0;
      c.refillMaxPoints = refillMaxPoints;
      c.reconnect = reconnect;
      c.token = token;
      next++;
      clients.push(c);
      const settled = new Promise((resolve) => (c.resolve = resolve));
      const timer = setTimeout(() => fail(c, new Error('no subscribe ack within 30 s')), 30000);
      if (kind === 'sio-ws') sioWebSocket(c, url, subscribe);
      else if (kind === 'sio-polling') sioPolling(c, url, subscribe);
      else if (kind === 'mqtt-ws') mqttWebSocket(c, url);
      else throw new Error(`unknown client kind ${kind}`);
      await settled;
      clearTimeout(timer);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, open));
  // Reconnected stalled clients: the plain subscribe on the new connection triggers the refill.
  process.send({ type: 'ready', ok: tally.ok, errors: tally.errors, firstError: tally.firstError });
}

/**
 * Readings per healthy client: exact for probes (and for MQTT, one reading per PUBLISH);
 * for other Socket.IO clients bytes of `readings` frames × readings per byte of this
 * worker's probes — exact when, as with a room broadcast, every client gets the same frames.
 */
function estimateReceived(list) {
  if (clientKind === 'mqtt-ws') return list.map((c) => c.received);
  const probes = list.filter((c) => c.probe);
  const bytes = probes.reduce((a, c) => a + c.bytes, 0);
  const perByte = bytes ? probes.reduce((a, c) => a + c.received, 0) / bytes : 0;
  return list.map((c) => (c.probe ? c.received : Math.round(c.bytes * perByte)));
}

function sumOrder(list, field) {
  const tracked = list.filter((c) => c.order?.parsed > 0);
  return tracked.length ? tracked.reduce((a, c) => a + c.order[field], 0) : null;
}

function report() {
  const healthyClients = clients.filter((c) => !c.wasStalled);
  const healthyLagged = healthyClients.filter((c) => c.lagged);
  const stalled = clients.filter((c) => c.wasStalled);
  return {
    type: 'report',
    clients: clients.length,
    ok: tally.ok,
    errors: tally.errors,
    firstError: tally.firstError,
    received: estimateReceived(healthyClients),
    // Probes only: readings a client got twice (not counted as received), or older than its
    // device's newest (counted); null when no frame's layout let the scan tell devices apart.
    duplicates: sumOrder(healthyClients, 'duplicates'),
    outOfOrder: sumOrder(healthyClients, 'outOfOrder'),
    probes: healthyClients.filter((c) => c.probe).length,
    closed: healthyClients.filter((c) => c.closed).length,
    latency: histogramToSparse(tally.healthy),
    age: histogramToSparse(tally.age),
    // Healthy clients told `lagged` (the gateway paused them): each one lost live readings.
    healthyLagged: healthyLagged.length,
    healthyLaggedSample: healthyLagged
      .slice(0, 3)
      .map((c) => ({ lagged: c.lagged, refill: c.refill, received: c.received })),
    stalled: stalled.map((c) => ({
      received: c.received,
      lagged: c.lagged,
      refill: c.refill,
      reconnected: c.reconnected,
    })),
    stalledLatency: histogramToSparse(tally.stalled),
  };
}

process.on('message', (msg) => {
  switch (msg?.type) {
    case 'start':
      start(msg).catch((err) =>
        process.send({
          type: 'ready',
          ok: tally.ok,
          errors: tally.errors + 1,
          firstError: String(err),
        }),
      );
      break;
    case 'reset':
      for (const c of clients) {
        c.received = 0;
        c.bytes = 0;
        // Readings of the warm-up are not counted (not scanned either): their age must not be.
        c.lastTs = 0;
      }
      tally.healthy = new Histogram();
      tally.stalled = new Histogram();
      tally.age = new Histogram();
      tally.measuring = true;
      break;
    case 'stall':
      for (const c of clients) {
        if (!c.stallable || !c.ws) continue;
        c.stalled = true;
        c.wasStalled = true;
        c.ws.pause();
      }
      break;
    case 'resume':
      for (const c of clients) {
        if (!c.stalled) continue;
        c.stalled = false;
        c.ws.resume();
      }
      break;
    case 'snapshot':
      process.send({
        type: 'snapshot',
        tag: msg.tag,
        latency: histogramToSparse(tally.healthy),
        age: histogramToSparse(tally.age),
        refills: clients.filter((c) => c.wasStalled && (c.refill || c.closed)).length,
      });
      tally.healthy = new Histogram();
      tally.age = new Histogram();
      break;
    case 'progress': {
      const stalled = clients.filter((c) => c.wasStalled);
      // Pending: told `lagged` (or reconnected) but the refill ack is not in yet.
      const healthyClients = clients.filter((c) => !c.wasStalled);
      process.send({
        type: 'progress',
        frames: tally.frames,
        received: estimateReceived(healthyClients).reduce((a, b) => a + b, 0),
        stalled: stalled.length,
        pending: stalled.filter((c) => (c.lagged || c.reconnected) && !c.refill).length,
      });
      break;
    }
    case 'storm': {
      // Reconnecting clients (`reconnect`): who lost the gateway, who is back and when.
      const lost = clients.filter((c) => c.lostAt !== undefined);
      const back = lost.filter((c) => c.backAt !== undefined);
      process.send({
        type: 'storm',
        clients: clients.length,
        lost: lost.length,
        back: back.map((c) => c.backAt),
        withHistory: back.filter((c) => c.backWithHistory).length,
        attempts: lost.reduce((a, c) => a + (c.attempt ?? 0), 0),
      });
      break;
    }
    case 'report':
      tally.measuring = false;
      process.send(report());
      for (const c of clients) {
        c.ending = true;
        try {
          c.ws?.terminate();
        } catch {
          /* closing anyway */
        }
      }
      setTimeout(() => process.exit(0), 200);
      break;
  }
});

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
// IPC in:  start {kind, url, count, subscribe, stallable} | reset | stall {n} | resume
//          | snapshot {tag} | report
// IPC out: ready {ok, errors, firstError} | snapshot {...} | report {...}
import http from 'node:http';
import { WebSocket } from 'ws';
import { Histogram, histogramToSparse, scanTs, lastScanTs } from './lib/histogram.mjs';

const READINGS = Buffer.from('42/live,["readings",');
const LAGGED = Buffer.from('42/live,["lagged",');
const MQTT_TOPIC = 'devices/+/telemetry';

let healthy = new Histogram();
let stalledHist = new Histogram();
let measuring = false;
/** Readings frames/packets seen, measuring or not (the orchestrator waits for it to go quiet). */
let frames = 0;
const clients = [];
let ok = 0;
let errors = 0;
let firstError = null;

function startsWith(buf, start, end, prefix) {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

function fail(c, err) {
  if (c.done) return;
  c.done = true;
  errors++;
  firstError ??= String(err?.message ?? err);
  c.resolve?.();
}

function subscribed(c) {
  if (c.done) return;
  c.done = true;
  ok++;
  c.resolve?.();
}

class Client {
  constructor(index, stallable) {
    this.index = index;
    this.stallable = stallable;
    this.received = 0;
    this.bytes = 0;
    this.probe = true;
    this.stalled = false;
    this.wasStalled = false;
    this.lastTs = 0;
    this.ackId = 1;
    this.pendingAcks = new Map();
    this.lagged = null;
    this.refill = null;
    this.closed = false;
    this.reconnected = false;
  }
}

// ---------------------------------------------------------------- Socket.IO packets

/** One Engine.IO packet (buf[start, end)) for client c; `send(str)` writes a packet back. */
function onSioPacket(c, buf, start, end) {
  const type = buf[start];
  if (type === 0x34 /* 4: socket.io message */) {
    const sub = buf[start + 1];
    if (sub === 0x32 /* 42 event */) {
      if (startsWith(buf, start, end, READINGS)) {
        frames++;
        if (!measuring) return;
        c.bytes += end - start;
        if (!c.probe) return; // identical broadcast frames: bytes tell delivery, probes tell latency
        const now = Date.now();
        const n = scanTs(
          buf,
          start + READINGS.length,
          end,
          now,
          c.wasStalled ? stalledHist : healthy,
        );
        c.received += n;
        if (n) c.lastTs = lastScanTs;
      } else if (startsWith(buf, start, end, LAGGED)) {
        const [, info] = JSON.parse(buf.toString('utf8', start + 8, end));
        c.lagged = { ...info, at: Date.now() };
        // As the dashboard does: refill from the newest reading held (the gateway's `since` is
        // when it stopped sending; readings still in its buffers then are older).
        resubscribe(c, c.lastTs || info.since);
      }
      return;
    }
    if (sub === 0x33 /* 43 ack */) {
      let i = start + 8; // after `43/live,`
      let id = 0;
      for (let ch = buf[i]; ch >= 48 && ch <= 57; ch = buf[++i]) id = id * 10 + (ch - 48);
      const onAck = c.pendingAcks.get(id);
      c.pendingAcks.delete(id);
      onAck?.(buf, i, end);
      return;
    }
    if (sub === 0x30 /* 40 connect */) {
      if (c.reconnectSince !== undefined) return resubscribe(c, c.reconnectSince);
      c.emit('subscribe', c.subscribe, (buf2, i, end2) => {
        const okAck = buf2.indexOf('"ok":true', i) !== -1 && buf2.indexOf('"ok":true', i) < end2;
        if (okAck) subscribed(c);
        else
          fail(
            c,
            new Error(`subscribe refused: ${buf2.toString('utf8', i, Math.min(end2, i + 200))}`),
          );
      });
      return;
    }
    if (sub === 0x34 /* 44 connect_error */) fail(c, new Error(buf.toString('utf8', start, end)));
    return;
  }
  if (type === 0x32 /* 2 ping */) c.send('3');
  else if (type === 0x30 /* 0 open */) c.send('40/live,');
}

/** After `lagged` (or a reconnect): subscribe again with `since` and check the history refills the gap. */
function resubscribe(c, since) {
  const request = { ...c.subscribe, history: true, since, maxPoints: c.refillMaxPoints };
  const asked = Date.now();
  c.emit('subscribe', request, (buf, i, end) => {
    let ack;
    try {
      ack = JSON.parse(buf.toString('utf8', i, end))[0];
    } catch (err) {
      c.refill = { ok: false, error: String(err) };
      return;
    }
    if (!ack?.ok) {
      c.refill = { ok: false, error: ack?.error ?? 'no ack' };
      return;
    }
    let points = 0;
    let covered = 0;
    for (const s of ack.history) {
      points += s.t.length;
      if (s.t.length && s.t[0] <= since + 1000) covered++;
    }
    c.refill = {
      ok: true,
      since,
      series: ack.history.length,
      covered,
      points,
      ms: Date.now() - asked,
    };
  });
}

function sioCommon(c, subscribe) {
  c.subscribe = subscribe;
  c.emit = (event, data, onAck) => {
    const id = c.ackId++;
    c.pendingAcks.set(id, onAck);
    c.send(`42/live,${id}${JSON.stringify([event, data])}`);
  };
}

// ---------------------------------------------------------------- transports

function sioWebSocket(c, url, subscribe) {
  sioCommon(c, subscribe);
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });
  c.ws = ws;
  c.send = (s) => ws.readyState === 1 && ws.send(s);
  ws.on('message', (data) => onSioPacket(c, data, 0, data.length));
  ws.on('error', (err) => fail(c, err));
  ws.on('close', () => onClosed(c, url, subscribe));
}

function onClosed(c, url, subscribe) {
  c.closed = true;
  if (!c.done) fail(c, new Error('closed before subscribe'));
  // A stalled client the server gave up on reconnects and refills from `since` = its newest reading.
  if (c.wasStalled && !c.stalled && !c.reconnected && !c.ending) {
    c.reconnected = true;
    c.closed = false;
    c.pendingAcks.clear();
    c.reconnectSince = c.lastTs;
    sioWebSocket(c, url, subscribe);
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function httpRequest(method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, agent, headers: body ? { 'content-type': 'text/plain;charset=UTF-8' } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(Buffer.concat(chunks))
            : reject(new Error(`${method} ${res.statusCode}: ${Buffer.concat(chunks)}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', reject);
    req.end(body);
  });
}

function sioPolling(c, url, subscribe) {
  sioCommon(c, subscribe);
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  let sid = null;
  const outbox = [];
  let posting = false;
  const flushPost = () => {
    if (posting || outbox.length === 0 || !sid) return;
    posting = true;
    const body = outbox.join('\x1e');
    outbox.length = 0;
    httpRequest('POST', `${base}&sid=${sid}`, body)
      .then(() => {
        posting = false;
        flushPost();
      })
      .catch((err) => {
        c.closed = true;
        fail(c, err);
      });
  };
  c.send = (s) => {
    outbox.push(s);
    flushPost();
  };
  const onBody = (buf) => {
    let start = 0;
    for (;;) {
      const sep = buf.indexOf(0x1e, start);
      const end = sep === -1 ? buf.length : sep;
      if (end > start) onSioPacket(c, buf, start, end);
      if (sep === -1) break;
      start = sep + 1;
    }
  };
  (async () => {
    const open = await httpRequest('GET', base);
    sid = JSON.parse(open.toString('utf8', 1)).sid;
    onBody(open.subarray(0, 1)); // "0" -> sends `40/live,`
    while (!c.closed && !c.ending) {
      const body = await httpRequest('GET', `${base}&sid=${sid}`);
      if (body.length === 1 && body[0] === 0x31 /* 1 close */) break;
      onBody(body);
    }
  })().catch((err) => {
    c.closed = true;
    if (!c.ending) fail(c, err);
  });
}

/** MQTT 3.1.1 over WebSocket: CONNECT (clean, keepalive 0), SUBSCRIBE devices/+/telemetry QoS 0. */
function mqttWebSocket(c, url) {
  const ws = new WebSocket(url, 'mqtt', { perMessageDeflate: false });
  c.ws = ws;
  let pending = null;
  ws.on('open', () => {
    const id = Buffer.from(`bench-${process.pid}-${c.index}`);
    const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0]);
    const rest = Buffer.concat([variable, Buffer.from([id.length >> 8, id.length & 255]), id]);
    ws.send(Buffer.concat([Buffer.from([0x10, rest.length]), rest]));
  });
  ws.on('message', (data) => {
    const buf = pending ? Buffer.concat([pending, data]) : data;
    pending = null;
    let pos = 0;
    while (pos + 2 <= buf.length) {
      const type = buf[pos] >> 4;
      let len = 0;
      let mul = 1;
      let i = pos + 1;
      let byte;
      do {
        if (i >= buf.length) break;
        byte = buf[i++];
        len += (byte & 127) * mul;
        mul *= 128;
      } while (byte & 128);
      if (byte & 128 || i + len > buf.length) break; // incomplete packet: wait for more
      const end = i + len;
      if (type === 3 /* PUBLISH */) {
        frames++;
        const qos = (buf[pos] >> 1) & 3;
        const topicLen = (buf[i] << 8) | buf[i + 1];
        const payload = i + 2 + topicLen + (qos ? 2 : 0);
        if (measuring) {
          c.bytes += end - payload;
          // One reading per PUBLISH from the bench publisher: non-probes just count packets.
          c.received += c.probe ? scanTs(buf, payload, end, Date.now(), healthy) : 1;
        }
      } else if (type === 2 /* CONNACK */) {
        const topic = Buffer.from(MQTT_TOPIC);
        const body = Buffer.concat([
          Buffer.from([0, 1, topic.length >> 8, topic.length & 255]),
          topic,
          Buffer.from([0]),
        ]);
        ws.send(Buffer.concat([Buffer.from([0x82, body.length]), body]));
      } else if (type === 9 /* SUBACK */) {
        if (buf[end - 1] === 0x80) fail(c, new Error('SUBACK refused'));
        else subscribed(c);
      }
      pos = end;
    }
    if (pos < buf.length) pending = Buffer.from(buf.subarray(pos));
  });
  ws.on('error', (err) => fail(c, err));
  ws.on('close', () => {
    c.closed = true;
    if (!c.done) fail(c, new Error('closed before SUBACK'));
  });
}

// ---------------------------------------------------------------- control

let clientKind = null;
async function start({
  kind,
  url,
  count,
  subscribe,
  stallable = 0,
  refillMaxPoints = 10000,
  concurrency = 64,
  probeEvery = 1,
}) {
  clientKind = kind;
  let next = 0;
  const open = async () => {
    while (next < count) {
      const c = new Client(next, next < stallable);
      // Stallable clients are always probes (they need their newest ts to ask for a refill).
      c.probe = c.stallable || next % probeEvery === 0;
      c.refillMaxPoints = refillMaxPoints;
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
  process.send({ type: 'ready', ok, errors, firstError });
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

function report() {
  const healthyClients = clients.filter((c) => !c.wasStalled);
  const healthyLagged = healthyClients.filter((c) => c.lagged);
  const stalled = clients.filter((c) => c.wasStalled);
  return {
    type: 'report',
    clients: clients.length,
    ok,
    errors,
    firstError,
    received: estimateReceived(healthyClients),
    probes: healthyClients.filter((c) => c.probe).length,
    closed: healthyClients.filter((c) => c.closed).length,
    latency: histogramToSparse(healthy),
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
    stalledLatency: histogramToSparse(stalledHist),
  };
}

process.on('message', (msg) => {
  switch (msg?.type) {
    case 'start':
      start(msg).catch((err) =>
        process.send({ type: 'ready', ok, errors: errors + 1, firstError: String(err) }),
      );
      break;
    case 'reset':
      for (const c of clients) {
        c.received = 0;
        c.bytes = 0;
      }
      healthy = new Histogram();
      stalledHist = new Histogram();
      measuring = true;
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
        latency: histogramToSparse(healthy),
        refills: clients.filter((c) => c.wasStalled && (c.refill || c.closed)).length,
      });
      healthy = new Histogram();
      break;
    case 'progress': {
      const stalled = clients.filter((c) => c.wasStalled);
      // Pending: told `lagged` (or reconnected) but the refill ack is not in yet.
      const healthyClients = clients.filter((c) => !c.wasStalled);
      process.send({
        type: 'progress',
        frames,
        received: estimateReceived(healthyClients).reduce((a, b) => a + b, 0),
        stalled: stalled.length,
        pending: stalled.filter((c) => (c.lagged || c.reconnected) && !c.refill).length,
      });
      break;
    }
    case 'report':
      measuring = false;
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

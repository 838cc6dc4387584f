// The Socket.IO clients of a load worker, spoken by hand: Engine.IO v4 / Socket.IO v5 packets
// over `ws` (sio-ws) and over long-polling with plain `http` (sio-polling), the subscribe and
// its ack, `lagged` and the refill it triggers, the reconnect of a stalled client. A `readings`
// frame is scanned, never parsed. Owns the wire protocol; must not decide when to measure or
// report (load-worker.mjs flips tally.measuring and reads the clients).
import http from 'node:http';
import { WebSocket } from 'ws';
import { lastScanTs, orderTracker, scanTs } from '../lib/histogram.mjs';
import { fail, subscribed, tally } from './tally.mjs';

const READINGS = Buffer.from('42/live,["readings",');
const LAGGED = Buffer.from('42/live,["lagged",');

function startsWith(buf, start, end, prefix) {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

/** One Engine.IO packet (buf[start, end)) for client c; `send(str)` writes a packet back. */
function onSioPacket(c, buf, start, end) {
  const type = buf[start];
  if (type === 0x34 /* 4: socket.io message */) {
    const sub = buf[start + 1];
    if (sub === 0x32 /* 42 event */) {
      if (startsWith(buf, start, end, READINGS)) {
        tally.frames++;
        if (!tally.measuring) return;
        c.bytes += end - start;
        if (!c.probe) return; // identical broadcast frames: bytes tell delivery, probes tell latency
        const now = Date.now();
        const n = scanTs(
          buf,
          start + READINGS.length,
          end,
          now,
          c.wasStalled ? tally.stalled : tally.healthy,
          (c.order ??= orderTracker()),
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
        if (okAck && c.lostAt !== undefined && c.backAt === undefined) {
          // Back after the gateway went away: when, and whether the ack carried history.
          c.backAt = Date.now();
          const history = buf2.indexOf('"history":[{', i);
          c.backWithHistory = history !== -1 && history < end2;
        }
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
  // The viewer's token goes in the Socket.IO handshake's `auth`, never in the URL.
  else if (type === 0x30 /* 0 open */)
    c.send(c.token ? `40/live,${JSON.stringify({ token: c.token })}` : '40/live,');
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
      // Plain `t`, or `dt` when asked with timeDeltas (its first entry is the first ts).
      const t = s.dt ?? s.t;
      points += t.length;
      if (t.length && t[0] <= since + 1000) covered++;
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

export function sioWebSocket(c, url, subscribe) {
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

/**
 * The dashboard's reconnect delay (protocol DEFAULT_BACKOFF: 1 s doubling to 10 s, each delay
 * drawn from 50–100 % of it), so a storm of these clients arrives as a storm of dashboards would.
 */
const backoffMs = (attempt) =>
  Math.min(10000, 1000 * 2 ** (attempt - 1)) * (0.5 + 0.5 * Math.random());

function onClosed(c, url, subscribe) {
  c.closed = true;
  if (!c.done) fail(c, new Error('closed before subscribe'));
  // A dashboard whose gateway went away: retry with its backoff until subscribed again.
  if (c.reconnect && c.done && !c.ending) {
    c.lostAt ??= Date.now();
    c.attempt = (c.attempt ?? 0) + 1;
    setTimeout(() => {
      if (c.ending) return;
      c.closed = false;
      c.pendingAcks.clear();
      sioWebSocket(c, url, subscribe);
    }, backoffMs(c.attempt));
    return;
  }
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

export function sioPolling(c, url, subscribe) {
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

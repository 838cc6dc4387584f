// The servers a scenario measures and the brokers they hang off: Mosquitto (TCP + WebSocket
// listeners), a standalone Aedes, Pulse as built (dist/backend/main.js), the naive and per-room
// batched relays; and Pulse's /api/stats counters over a window. Owns how each is started and
// addressed; must not drive load or decide pass/fail (load.mjs and the scenarios do).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { forkQuiet, once, root, track } from './procs.mjs';
import { freePort, sleep, waitFor } from './util.mjs';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => fs.existsSync(p));
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) =>
  fs.existsSync(p),
);

/** The simulated fleet every scenario publishes: device ids `bench-001` … `bench-100`. */
export const DEVICES = 100;
export const PREFIX = 'bench';
export const DEVICE_IDS = Array.from(
  { length: DEVICES },
  (_, i) => `${PREFIX}-${String(i + 1).padStart(3, '0')}`,
);

/** Mosquitto with a TCP listener (publisher, gateways, tap) and a WebSocket listener (the MQTT-over-WS peer). */
export async function startMosquitto() {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed: apt-get install -y mosquitto');
  const port = await freePort();
  const wsPort = await freePort();
  const conf = path.join(os.tmpdir(), `pulse-bench-mosquitto-${process.pid}-${port}.conf`);
  fs.writeFileSync(
    conf,
    [
      // Nagle off (mosquitto >= 2.0): without it small MQTT-over-WS frames wait for ACKs and the
      // peer's latency rows measure TCP's delayed-ACK timer instead of Mosquitto.
      'set_tcp_nodelay true',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `listener ${wsPort} 127.0.0.1`,
      'protocol websockets',
      'max_queued_messages 1000000',
      '',
    ].join('\n'),
  );
  const child = track(spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' }));
  child.once('exit', () => fs.rmSync(conf, { force: true }));
  await waitFor(() => canConnect(port), { what: 'mosquitto' });
  return {
    kind: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    child,
  };
}

/**
 * Debian's redis-server on a free loopback port for the scale-out rows: no persistence (readings
 * frames and room interest are pub/sub only), its own throwaway folder, no password (loopback,
 * nothing else listens; the gateways' Redis password path is scale-out.spec's to test).
 */
export async function startRedis() {
  if (!REDIS_SERVER)
    throw new Error('redis-server is not installed: apt-get install -y redis-server');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulse-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = track(spawn(REDIS_SERVER, [...args, '--dir', dir], { stdio: 'ignore', cwd: dir }));
  child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  await waitFor(() => canConnect(port), { what: 'redis-server' });
  return { kind: 'redis', url: `redis://127.0.0.1:${port}`, child };
}

export async function startAedes() {
  const port = await freePort();
  const child = forkQuiet('aedes-broker.mjs', [String(port)]);
  await once(child, 'ready');
  return { kind: 'aedes', url: `mqtt://127.0.0.1:${port}`, child };
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function getJson(url, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

async function sendJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/**
 * A viewer's bearer token on a Pulse started with auth on: the admin (seeded from a password
 * file) creates a `bench-viewer` user, who signs in and asks for a token — the path a script
 * watching Pulse takes. The password and the token stay in this process's memory and the
 * password file (mode 600), never in an argument or a URL.
 */
async function viewerToken(url, adminPassword) {
  const login = async (username, password) => {
    const res = await sendJson(`${url}/api/auth/login`, { username, password });
    return res.headers.get('set-cookie').split(';')[0];
  };
  const admin = await login('admin', adminPassword);
  const viewerPassword = crypto.randomBytes(18).toString('base64url');
  await sendJson(
    `${url}/api/users`,
    { username: 'bench-viewer', password: viewerPassword, role: 'viewer' },
    { cookie: admin },
  );
  const viewer = await login('bench-viewer', viewerPassword);
  const res = await sendJson(`${url}/api/auth/tokens`, { name: 'bench' }, { cookie: viewer });
  return (await res.json()).token;
}

/**
 * `node dist/backend/main.js` with `env`, logging to `log` (appended: a restart keeps the first
 * life's lines), resolved once `/api/health` answers and (read with `token`; null: not yet
 * checked) the broker is connected.
 */
async function spawnPulse(env, url, log, token) {
  const fd = fs.openSync(log, 'a');
  // PULSE_NODE_ARGS: extra node flags for the gateway, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = (process.env.PULSE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = track(
    spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/backend/main.js')], {
      env,
      stdio: ['ignore', fd, fd],
    }),
  );
  fs.closeSync(fd);
  try {
    await waitFor(async () => (await fetch(`${url}/api/health`)).ok, {
      what: 'pulse /api/health',
      timeoutMs: 20000,
    });
    // Without a token yet (the first start with auth on makes one next): health is enough.
    if (token !== null)
      await waitFor(async () => (await getJson(`${url}/api/stats`, token)).broker?.connected, {
        what: 'pulse broker connection',
      });
  } catch (err) {
    throw new Error(
      `${err.message}\n--- pulse log ---\n${fs.readFileSync(log, 'utf8').slice(-2000)}`,
    );
  }
  return child;
}

/**
 * Pulse killed (SIGKILL: a crash, nothing flushed) and started again on the same port, broker and
 * DATA_DIR (users and tokens survive). Resolves when the new process serves; `target.child` is it.
 */
export async function restartPulse(target) {
  const exited = new Promise((resolve) => target.child.once('exit', resolve));
  target.child.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();
  target.child = await spawnPulse(target.env, target.url, target.log, target.token);
  return { killedAt, servingAt: Date.now() };
}

/**
 * Pulse as built: `node dist/backend/main.js` with `ctx.flushMs` as FLUSH_MS. broker null =
 * embedded Aedes on a free MQTT port. With `ctx.auth` (the default; `--anonymous` turns it
 * off) anonymous viewing is off and every load client presents a viewer's token at its
 * handshake, as a deployment on a real network runs. `ctx.env`: a scenario's further variables
 * (the ingest row of the `json` format sets INGEST_SOURCES_FILE; history.mjs a DATA_DIR it fills
 * and starts again on).
 */
export async function startPulse(broker, ctx) {
  const { flushMs, auth } = ctx;
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulse-bench-data-'));
  const adminPassword = crypto.randomBytes(18).toString('base64url');
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    SIMULATOR: 'off',
    LOG_LEVEL: 'warn',
    FLUSH_MS: String(flushMs),
    // Users and tokens in a throwaway store, not ./data of the working directory.
    DATA_DIR: dataDir,
    ANONYMOUS_ROLE: auth ? 'none' : 'viewer',
    ...ctx.env,
  };
  delete env.PULSE_ADMIN_PASSWORD;
  if (auth) {
    env.PULSE_ADMIN_PASSWORD_FILE = path.join(dataDir, 'admin-password');
    fs.writeFileSync(env.PULSE_ADMIN_PASSWORD_FILE, adminPassword, { mode: 0o600 });
  }
  let mqttUrl;
  if (broker) env.MQTT_URL = mqttUrl = broker.url;
  else {
    delete env.MQTT_URL;
    const mqttPort = await freePort();
    env.MQTT_PORT = String(mqttPort);
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  }
  const log = path.join(os.tmpdir(), `pulse-bench-${process.pid}-${port}.log`);
  const url = `http://127.0.0.1:${port}`;
  const child = await spawnPulse(env, url, log, null);
  const token = auth ? await viewerToken(url, adminPassword) : undefined;
  await waitFor(async () => (await getJson(`${url}/api/stats`, token)).broker.connected, {
    what: 'pulse broker connection',
  });
  const builtAt = fs.statSync(path.join(root, 'dist/backend/main.js')).mtime.toISOString();
  return {
    name: 'pulse',
    url,
    child,
    mqttUrl,
    log,
    builtAt,
    token,
    env,
    // Like a dashboard: the fleet with its recent history in the ack, as many points as a
    // sparkline draws (the overview asks 60), timestamps as differences (decision 0048).
    subscribe: { fleet: true, maxPoints: 60, timeDeltas: true },
  };
}

async function startRelay(name, file, broker) {
  const port = await freePort();
  const child = forkQuiet(file, [broker.url, String(port)]);
  await once(child, 'ready');
  await sleep(300); // let its MQTT subscription settle
  const subscribe = name === 'batched' ? { devices: DEVICE_IDS } : { fleet: true, history: false };
  return { name, url: `http://127.0.0.1:${port}`, child, subscribe };
}

/** One of the four targets (pulse, naive, batched, mosquitto) on `broker` (null: Pulse's embedded one). */
export async function startTarget(name, broker, ctx) {
  if (name === 'pulse') return startPulse(broker, ctx);
  if (name === 'naive') return startRelay('naive', 'naive-relay.mjs', broker);
  if (name === 'batched') return startRelay('batched', 'batched-relay.mjs', broker);
  if (name === 'mosquitto')
    return { name: 'mosquitto', url: broker.wsUrl, child: broker.child, sameAsBroker: true };
  throw new Error(`unknown target ${name}`);
}

/** Pulse's /api/stats, or null for a peer (or when it does not answer). */
export async function pulseStats(target) {
  if (target?.name !== 'pulse') return null;
  try {
    return await getJson(`${target.url}/api/stats`, target.token);
  } catch {
    return null;
  }
}

/** Pulse's counters over a window: the difference of two /api/stats snapshots. */
export function pulseDelta(a, b) {
  if (!a || !b) return null;
  return {
    accepted: b.readings.accepted - a.readings.accepted,
    rejected: b.readings.rejected - a.readings.rejected,
    emits: b.live.emits - a.live.emits,
    droppedOverflow: b.live.droppedOverflow - a.live.droppedOverflow,
    lagPauses: b.live.lagPauses - a.live.lagPauses,
    lagDisconnects: b.live.lagDisconnects - a.live.lagDisconnects,
    ackDisconnects: (b.live.ackDisconnects ?? 0) - (a.live.ackDisconnects ?? 0),
    throttled: (b.live.conflation?.entered ?? 0) - (a.live.conflation?.entered ?? 0),
    overloadRaises: (b.live.gatewayLoad?.raised ?? 0) - (a.live.gatewayLoad?.raised ?? 0),
    // Throttled before the window opened (a connection storm in the warm-up) and still at it: the
    // delta above misses them, yet each gets merged readings, so fewer than were published.
    throttledAtStart: a.live.conflation?.throttled ?? 0,
    floorMsAtStart: a.live.conflation?.floorMs ?? 0,
    floorProbes: (b.live.gatewayLoad?.probes ?? 0) - (a.live.gatewayLoad?.probes ?? 0),
    directWrites: (b.live.directWrites ?? 0) - (a.live.directWrites ?? 0),
    engineWrites: (b.live.engineWrites ?? 0) - (a.live.engineWrites ?? 0),
    // The durable history store behind the same window (issue 13: the full pipeline's writes).
    historyWritten: (b.history?.store?.written ?? 0) - (a.history?.store?.written ?? 0),
    historyQueued: b.history?.store?.queued ?? null,
    historyAcksWithheld:
      (b.history?.store?.acksWithheld ?? 0) - (a.history?.store?.acksWithheld ?? 0),
    historyDropped:
      (b.history?.store?.dropped?.queueFull ?? 0) +
      (b.history?.store?.dropped?.writeFailed ?? 0) -
      (a.history?.store?.dropped?.queueFull ?? 0) -
      (a.history?.store?.dropped?.writeFailed ?? 0),
    disconnects: Object.fromEntries(
      Object.entries(b.live.disconnects ?? {})
        .map(([k, v]) => [k, v - (a.live.disconnects?.[k] ?? 0)])
        .filter(([, v]) => v > 0),
    ),
  };
}

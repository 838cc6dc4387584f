#!/usr/bin/env node
// `npm run bench` — Pulse side by side with its peers (a naive relay, a per-room batched
// relay and Mosquitto's own MQTT-over-WebSocket fan-out), same load, same run, one table,
// the issue's targets checked PASS/FAIL, JSON under bench/results/.
//
//   node bench/run.mjs                       full run (~12 min on 2 cores)
//   node bench/run.mjs --quick               CI smoke (< 60 s, reduced sizes; targets are indicative)
//   node bench/run.mjs --only fanout-1000    one scenario (comma-separated list allowed)
//   node bench/run.mjs --targets pulse,naive only these targets (pulse, naive, batched, mosquitto)
//   node bench/run.mjs --list                scenarios and what they check
//   options: --flush-ms 50 (Pulse FLUSH_MS), --strict (exit 1 when a target fails),
//            --tap (an extra mqtt.js subscriber cross-checks what the broker carried; costs CPU)
//
// Every process is a child on loopback; every phase has a timeout; every scenario stops by
// itself. Design notes: docs/decisions/0007-benchmark-harness.md.
import { spawn, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, procStats, machineStats, sleep, waitFor, histogramFromSparse } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => fs.existsSync(p));
const DEVICES = 100;
const PREFIX = 'bench';
const DEVICE_IDS = Array.from(
  { length: DEVICES },
  (_, i) => `${PREFIX}-${String(i + 1).padStart(3, '0')}`,
);
/** A target whose RSS passes this is killed (a collapsing peer must not take the machine down). */
const RSS_LIMIT = 3 * 1024 ** 3;

// ------------------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = {
    quick: false,
    only: null,
    targets: null,
    flushMs: 100,
    strict: false,
    list: false,
    tap: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--strict') opts.strict = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--tap') opts.tap = true;
    else if (a === '--only') opts.only = value().split(',');
    else if (a === '--targets') opts.targets = value().split(',');
    else if (a === '--flush-ms') opts.flushMs = Number(value());
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown option ${a}`);
  }
  return opts;
}

function usage(error) {
  if (error) console.error(`bench: ${error}\n`);
  console.error(
    'usage: node bench/run.mjs [--quick] [--only id[,id]] [--targets pulse,naive,batched,mosquitto] [--flush-ms 50] [--strict] [--tap] [--list]',
  );
  process.exit(error ? 2 : 0);
}

const opts = parseArgs(process.argv.slice(2));
const Q = opts.quick;
/** Seconds of warm-up traffic before every measured fixed-rate window (not counted). */
const WARMUP_S = Q ? 0.5 : 2;

// ------------------------------------------------------------------------- scenarios
// `quick` overrides shrink a scenario for the CI smoke; the checklist marks quick figures as such.

const ALL = ['pulse', 'naive', 'batched', 'mosquitto'];
const SCENARIOS = [
  {
    id: 'fanout-1000',
    kind: 'rate',
    target: 1,
    clients: 1000,
    rate: 1000,
    seconds: 15,
    targets: ALL,
    what: '1,000 websocket clients, whole fleet, 1k readings/s: 100% delivered, p99 <= FLUSH_MS + 30 ms, gateway <= 30% of a core',
    quick: { clients: 200, seconds: 2, targets: ['pulse', 'naive'] },
  },
  {
    id: 'rate-20k',
    kind: 'rate',
    target: 2,
    clients: 100,
    rate: 20000,
    seconds: 10,
    targets: ALL,
    what: '100 clients, 20k readings/s: 100% delivered, p99 < 250 ms',
    quick: { clients: 20, rate: 5000, seconds: 2, targets: ['pulse'] },
  },
  {
    id: 'fanout-100',
    kind: 'rate',
    target: 3,
    clients: 100,
    rate: 1000,
    seconds: 10,
    targets: ALL,
    what: '100 clients, 1k readings/s: Pulse CPU <= 1/2 of Mosquitto MQTT-over-WebSocket CPU for the same fan-out',
    quick: { clients: 50, seconds: 2, targets: ['pulse', 'mosquitto'] },
  },
  {
    id: 'light-100',
    kind: 'rate',
    target: 4,
    clients: 100,
    rate: 100,
    seconds: 10,
    targets: ALL,
    what: '100 clients, 100 readings/s: p99 <= 10 ms (idle gateway sends at once)',
    quick: { seconds: 2, targets: ['pulse'] },
  },
  {
    id: 'ingest',
    kind: 'ingest',
    target: 5,
    clients: 10,
    seconds: 8,
    what: 'ingest with 10 clients: lossless at >= 70% of raw Mosquitto->mqtt.js drain and >= 90% of raw Aedes drain (embedded)',
    quick: { seconds: 2, embedded: false },
  },
  {
    id: 'polling-500',
    kind: 'rate',
    target: 6,
    transport: 'polling',
    clients: 500,
    rate: 1000,
    seconds: 15,
    targets: ['pulse', 'naive', 'batched'],
    what: '500 long-polling clients, 1k readings/s: 100% delivered, p99 < 250 ms',
    quick: { clients: 50, seconds: 2, targets: ['pulse'] },
  },
  {
    id: 'idle-10k',
    kind: 'idle',
    target: 7,
    clients: 10000,
    targets: ['pulse', 'naive', 'mosquitto'],
    what: '10,000 idle websocket connections: <= 12 KB RSS each',
    quick: { clients: 1000, targets: ['pulse'] },
  },
  {
    id: 'stall',
    kind: 'stall',
    target: 7,
    clients: 1000,
    rate: 10000,
    stallFraction: 0.1,
    baseline: 15,
    stall: 60,
    after: 15,
    targets: ['pulse'],
    // Warm-up long enough for history to reach its cap (HISTORY_MAX_POINTS 7,200 points per
    // series at 100 points/s), as on a gateway that has been running: the RSS growth measured
    // over the stall is then the stall's, not history filling up.
    warmup: 80,
    what: '1,000 clients at 10k readings/s, 10% stalled 60 s: RSS grows < 50 MB, healthy p99 unchanged, stalled told `lagged` and refilled',
    quick: { clients: 50, rate: 5000, baseline: 2, stall: 4, after: 2, warmup: 0.5 },
  },
].map((s) => (Q ? { ...s, ...s.quick, fullTargets: s.targets } : { ...s, fullTargets: s.targets }));

if (opts.list) {
  for (const s of SCENARIOS) console.log(`${s.id.padEnd(12)} target ${s.target}  ${s.what}`);
  process.exit(0);
}
if (opts.only) {
  const unknown = opts.only.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length) usage(`unknown scenario ${unknown.join(', ')} (see --list)`);
}
const selected = SCENARIOS.filter((s) => !opts.only || opts.only.includes(s.id));

// ------------------------------------------------------------------------- processes

const children = new Set();
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function killAll() {
  for (const c of children) c.kill('SIGKILL');
}
process.on('exit', killAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function once(child, type, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `no '${type}' from ${child.spawnargs?.slice(1, 2).join(' ')} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const onMessage = (msg) => {
      if (msg?.type !== type) return;
      cleanup();
      resolve(msg);
    };
    const onExit = (code) => {
      cleanup();
      reject(
        new Error(
          `${path.basename(child.spawnargs?.[1] ?? 'child')} exited (${code}) before '${type}'`,
        ),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const forkQuiet = (file, args = []) =>
  track(fork(path.join(here, file), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));

function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 2000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Mosquitto with a TCP listener (publisher, gateways, tap) and a WebSocket listener (the MQTT-over-WS peer). */
async function startMosquitto() {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed: apt-get install -y mosquitto');
  const port = await freePort();
  const wsPort = await freePort();
  const conf = path.join(os.tmpdir(), `pulse-bench-mosquitto-${process.pid}-${port}.conf`);
  fs.writeFileSync(
    conf,
    [
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

async function startAedes() {
  const port = await freePort();
  const child = forkQuiet('aedes-broker.mjs', [String(port)]);
  await once(child, 'ready');
  return { kind: 'aedes', url: `mqtt://127.0.0.1:${port}`, child };
}

function canConnect(port) {
  return new Promise((resolve) => {
    import('node:net').then(({ default: net }) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  });
}

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** Pulse as built: `node dist/backend/main.js`. broker null = embedded Aedes on a free MQTT port. */
async function startPulse(broker) {
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    SIMULATOR: 'off',
    LOG_LEVEL: 'warn',
    FLUSH_MS: String(opts.flushMs),
  };
  let mqttUrl;
  if (broker) env.MQTT_URL = mqttUrl = broker.url;
  else {
    delete env.MQTT_URL;
    const mqttPort = await freePort();
    env.MQTT_PORT = String(mqttPort);
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  }
  const log = path.join(os.tmpdir(), `pulse-bench-${process.pid}-${port}.log`);
  const fd = fs.openSync(log, 'w');
  // PULSE_NODE_ARGS: extra node flags for the gateway, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = (process.env.PULSE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = track(
    spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/backend/main.js')], {
      env,
      stdio: ['ignore', fd, fd],
    }),
  );
  fs.closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${url}/api/health`)).ok, {
      what: 'pulse /api/health',
      timeoutMs: 20000,
    });
    await waitFor(async () => (await getJson(`${url}/api/stats`)).broker.connected, {
      what: 'pulse broker connection',
    });
  } catch (err) {
    throw new Error(
      `${err.message}\n--- pulse log ---\n${fs.readFileSync(log, 'utf8').slice(-2000)}`,
    );
  }
  const builtAt = fs.statSync(path.join(root, 'dist/backend/main.js')).mtime.toISOString();
  return {
    name: 'pulse',
    url,
    child,
    mqttUrl,
    log,
    builtAt,
    subscribe: { fleet: true, history: false },
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

async function startTarget(name, broker) {
  if (name === 'pulse') return startPulse(broker);
  if (name === 'naive') return startRelay('naive', 'naive-relay.mjs', broker);
  if (name === 'batched') return startRelay('batched', 'batched-relay.mjs', broker);
  if (name === 'mosquitto')
    return { name: 'mosquitto', url: broker.wsUrl, child: broker.child, sameAsBroker: true };
  throw new Error(`unknown target ${name}`);
}

function clientKind(target, transport) {
  if (target.name === 'mosquitto') return 'mqtt-ws';
  return transport === 'polling' ? 'sio-polling' : 'sio-ws';
}

/**
 * Clients spread over 1–4 forked load workers (2 cores: more would only fight the server).
 * Stallable clients get a worker of their own: when they resume they read MBs of backlog and a
 * refill each, and healthy clients sharing that process would be delayed by it — a load
 * generator artefact (in real life each client has its own machine).
 */
async function startLoad(target, { clients, transport, stallFraction = 0, refillMaxPoints }) {
  const stalled = Math.round(clients * stallFraction);
  const healthy = clients - stalled;
  const n = healthy >= 1000 ? 4 : healthy >= 200 ? 2 : 1;
  const plan = [];
  for (let w = 0; w < n; w++)
    plan.push({ count: Math.floor(healthy / n) + (w < healthy % n ? 1 : 0), stallable: 0 });
  if (stalled > 0) plan.push({ count: stalled, stallable: stalled });
  const workers = [];
  for (const { count, stallable } of plan) {
    const worker = forkQuiet('load-worker.mjs');
    // Load runs at nice 10 (the stalled clients' worker at 15): when the 2 cores are short, the
    // server under test gets them first and the load side shows up as saturated instead of
    // starving the server.
    try {
      os.setPriority(worker.pid, stallable ? 15 : 10);
    } catch {
      /* not permitted: run at normal priority */
    }
    // Latency probes: every client up to 200 clients, else 1 in 10 (spread over the join order).
    const probeEvery = clients > 200 ? 10 : 1;
    worker.send({
      type: 'start',
      kind: clientKind(target, transport),
      url: target.url,
      count,
      subscribe: target.subscribe,
      stallable,
      refillMaxPoints,
      probeEvery,
    });
    workers.push(worker);
  }
  const ready = await Promise.all(workers.map((w) => once(w, 'ready', 180000)));
  const ok = ready.reduce((a, r) => a + r.ok, 0);
  const errors = ready.reduce((a, r) => a + r.errors, 0);
  if (errors)
    console.error(
      `  ${errors} of ${clients} client(s) failed to connect/subscribe: ${ready.find((r) => r.firstError)?.firstError}`,
    );
  return { workers, ok, errors, firstError: ready.find((r) => r.firstError)?.firstError ?? null };
}

const broadcast = (workers, msg) => workers.forEach((w) => w.send(msg));

/**
 * Waits until the load workers have seen no new readings frame for 1 s (quick 0.4 s) (or, given
 * `expected`, until their healthy clients hold that many readings), at most `maxMs`.
 */
async function quiet(workers, maxMs, expected = Infinity) {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const p = await gather(workers, 'progress');
    const frames = p.reduce((a, x) => a + x.frames, 0);
    if (p.reduce((a, x) => a + x.received, 0) >= expected) return;
    if (frames !== last) {
      last = frames;
      since = Date.now();
    } else if (Date.now() - since >= (Q ? 400 : 1000)) return;
    await sleep(200);
  }
}
async function gather(workers, type, msg = { type }) {
  const replies = Promise.all(workers.map((w) => once(w, type, 60000)));
  broadcast(workers, msg);
  return replies;
}

/** CPU seconds / RSS of each role, plus the machine's busy jiffies, at one instant. */
function sample(procs) {
  const out = { t: Date.now(), machine: machineStats() };
  for (const [role, list] of Object.entries(procs)) {
    const pids = (Array.isArray(list) ? list : [list]).filter(Boolean).map((c) => c.pid);
    const stats = pids.map(procStats);
    out[role] = {
      cpu: stats.reduce((a, s) => a + s.cpu, 0),
      rss: stats.reduce((a, s) => a + s.rss, 0),
    };
  }
  return out;
}

function usage2(before, after) {
  const secs = (after.t - before.t) / 1000;
  const out = { seconds: secs };
  for (const role of Object.keys(before)) {
    if (role === 't' || role === 'machine') continue;
    out[role] = {
      cpuPct: (100 * (after[role].cpu - before[role].cpu)) / secs,
      rssMb: after[role].rss / 1048576,
    };
  }
  const dt = after.machine.total - before.machine.total;
  out.machineBusyPct = dt ? (100 * (after.machine.busy - before.machine.busy)) / dt : null;
  // CPU used by processes outside this benchmark (other jobs on a shared machine): a noise warning.
  const ours = Object.values(out).reduce((a, v) => a + (v?.cpuPct ?? 0), 0);
  out.foreignCpuPct =
    out.machineBusyPct === null ? null : Math.max(0, out.machineBusyPct * os.cpus().length - ours);
  return out;
}

/** Samples RSS peaks every 500 ms and kills a target that passes RSS_LIMIT. */
function watch(target, procs) {
  const peaks = {};
  let killed = null;
  const timer = setInterval(() => {
    for (const [role, child] of Object.entries(procs)) {
      if (!child) continue;
      const { rss } = procStats(child.pid);
      peaks[role] = Math.max(peaks[role] ?? 0, rss);
      if (role === 'server' && rss > RSS_LIMIT && !killed) {
        killed = `killed: RSS ${Math.round(rss / 1048576)} MB > ${RSS_LIMIT / 1048576} MB`;
        console.error(`  ${target.name} ${killed}`);
        child.kill('SIGKILL');
      }
    }
  }, 500);
  return {
    stop: () => clearInterval(timer),
    peaks: () => Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, v / 1048576])),
    killed: () => killed,
  };
}

async function pulseStats(target) {
  if (target?.name !== 'pulse') return null;
  try {
    return await getJson(`${target.url}/api/stats`);
  } catch {
    return null;
  }
}

function pulseDelta(a, b) {
  if (!a || !b) return null;
  return {
    accepted: b.readings.accepted - a.readings.accepted,
    rejected: b.readings.rejected - a.readings.rejected,
    emits: b.live.emits - a.live.emits,
    droppedOverflow: b.live.droppedOverflow - a.live.droppedOverflow,
    lagPauses: b.live.lagPauses - a.live.lagPauses,
    lagDisconnects: b.live.lagDisconnects - a.live.lagDisconnects,
    directWrites: (b.live.directWrites ?? 0) - (a.live.directWrites ?? 0),
    engineWrites: (b.live.engineWrites ?? 0) - (a.live.engineWrites ?? 0),
    disconnects: Object.fromEntries(
      Object.entries(b.live.disconnects ?? {})
        .map(([k, v]) => [k, v - (a.live.disconnects?.[k] ?? 0)])
        .filter(([, v]) => v > 0),
    ),
  };
}

function latencyOf(sparseList) {
  return histogramFromSparse(sparseList).toJSON();
}

// ------------------------------------------------------------------------- scenario runners

/**
 * Fixed-rate fan-out: publisher -> broker -> target -> clients. Delivered % is
 * readings received by all clients / (tap count × clients requested).
 */
async function runRate(
  s,
  targetName,
  { broker: brokerKind = 'mosquitto', rate = s.rate, label } = {},
) {
  const broker = brokerKind === 'embedded' ? null : await startMosquitto();
  const target = await startTarget(targetName, broker);
  const brokerChild = broker?.child ?? null;
  const load = await startLoad(target, {
    clients: s.clients,
    transport: s.transport,
    stallFraction: s.stallFraction,
    refillMaxPoints: s.stall ? REFILL_MAX_POINTS : undefined,
  });
  const mqttUrl = broker ? broker.url : target.mqttUrl;
  const tap = broker && opts.tap ? forkQuiet('drain.mjs', [mqttUrl, 'count']) : null;
  if (tap) await once(tap, 'ready');
  // Warm-up at the same rate (JIT, first-seen devices, socket buffers), then a quiet gap so
  // nothing from it is in flight when the counters are reset for the measured window.
  const warmupS = s.warmup ?? WARMUP_S;
  const warm = forkQuiet('publisher.mjs', [
    mqttUrl,
    String(DEVICES),
    String(rate),
    String(warmupS),
    PREFIX,
  ]);
  await once(warm, 'ready');
  const warmDone = once(warm, 'done', (warmupS + 30) * 1000);
  warm.send({ type: 'go' });
  await warmDone;
  await quiet(load.workers, Q ? 3000 : 10000);
  const seconds = s.kind === 'stall' ? s.baseline + s.stall + s.after : s.seconds;
  const publisher = forkQuiet('publisher.mjs', [
    mqttUrl,
    String(DEVICES),
    String(rate),
    String(seconds),
    PREFIX,
  ]);
  await once(publisher, 'ready');
  await sleep(300);
  const procs = {
    server: target.child,
    broker: target.sameAsBroker ? null : brokerChild,
    load: load.workers,
    publisher,
    tap,
  };
  const statsBefore = await pulseStats(target);
  const tapBefore = tap ? (await gather([tap], 'count'))[0] : null;
  broadcast(load.workers, { type: 'reset' });
  const before = sample(procs);
  const watcher = watch(target, { server: target.child });
  const done = once(publisher, 'done', (seconds + 30) * 1000);
  publisher.send({ type: 'go' });
  const phases = {};
  if (s.kind === 'stall') {
    await sleep(s.baseline * 1000);
    phases.baseline = {
      snapshot: await gather(load.workers, 'snapshot', { type: 'snapshot', tag: 'baseline' }),
      rss: procStats(target.child.pid).rss,
    };
    broadcast(load.workers, { type: 'stall' });
    const stallWatch = watch(target, { server: target.child });
    await sleep(s.stall * 1000);
    stallWatch.stop();
    phases.stall = {
      snapshot: await gather(load.workers, 'snapshot', { type: 'snapshot', tag: 'stall' }),
      rss: procStats(target.child.pid).rss,
      peakRssMb: stallWatch.peaks().server,
    };
    broadcast(load.workers, { type: 'resume' });
  }
  const pub = await done;
  const pubEndedAt = Date.now();
  const after = sample(procs);
  if (s.kind === 'stall') {
    // Give the stalled clients' refills (lagged -> subscribe with since -> ack) up to 20 s more.
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      const p = await gather(load.workers, 'progress');
      if (p.every((x) => x.pending === 0)) break;
      await sleep(500);
    }
  }
  // Drain: wait until every reading is in, or nothing has arrived for 1 s (at most 10 s, quick 3 s).
  // What never arrives is lost; what arrives late shows in the latency figures.
  const drainStart = Date.now();
  const expectedAll =
    pub.published *
    (s.clients - (s.kind === 'stall' ? Math.round(s.clients * s.stallFraction) : 0));
  await quiet(load.workers, Q ? 3000 : 10000, expectedAll);
  const drainMs = Date.now() - drainStart;
  const afterDrain = sample(procs);
  watcher.stop();
  const statsAfter = await pulseStats(target);
  const tapAfter = tap ? (await gather([tap], 'count'))[0] : null;
  const tapCount = tap ? { readings: tapAfter.readings - tapBefore.readings } : null;
  const reports = await gather(load.workers, 'report');
  // Denominator: what the publisher wrote (exact). The tap (a subscriber of the same broker)
  // cross-checks that the broker carried it; an overloaded broker delays the tap too.
  const published = pub.published;
  const received = reports.flatMap((r) => r.received);
  const expected = published * (s.clients - reports.reduce((a, r) => a + r.stalled.length, 0));
  const sum = received.reduce((a, b) => a + b, 0);
  const row = {
    scenario: s.id,
    label: label ?? s.id,
    target: targetName,
    broker: broker ? broker.kind : 'embedded aedes',
    transport: s.transport ?? 'websocket',
    clients: s.clients,
    clientsConnected: load.ok,
    connectErrors: load.errors,
    firstError: load.firstError,
    rateAsked: rate,
    published: pub.published,
    tapped: tapCount?.readings ?? null,
    publishedPerSec: Math.round(pub.published / pub.seconds),
    publisherMaxLateMs: pub.maxLateMs,
    drainMs,
    publisherSkipped: pub.skipped,
    publisherUnflushedBytes: pub.unflushedBytes,
    received: sum,
    deliveredPct: expected ? (100 * sum) / expected : null,
    clientsComplete: received.filter((r) => r === published).length,
    minPerClient: received.length ? Math.min(...received) : 0,
    latency: latencyOf(reports.map((r) => r.latency)),
    usage: usage2(before, after),
    usageWithDrain: usage2(before, afterDrain),
    peakRssMb: watcher.peaks(),
    killed: watcher.killed(),
    pulse: pulseDelta(statsBefore, statsAfter),
    pulseBuild: target.builtAt ?? null,
  };
  if (s.kind === 'stall') {
    const stalled = reports.flatMap((r) => r.stalled);
    row.stall = {
      stalledClients: stalled.length,
      baselineHealthy: latencyOf(phases.baseline.snapshot.map((r) => r.latency)),
      duringStallHealthy: latencyOf(phases.stall.snapshot.map((r) => r.latency)),
      afterHealthy: row.latency,
      rssAtStallStartMb: phases.baseline.rss / 1048576,
      rssAtStallEndMb: phases.stall.rss / 1048576,
      peakRssDuringStallMb: phases.stall.peakRssMb,
      rssGrowthMb: phases.stall.peakRssMb - phases.baseline.rss / 1048576,
      toldLagged: stalled.filter((c) => c.lagged).length,
      healthyLagged: reports.reduce((a, r) => a + (r.healthyLagged ?? 0), 0),
      healthyLaggedSample: reports.flatMap((r) => r.healthyLaggedSample ?? []).slice(0, 3),
      publishedUntil: pubEndedAt,
      reconnected: stalled.filter((c) => c.reconnected).length,
      // Refilled: the ack came back with history that starts at the gap for every series it holds;
      // complete: and it holds every series of the fleet (4 metrics per bench device).
      refilled: stalled.filter(
        (c) => c.refill?.ok && c.refill.series > 0 && c.refill.covered === c.refill.series,
      ).length,
      refilledComplete: stalled.filter((c) => c.refill?.ok && c.refill.covered >= DEVICES * 4)
        .length,
      refillPoints: stalled.reduce((a, c) => a + (c.refill?.points ?? 0), 0),
      refillSample: stalled.slice(0, 3),
      stalledLatency: latencyOf(reports.map((r) => r.stalledLatency)),
    };
    // Healthy delivered over the whole run (baseline + stall + after).
    const healthyAll = received;
    row.deliveredPct = expected ? (100 * healthyAll.reduce((a, b) => a + b, 0)) / expected : null;
  }
  await Promise.all([...load.workers, publisher, tap].filter(Boolean).map(stopChild));
  if (!target.sameAsBroker) await stopChild(target.child);
  if (brokerChild) await stopChild(brokerChild);
  return row;
}

/**
 * Points per series a stalled client asks for when it refills: a chart's width, as the
 * dashboard does. The gateway spreads them over the gap (decimated), so the refill covers it
 * whatever its length.
 */
const REFILL_MAX_POINTS = 600;

/** Seconds idle connections are held, and from when on the RSS counts as steady (see runIdle). */
const IDLE_HOLD_S = Q ? 3 : Number(process.env.BENCH_IDLE_HOLD_S ?? 120);
const IDLE_STEADY_FROM_S = Q ? 1 : 45;

/**
 * Idle connections: RSS per connection = (RSS with N idle − RSS before) / N, where "with N
 * idle" is the median of the RSS sampled each second from IDLE_STEADY_FROM_S to IDLE_HOLD_S
 * after the last connection: idle connections live for hours, and for ~45 s after a
 * 10,000-connection storm the process still holds its garbage (`--trace-gc`: ~48 MB promoted
 * during the storm, returned by V8's memory reducer in passes ~20 s and ~45 s later); after
 * that RSS oscillates with the waves of heartbeats (every 25 s). The figure 3 s after the
 * storm and the highest one in the steady window are reported too.
 */
async function runIdle(s, targetName) {
  const broker = await startMosquitto();
  const target = await startTarget(targetName, broker);
  await sleep(1000);
  const before = procStats(target.child.pid);
  const t0 = Date.now();
  const load = await startLoad(target, { clients: s.clients });
  const connectSeconds = (Date.now() - t0) / 1000;
  const samples = [];
  for (let second = 1; second <= IDLE_HOLD_S; second++) {
    await sleep(1000);
    samples.push({ second, rss: procStats(target.child.pid).rss });
  }
  const at3s = samples[Math.min(2, samples.length - 1)];
  const steadySamples = samples
    .filter((x) => x.second >= IDLE_STEADY_FROM_S)
    .map((x) => x.rss)
    .sort((a, b) => a - b);
  const after = { rss: steadySamples[Math.floor(steadySamples.length / 2)] };
  const steadyMax = steadySamples[steadySamples.length - 1];
  const kbEach = (rss) => (load.ok ? (rss - before.rss) / 1024 / load.ok : null);
  const loadStats = sample({ load: load.workers });
  await Promise.all(load.workers.map(stopChild));
  if (!target.sameAsBroker) await stopChild(target.child);
  await stopChild(broker.child);
  return {
    scenario: s.id,
    label: s.id,
    target: targetName,
    clients: s.clients,
    clientsConnected: load.ok,
    connectErrors: load.errors,
    firstError: load.firstError,
    connectSeconds,
    rssBeforeMb: before.rss / 1048576,
    rssAfterMb: after.rss / 1048576,
    kbPerConnection: kbEach(after.rss),
    kbPerConnectionAt3s: kbEach(at3s.rss),
    kbPerConnectionSteadyMax: kbEach(steadyMax),
    rssSamplesMb: samples.map((x) => Math.round(x.rss / 1048576)),
    loadRssMb: loadStats.load.rss / 1048576,
  };
}

/** Raw drain: simulator --load -> broker -> one mqtt.js subscriber doing JSON.parse; readings/s in the steady window. */
async function rawDrain(s, brokerKind) {
  const broker = brokerKind === 'aedes' ? await startAedes() : await startMosquitto();
  const drain = forkQuiet('drain.mjs', [broker.url, 'parse']);
  await once(drain, 'ready');
  const result = await loadRun(
    s,
    broker.url,
    async () => (await gather([drain], 'count'))[0].readings,
    { server: drain, broker: broker.child },
  );
  await stopChild(drain);
  await stopChild(broker.child);
  return {
    scenario: s.id,
    label: `raw drain ${brokerKind} -> mqtt.js (server = the subscriber)`,
    target: `raw ${brokerKind}`,
    broker: brokerKind,
    ...result,
  };
}

/** Pulse under the simulator's --load: accepted readings/s in the steady window (a probe of the ceiling). */
async function pulseProbe(s, brokerKind) {
  const broker = brokerKind === 'embedded' ? null : await startMosquitto();
  const target = await startPulse(broker);
  const load = await startLoad(target, { clients: s.clients });
  broadcast(load.workers, { type: 'reset' });
  const result = await loadRun(
    s,
    broker ? broker.url : target.mqttUrl,
    async () => (await getJson(`${target.url}/api/stats`)).readings.accepted,
    { server: target.child, broker: broker?.child, load: load.workers },
  );
  const reports = await gather(load.workers, 'report');
  await Promise.all(load.workers.map(stopChild));
  await stopChild(target.child);
  if (broker) await stopChild(broker.child);
  return {
    scenario: s.id,
    label: `pulse ceiling probe (${broker ? 'mosquitto' : 'embedded aedes'}, simulator --load)`,
    target: 'pulse',
    broker: broker ? 'mosquitto' : 'embedded aedes',
    clients: s.clients,
    latency: latencyOf(reports.map((r) => r.latency)),
    ...result,
  };
}

/** Runs `simulator --load` for s.seconds and measures counter() growth between 1 s in and the end. */
async function loadRun(s, mqttUrl, counter, procs) {
  // --duration is only a safety bound: the simulator is stopped right after the window.
  const simArgs = [
    '--url',
    mqttUrl,
    '--devices',
    String(DEVICES),
    '--seed',
    '7',
    '--duration',
    String(s.seconds + 30),
    '--load',
    '--quiet',
    '--prefix',
    PREFIX,
  ];
  const sim = track(
    spawn(process.execPath, [path.join(root, 'dist/simulator/main.js'), ...simArgs], {
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const all = { ...procs, simulator: sim };
  await sleep(1000); // ramp-up: connections, retained status/meta
  const c0 = await counter();
  const before = sample(all);
  await sleep(s.seconds * 1000 - 500);
  const c1 = await counter();
  const after = sample(all);
  await stopChild(sim);
  const secs = (after.t - before.t) / 1000;
  return { ratePerSec: Math.round((c1 - c0) / secs), usage: usage2(before, after) };
}

async function runIngest(s) {
  const rows = [];
  const targets = opts.targets ?? ALL;
  const pulseOn = targets.includes('pulse');
  const rawMosq = await rawDrain(s, 'mosquitto');
  rows.push(rawMosq);
  if (pulseOn && !Q) rows.push(await pulseProbe(s, 'mosquitto'));
  if (pulseOn)
    rows.push(
      await runRate({ ...s, kind: 'rate' }, 'pulse', {
        rate: Math.ceil(rawMosq.ratePerSec * 0.7),
        label: 'pulse lossless @70% of raw mosquitto drain',
      }),
    );
  if (s.embedded === false) return rows; // quick: the Mosquitto half only
  const rawAedes = await rawDrain(s, 'aedes');
  rows.push(rawAedes);
  if (pulseOn) rows.push(await pulseProbe(s, 'embedded'));
  if (pulseOn)
    rows.push(
      await runRate({ ...s, kind: 'rate' }, 'pulse', {
        broker: 'embedded',
        rate: Math.ceil(rawAedes.ratePerSec * 0.9),
        label: 'pulse lossless @90% of raw aedes drain (embedded)',
      }),
    );
  return rows;
}

// ------------------------------------------------------------------------- report

const fmt = (v, d = 0) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(d);

function tableRow(r) {
  const u = r.usage ?? {};
  const note = [];
  if (r.killed) note.push(r.killed);
  if (u.machineBusyPct > 90)
    note.push(`machine saturated (${fmt(u.machineBusyPct)}% busy): figures bounded by the 2 cores`);
  if (u.foreignCpuPct > 30)
    note.push(`other processes used ${fmt(u.foreignCpuPct)}% of a core: noisy`);
  if (r.connectErrors) note.push(`${r.connectErrors} connect errors`);
  if (r.kbPerConnection !== undefined)
    note.push(
      `${fmt(r.kbPerConnection, 1)} KB/conn steady, ${fmt(r.kbPerConnectionSteadyMax, 1)} at most (${fmt(r.kbPerConnectionAt3s, 1)} KB 3 s after connecting; RSS ${fmt(r.rssBeforeMb)}→${fmt(r.rssAfterMb)} MB, ${fmt(r.connectSeconds, 1)} s to connect)`,
    );
  if (r.ratePerSec !== undefined) note.push(`drain/accepted ${fmt(r.ratePerSec)} readings/s`);
  if (r.drainMs > 2500) note.push(`drain took ${fmt(r.drainMs / 1000, 1)} s`);
  if (r.pulse) {
    const lost = r.published - r.pulse.accepted;
    note.push(`accepted ${r.pulse.accepted}${lost ? ` (lost ${lost})` : ''}`);
    if (r.pulse.droppedOverflow) note.push(`overflow-dropped ${r.pulse.droppedOverflow}`);
    if (r.pulse.lagPauses) note.push(`lag pauses ${r.pulse.lagPauses}`);
    if (r.pulse.lagDisconnects) note.push(`lag disconnects ${r.pulse.lagDisconnects}`);
    const drops = Object.entries(r.pulse.disconnects ?? {});
    if (drops.length) note.push(`disconnects: ${drops.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  if (r.tapped !== null && r.tapped !== undefined && r.tapped !== r.published)
    note.push(`tap saw ${r.tapped}/${r.published}`);
  if (r.publisherSkipped || r.publisherUnflushedBytes)
    note.push(
      `broker stopped reading the publisher (${r.publisherSkipped} readings skipped, ${Math.round(r.publisherUnflushedBytes / 1024)} KB unsent)`,
    );
  if (r.stall && r.stall.baselineHealthy.p99 > 1000)
    note.push(
      `baseline already saturated (healthy p99 ${r.stall.baselineHealthy.p99} ms before any stall): the stall comparison says little on this machine`,
    );
  if (r.stall)
    note.push(
      `stall: RSS +${fmt(r.stall.rssGrowthMb)} MB, healthy p99 ${fmt(r.stall.baselineHealthy.p99)}→${fmt(r.stall.duringStallHealthy.p99)} ms, lagged ${r.stall.toldLagged}/${r.stall.stalledClients} (healthy clients paused: ${r.stall.healthyLagged}), refilled ${r.stall.refilled}/${r.stall.stalledClients}, reconnected ${r.stall.reconnected}`,
    );
  const serverRss = r.peakRssMb?.server ?? u.server?.rssMb ?? r.rssAfterMb;
  return [
    r.label,
    r.target,
    r.transport === 'polling' ? `${fmt(r.clients)} (polling)` : fmt(r.clients),
    fmt(r.publishedPerSec ?? r.ratePerSec),
    fmt(r.deliveredPct, r.deliveredPct === 100 ? 0 : 2),
    fmt(r.latency?.p50),
    fmt(r.latency?.p99),
    fmt(r.latency?.max),
    fmt(u.server?.cpuPct),
    fmt(serverRss),
    r.target === 'mosquitto' ? '(= server)' : fmt(u.broker?.cpuPct),
    fmt(u.load?.cpuPct),
    fmt(u.publisher?.cpuPct ?? u.simulator?.cpuPct),
    fmt(u.foreignCpuPct),
    note.join('; '),
  ];
}

function markdownTable(header, rows) {
  return [header, header.map(() => '---'), ...rows]
    .map((cols) => `| ${cols.join(' | ')} |`)
    .join('\n');
}

function ratioTable(rows) {
  const lines = [];
  for (const p of rows.filter(
    (r) => r.target === 'pulse' && r.latency && r.usage?.server && !r.label.startsWith('pulse'),
  )) {
    for (const peer of rows.filter(
      (r) => r.scenario === p.scenario && r.target !== 'pulse' && r.usage?.server,
    )) {
      lines.push([
        p.scenario,
        peer.target,
        fmt(p.deliveredPct / Math.max(peer.deliveredPct ?? 0, 0.01), 2),
        fmt((p.latency.p99 ?? 0) / Math.max(peer.latency?.p99 ?? 1, 1), 2),
        fmt(p.usage.server.cpuPct / Math.max(peer.usage.server.cpuPct, 0.01), 2),
        fmt(
          (p.peakRssMb?.server ?? p.usage.server.rssMb) /
            Math.max(peer.peakRssMb?.server ?? peer.usage.server.rssMb, 0.01),
          2,
        ),
      ]);
    }
  }
  for (const p of rows.filter((r) => r.target === 'pulse' && r.kbPerConnection !== undefined)) {
    for (const peer of rows.filter((r) => r.scenario === p.scenario && r.target !== 'pulse')) {
      lines.push([
        p.scenario,
        peer.target,
        '—',
        '—',
        '—',
        `${fmt(p.kbPerConnection / Math.max(peer.kbPerConnection, 0.01), 2)} (per connection)`,
      ]);
    }
  }
  return lines.length
    ? markdownTable(
        [
          'scenario',
          'peer',
          'delivered % (pulse/peer)',
          'p99 (pulse/peer)',
          'server CPU (pulse/peer)',
          'server RSS (pulse/peer)',
        ],
        lines,
      )
    : '';
}

function checklist(rows) {
  const pulse = (scenario, label) =>
    rows.find(
      (r) =>
        r.scenario === scenario && r.target === 'pulse' && (!label || r.label.startsWith(label)),
    );
  const items = [];
  const add = (target, pass, figure) =>
    items.push({
      target,
      status: pass === null ? 'N/A' : pass ? 'PASS' : 'FAIL',
      figure,
      ...(Q ? { quick: true } : {}),
    });
  const has = (id) => selected.some((s) => s.id === id);

  if (has('fanout-1000')) {
    const r = pulse('fanout-1000');
    const limit = opts.flushMs + 30;
    add(
      1,
      r
        ? r.deliveredPct === 100 &&
            r.latency.p99 !== null &&
            r.latency.p99 <= limit &&
            r.usage.server.cpuPct <= 30
        : null,
      r
        ? `${r.clients} clients: delivered ${fmt(r.deliveredPct, 3)}%, p99 ${r.latency.p99} ms (limit ${limit}), gateway ${fmt(r.usage.server.cpuPct)}% of a core (limit 30)`
        : 'not run',
    );
  }
  if (has('rate-20k')) {
    const r = pulse('rate-20k');
    add(
      2,
      r ? r.deliveredPct === 100 && r.latency.p99 !== null && r.latency.p99 < 250 : null,
      r
        ? `${r.publishedPerSec} readings/s to ${r.clients} clients: delivered ${fmt(r.deliveredPct, 3)}%, p99 ${r.latency.p99} ms (limit < 250)`
        : 'not run',
    );
  }
  if (has('fanout-100')) {
    const r = pulse('fanout-100');
    const m = rows.find((x) => x.scenario === 'fanout-100' && x.target === 'mosquitto');
    add(
      3,
      r && m ? r.usage.server.cpuPct <= m.usage.server.cpuPct / 2 : null,
      r && m
        ? `gateway ${fmt(r.usage.server.cpuPct, 1)}% vs mosquitto MQTT-over-WS ${fmt(m.usage.server.cpuPct, 1)}% (ratio ${fmt(r.usage.server.cpuPct / Math.max(m.usage.server.cpuPct, 0.01), 2)}, limit 0.5); mosquitto delivered ${fmt(m.deliveredPct, 2)}%`
        : 'needs pulse and mosquitto targets',
    );
  }
  if (has('light-100')) {
    const r = pulse('light-100');
    const t1 = items.find((i) => i.target === 1);
    add(
      4,
      r ? r.latency.p99 !== null && r.latency.p99 <= 10 && (!t1 || t1.status === 'PASS') : null,
      r
        ? `p99 ${r.latency.p99} ms at ${r.publishedPerSec} readings/s (limit 10)${t1 ? `; target 1 ${t1.status}` : '; target 1 not in this run'}`
        : 'not run',
    );
  }
  if (has('ingest')) {
    const rawM = rows.find((x) => x.target === 'raw mosquitto');
    const rawA = rows.find((x) => x.target === 'raw aedes');
    const vm = pulse('ingest', 'pulse lossless @70%');
    const va = pulse('ingest', 'pulse lossless @90%');
    const lossless = (v) =>
      v && v.pulse && v.pulse.accepted === v.published && v.deliveredPct === 100;
    const probeM = pulse('ingest', 'pulse ceiling probe (mosquitto');
    const probeA = pulse('ingest', 'pulse ceiling probe (embedded');
    add(
      5,
      vm && va ? Boolean(lossless(vm) && lossless(va)) : null,
      `raw mosquitto drain ${fmt(rawM?.ratePerSec)}/s -> pulse at ${fmt(vm?.publishedPerSec)}/s: accepted ${vm?.pulse?.accepted ?? '—'}/${vm?.published ?? '—'}, delivered ${fmt(vm?.deliveredPct, 2)}%; ` +
        `raw aedes drain ${fmt(rawA?.ratePerSec)}/s -> pulse embedded at ${fmt(va?.publishedPerSec)}/s: accepted ${va?.pulse?.accepted ?? '—'}/${va?.published ?? '—'}, delivered ${fmt(va?.deliveredPct, 2)}%; ` +
        `probe under --load: ${fmt(probeM?.ratePerSec)}/s (mosquitto, ${fmt((100 * (probeM?.ratePerSec ?? 0)) / Math.max(rawM?.ratePerSec ?? 1, 1))}% of raw), ${fmt(probeA?.ratePerSec)}/s (embedded, ${fmt((100 * (probeA?.ratePerSec ?? 0)) / Math.max(rawA?.ratePerSec ?? 1, 1))}% of raw)`,
    );
  }
  if (has('polling-500')) {
    const r = pulse('polling-500');
    add(
      6,
      r ? r.deliveredPct === 100 && r.latency.p99 !== null && r.latency.p99 < 250 : null,
      r
        ? `${r.clients} polling clients: delivered ${fmt(r.deliveredPct, 3)}%, p99 ${r.latency.p99} ms (limit < 250)`
        : 'not run',
    );
  }
  if (has('idle-10k')) {
    const r = pulse('idle-10k');
    add(
      '7a',
      r ? r.connectErrors === 0 && r.kbPerConnection <= 12 : null,
      r
        ? `${r.clientsConnected}/${r.clients} idle websocket connections: ${fmt(r.kbPerConnection, 2)} KB RSS each, steady (median ${IDLE_STEADY_FROM_S}–${IDLE_HOLD_S} s after connecting, highest ${fmt(r.kbPerConnectionSteadyMax, 2)}; ${fmt(r.kbPerConnectionAt3s, 2)} KB at 3 s) (limit 12)`
        : 'not run',
    );
  }
  if (has('stall')) {
    const r = pulse('stall');
    const st = r?.stall;
    const unchanged =
      st &&
      st.duringStallHealthy.p99 !== null &&
      st.duringStallHealthy.p99 <=
        Math.max(st.baselineHealthy.p99 * 1.2, st.baselineHealthy.p99 + 10);
    if (Q && st && r.pulse?.lagPauses === 0)
      add(
        '7b',
        null,
        `smoke only: ${st.stalledClients} clients stalled ${selected.find((s) => s.id === 'stall').stall} s, too short to fill socket buffers and trigger lag detection (run without --quick)`,
      );
    else
      add(
        '7b',
        st
          ? st.rssGrowthMb < 50 &&
              unchanged &&
              st.toldLagged === st.stalledClients &&
              st.refilled === st.stalledClients &&
              r.deliveredPct === 100
          : null,
        st
          ? `${st.stalledClients}/${r.clients} stalled ${selected.find((s) => s.id === 'stall').stall} s at ${r.publishedPerSec}/s: RSS +${fmt(st.rssGrowthMb, 1)} MB (limit < 50); healthy p99 ${st.baselineHealthy.p99} -> ${st.duringStallHealthy.p99} ms (unchanged = within max(+20%, +10 ms)); told lagged ${st.toldLagged}/${st.stalledClients}; refilled ${st.refilled}/${st.stalledClients} (reconnected ${st.reconnected}); healthy delivered ${fmt(r.deliveredPct, 3)}%`
          : 'not run',
      );
  }
  return items;
}

// ------------------------------------------------------------------------- main

async function main() {
  for (const f of ['dist/backend/main.js', 'dist/simulator/main.js']) {
    if (!fs.existsSync(path.join(root, f)))
      throw new Error(
        `${f} is missing: run \`npx nx run-many -t build -p backend simulator\` first`,
      );
  }
  const command = `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? 'cpu',
    node: process.version,
    memGb: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
  };
  const builtAt = fs.statSync(path.join(root, 'dist/backend/main.js')).mtime.toISOString();
  const started = Date.now();
  console.error(
    `Pulse benchmark: ${command}\nmachine: ${machine.cpus} × ${machine.model}, Node ${machine.node}; backend build ${builtAt}; FLUSH_MS ${opts.flushMs}${Q ? '; QUICK (reduced sizes)' : ''}`,
  );
  const rows = [];
  const failures = [];
  for (const s of selected) {
    const budgetS =
      s.kind === 'stall'
        ? (s.warmup ?? 0) + s.baseline + s.stall + s.after + 120
        : s.kind === 'ingest'
          ? 6 * (s.seconds + 30)
          : s.kind === 'idle'
            ? IDLE_HOLD_S + 150
            : (s.seconds ?? 0) + 120;
    // --targets picks from the full scenario's targets, so `--quick --targets mosquitto` can add a peer to the smoke.
    const targets =
      s.kind === 'ingest'
        ? [null]
        : opts.targets
          ? (s.fullTargets ?? ALL).filter((t) => opts.targets.includes(t))
          : (s.targets ?? ALL);
    for (const t of targets) {
      const t0 = Date.now();
      console.error(`▶ ${s.id}${t ? ` — ${t}` : ''}`);
      try {
        const work =
          s.kind === 'ingest' ? runIngest(s) : s.kind === 'idle' ? runIdle(s, t) : runRate(s, t);
        let timer;
        const result = await Promise.race([
          work,
          new Promise(
            (_, reject) =>
              (timer = setTimeout(
                () => reject(new Error(`scenario over its ${budgetS} s budget`)),
                budgetS * 1000,
              )),
          ),
        ]);
        clearTimeout(timer);
        for (const r of [result].flat()) rows.push(r);
        console.error(`  done in ${Math.round((Date.now() - t0) / 1000)} s`);
      } catch (err) {
        console.error(`  ✗ ${s.id}${t ? ` — ${t}` : ''}: ${err.message}`);
        failures.push({ scenario: s.id, target: t, error: err.message });
        killAll(); // nothing from a failed scenario may leak into the next
        await sleep(500);
      }
    }
  }
  const header = [
    'scenario',
    'target',
    'clients',
    'readings/s',
    'delivered %',
    'p50 ms',
    'p99 ms',
    'max ms',
    'server CPU %',
    'server RSS MB (peak)',
    'broker CPU %',
    'load CPU %',
    'publisher CPU %',
    'other procs CPU %',
    'notes',
  ];
  const checks = checklist(rows);
  const seconds = (Date.now() - started) / 1000;
  const out = [];
  out.push(
    `\n## Pulse benchmark — ${new Date().toISOString()}${Q ? ' (QUICK: reduced sizes, figures indicative only)' : ''}\n`,
  );
  out.push(`Command: \`${command}\`  `);
  out.push(
    `Machine: ${machine.cpus} × ${machine.model}, ${machine.memGb} GB, Linux ${machine.kernel}, Node ${machine.node}; backend build ${builtAt}; FLUSH_MS ${opts.flushMs}; ${DEVICES} devices; CPU % = % of one core over the publish window\n`,
  );
  out.push(markdownTable(header, rows.map(tableRow)));
  const ratios = ratioTable(rows);
  if (ratios)
    out.push(`\nPulse / peer, same run (lower is better except delivered %):\n\n${ratios}`);
  out.push(`\nTargets:\n`);
  for (const c of checks)
    out.push(`- [${c.status === 'PASS' ? 'x' : ' '}] ${c.status} target ${c.target}: ${c.figure}`);
  for (const f of failures)
    out.push(
      `- ✗ ${f.scenario}${f.target ? ` (${f.target})` : ''} did not complete: ${f.error.split('\n')[0]}`,
    );
  console.log(out.join('\n'));
  const dir = path.join(here, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = `${Q ? 'quick' : 'bench'}${opts.only ? `-${opts.only.join('+')}` : ''}-${stamp}.json`;
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        command,
        machine,
        builtAt,
        quick: Q,
        flushMs: opts.flushMs,
        seconds,
        rows,
        checklist: checks,
        failures,
      },
      null,
      2,
    ),
  );
  console.log(`\nwritten ${path.relative(root, file)} in ${Math.round(seconds)} s`);
  // Exit code: a broken harness or Pulse losing readings fails always; missed targets only with --strict.
  const pulseLost = rows.some(
    (r) =>
      r.target === 'pulse' &&
      r.deliveredPct !== undefined &&
      r.deliveredPct !== null &&
      r.deliveredPct < 100 &&
      r.scenario !== 'stall',
  );
  if (
    failures.length ||
    (Q && pulseLost) ||
    (opts.strict && checks.some((c) => c.status === 'FAIL'))
  )
    process.exitCode = 1;
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    setTimeout(() => process.exit(), 200).unref();
  });

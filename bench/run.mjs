#!/usr/bin/env node
// `npm run bench` — drives Pulse and a naive relay with the same load in the same run
// and prints one table. Every process is a child on loopback; every scenario is bounded
// in time. `--quick` is the CI smoke (small and short). Results go to bench/results/.
import { spawn, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freePort, procStats, sleep, waitFor } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => fs.existsSync(p));

const scenarios = quick
  ? [{ name: 'fan-out', devices: 20, rate: 5, clients: 10, seconds: 3 }]
  : [
      { name: 'fan-out 100 clients @1k/s', devices: 100, rate: 10, clients: 100, seconds: 15 },
      { name: 'fan-out 500 clients @1k/s', devices: 100, rate: 10, clients: 500, seconds: 15 },
      { name: 'polling 100 clients @1k/s', devices: 100, rate: 10, clients: 100, seconds: 15, transport: 'polling' },
      { name: 'ingest max rate, 10 clients', devices: 100, load: true, clients: 10, seconds: 10 },
    ];

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

function once(child, type, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from child within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', function onMessage(msg) {
      if (msg?.type === type) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(msg);
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before '${type}'`)));
  });
}

async function startBroker() {
  const port = await freePort();
  if (MOSQUITTO) {
    const conf = path.join(os.tmpdir(), `pulse-bench-mosquitto-${process.pid}.conf`);
    fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n`);
    const child = track(spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' }));
    await waitFor(() => canConnect(`mqtt://127.0.0.1:${port}`), { what: 'mosquitto' });
    return { kind: 'mosquitto', url: `mqtt://127.0.0.1:${port}`, child };
  }
  console.error('mosquitto not installed (apt-get install -y mosquitto): using a standalone Aedes broker');
  const child = track(fork(path.join(here, 'aedes-broker.mjs'), [String(port)], { stdio: 'ignore' }));
  await once(child, 'ready');
  return { kind: 'aedes', url: `mqtt://127.0.0.1:${port}`, child };
}

function canConnect(url) {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1000 });
    c.once('connect', () => c.end(true, () => resolve(true)));
    c.once('error', () => c.end(true, () => resolve(false)));
  });
}

async function startPulse(mqttUrl) {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', MQTT_URL: mqttUrl, SIMULATOR: 'off', LOG_LEVEL: 'warn' };
  const child = track(spawn(process.execPath, [path.join(root, 'dist/backend/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/api/health`)).ok, { what: 'pulse /api/health' });
  await waitFor(async () => (await (await fetch(`${url}/api/stats`)).json()).broker.connected, { what: 'pulse broker connection' });
  return { name: 'pulse', url, child };
}

async function startNaive(mqttUrl) {
  const port = await freePort();
  const child = track(fork(path.join(here, 'naive-relay.mjs'), [mqttUrl, String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  await once(child, 'ready');
  await sleep(500); // let its MQTT subscription settle
  return { name: 'naive relay', url: `http://127.0.0.1:${port}`, child };
}

/** Counts the readings the broker actually carried during the window (the denominator of delivered %). */
async function startTap(mqttUrl) {
  const tap = { readings: 0 };
  const client = mqtt.connect(mqttUrl, { clientId: `bench-tap-${process.pid}-${Date.now()}` });
  await new Promise((r) => client.once('connect', r));
  await client.subscribeAsync('devices/+/telemetry', { qos: 0 });
  client.on('message', (_t, payload) => {
    // Count without parsing when possible: a batch is an array of readings.
    if (payload[0] === 0x5b) tap.readings += JSON.parse(payload.toString()).length;
    else tap.readings += 1;
  });
  tap.stop = () => new Promise((r) => client.end(true, r));
  return tap;
}

async function runScenario(target, broker, s) {
  const clients = track(fork(path.join(here, 'clients.mjs'), [target.url, String(s.clients), s.transport ?? 'websocket'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const ready = await once(clients, 'ready', 120000);
  if (ready.errors) console.error(`  ${ready.errors} client(s) failed to subscribe`);
  await sleep(300);
  const tap = await startTap(broker.url);
  const before = { server: procStats(target.child.pid), load: procStats(clients.pid), t: Date.now() };
  const simArgs = ['--url', broker.url, '--devices', String(s.devices), '--seed', '7', '--duration', String(s.seconds), '--quiet', '--prefix', 'bench'];
  if (s.load) simArgs.push('--load');
  else simArgs.push('--rate', String(s.rate));
  const sim = track(spawn(process.execPath, [path.join(root, 'dist/simulator/main.js'), ...simArgs], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const simStats = { cpu: 0 };
  const sampler = setInterval(() => (simStats.cpu = procStats(sim.pid).cpu || simStats.cpu), 250);
  await new Promise((r) => sim.once('exit', r));
  clearInterval(sampler);
  const publishEnd = Date.now();
  await sleep(2000); // drain: anything not delivered 2 s after the last publish counts as lost
  const after = { server: procStats(target.child.pid), load: procStats(clients.pid), t: Date.now() };
  clients.send({ type: 'report' });
  const report = await once(clients, 'report');
  await tap.stop();
  const wall = (publishEnd - before.t) / 1000;
  const expected = tap.readings * s.clients;
  return {
    scenario: s.name,
    target: target.name,
    clients: s.clients,
    transport: s.transport ?? 'websocket',
    published: tap.readings,
    publishedPerSec: Math.round(tap.readings / wall),
    deliveredPerSec: Math.round(report.received / wall),
    deliveredPct: expected ? (100 * report.received) / expected : 0,
    latency: report.latency,
    serverCpuPct: (100 * (after.server.cpu - before.server.cpu)) / ((after.t - before.t) / 1000),
    serverRssMb: after.server.rss / 1048576,
    loadCpuPct: (100 * (after.load.cpu - before.load.cpu)) / ((after.t - before.t) / 1000),
    simulatorCpuS: simStats.cpu,
  };
}

const fmt = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(d));

function printTable(rows) {
  const header = ['scenario', 'target', 'published/s', 'delivered/s', 'delivered %', 'p50 ms', 'p99 ms', 'max ms', 'server CPU %', 'server RSS MB', 'load CPU %'];
  const lines = rows.map((r) => [
    r.scenario, r.target, fmt(r.publishedPerSec), fmt(r.deliveredPerSec), fmt(r.deliveredPct, 1),
    fmt(r.latency.p50), fmt(r.latency.p99), fmt(r.latency.max), fmt(r.serverCpuPct), fmt(r.serverRssMb), fmt(r.loadCpuPct),
  ]);
  const table = [header, header.map(() => '---'), ...lines].map((cols) => `| ${cols.join(' | ')} |`).join('\n');
  console.log(table);
  const ratios = [];
  for (const r of rows.filter((x) => x.target === 'pulse')) {
    const n = rows.find((x) => x.target === 'naive relay' && x.scenario === r.scenario);
    if (!n) continue;
    ratios.push(`| ${r.scenario} | ${fmt(r.deliveredPct / Math.max(n.deliveredPct, 0.01), 2)} | ${fmt((n.latency.p99 ?? 0) / Math.max(r.latency.p99 ?? 1, 1), 1)} | ${fmt(r.serverCpuPct / Math.max(n.serverCpuPct, 0.01), 2)} |`);
  }
  if (ratios.length) {
    console.log('\nPulse / naive relay (same run):\n');
    console.log('| scenario | delivered ratio | p99 speed-up (naive p99 / pulse p99) | CPU ratio (pulse / naive) |\n| --- | --- | --- | --- |');
    console.log(ratios.join('\n'));
  }
}

async function main() {
  for (const f of ['dist/backend/main.js', 'dist/simulator/main.js']) {
    if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing: run \`npx nx run-many -t build -p backend simulator\` first`);
  }
  const started = Date.now();
  const rows = [];
  for (const s of scenarios) {
    for (const start of [startPulse, startNaive]) {
      const broker = await startBroker();
      const target = await start(broker.url);
      console.error(`▶ ${s.name} — ${target.name} (${broker.kind})`);
      try {
        rows.push(await runScenario(target, broker, s));
      } finally {
        target.child.kill('SIGTERM');
        broker.child.kill('SIGTERM');
        await sleep(300);
      }
    }
  }
  console.log(`\nPulse benchmark — ${new Date().toISOString()} — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, broker ${MOSQUITTO ? 'mosquitto' : 'aedes'}${quick ? ' (quick)' : ''}\n`);
  printTable(rows);
  const dir = path.join(here, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${quick ? 'quick' : 'bench'}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, quick, rows, seconds: (Date.now() - started) / 1000 }, null, 2));
  console.log(`\nwritten ${path.relative(root, file)} in ${Math.round((Date.now() - started) / 1000)} s`);
  if (quick && rows.some((r) => r.target === 'pulse' && r.deliveredPct < 99)) {
    console.error('quick bench: Pulse delivered less than 99% of readings');
    process.exitCode = 1;
  }
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

// One fleet for the browser fleet benchmark: the built backend (embedded broker, auth on with an
// admin password in a throwaway DATA_DIR, anonymous viewing as on loopback by default) with the
// built simulator at N devices × 1/s, the latency probe device publishing one unique value a
// second over MQTT, and what the run asks the backend over HTTP and /live (admin sign-in, alert
// rules, active alert count, the fleet acknowledgement's size, the accepted reading rate).
// Owns the probe's publisher and those requests; the children's lifecycle stays in
// ../wall/stack.mjs; must not open the browser (../wall/page.mjs) nor judge (report.mjs).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { io } from 'socket.io-client';
import { sleep, waitFor } from '../lib/util.mjs';
import { log } from '../wall/log.mjs';
import { startBackend, startSimulator, stopChildren } from '../wall/stack.mjs';

/** The probe device: its name sorts before every simulated device ("Env sensor…", "Machine…"). */
export const PROBE_ID = 'bench-probe';
const PROBE_NAME = '0 latency probe';
/**
 * Probe values: 9000.5, 9001.5, … — formatValue prints numbers of 100..9999 with one decimal, so
 * the display text is the JSON text, unique for the first 999 values of a fleet, and above what a
 * simulated temperature reaches.
 */
const probeValue = (n) => (9000.5 + (n % 999)).toFixed(1);

/**
 * A bench device of its own on the fleet's broker (`devices/<id>/…`): connected, its meta (group
 * `bench`, one reading a second) and its `online` status published, retained. Returns the client
 * and the device's topic for a `kind` (`telemetry`, …).
 */
export async function announceDevice(mqttPort, id, meta) {
  const client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: `${id}-${process.pid}`,
    reconnectPeriod: 0,
  });
  const topic = (kind) => `devices/${id}/${kind}`;
  await client.publishAsync(
    topic('meta'),
    JSON.stringify({ group: 'bench', intervalMs: 1000, ...meta }),
    { qos: 1, retain: true },
  );
  await client.publishAsync(topic('status'), 'online', { qos: 1, retain: true });
  return { client, topic };
}

/**
 * `tick(n)` for n = 0, 1, … once a second, paced on the clock (a slow tick does not shift the
 * next ones), until the returned `stop()`, which then ends `client`.
 */
export function eachSecond(client, tick) {
  let stopped = false;
  const loop = (async () => {
    let next = performance.now();
    for (let n = 0; !stopped; n++) {
      await tick(n);
      next += 1000;
      await sleep(Math.max(0, next - performance.now()));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await client.endAsync(true).catch(() => undefined);
  };
}

/** The probe: one telemetry message a second; `watch(page)` makes the page expect each value first. */
async function startProbe(mqttPort) {
  const { client, topic } = await announceDevice(mqttPort, PROBE_ID, {
    name: PROBE_NAME,
    units: { probe: 'u' },
  });
  let page = null;
  const stop = eachSecond(client, async (n) => {
    const value = probeValue(n);
    // The page learns the value before it is published, so the expectation never races it.
    if (page)
      await page.evaluate((v) => window.__fleetBench?.expect(v), value).catch(() => undefined);
    client.publish(topic('telemetry'), `{"values":{"probe":${value}}}`);
  });
  return { watch: (p) => (page = p), stop };
}

async function sendJson(url, body, cookie) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/**
 * A fleet of `devices` × 1/s behind a fresh backend, the probe publishing; `boundS` bounds the
 * simulator. Resolves once the backend knows every device and the probe.
 */
export async function startFleet({ devices, dashboardDir, boundS }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulse-fleet-data-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const adminPassword = crypto.randomBytes(18).toString('base64url');
  const passwordFile = path.join(dataDir, 'admin-password');
  fs.writeFileSync(passwordFile, adminPassword, { mode: 0o600 });
  const backend = await startBackend(dashboardDir, {
    DATA_DIR: dataDir,
    PULSE_ADMIN_PASSWORD_FILE: passwordFile,
    // 10,000 devices and the probe: above the default 10,000.
    MAX_DEVICES: '20000',
  });
  const sim = await startSimulator(backend, { devices, rate: 1 }, boundS, {
    timeoutMs: 120_000,
  });
  const probe = await startProbe(backend.mqttPort);
  await waitFor(
    async () =>
      (await (await fetch(`${backend.httpUrl}/api/stats`)).json()).devices.known > devices,
    { timeoutMs: 15_000, intervalMs: 200, what: 'the probe device known to the backend' },
  );
  return { backend, sim, probe, adminPassword, devices };
}

export async function stopFleet(fleet) {
  await fleet.probe.stop();
  await stopChildren();
}

/** The backend's accepted-readings counter now (to turn two reads into a rate). */
export async function readingsAccepted(httpUrl) {
  return (await (await fetch(`${httpUrl}/api/stats`)).json()).readings.accepted;
}

/**
 * Alert rules every simulated device crosses, created over the REST API as the admin: each kind
 * has exactly one of `temperature` (env sensors, machines) or `voltage` (power meters), so every
 * device gets one active alert. Resolves with the active count once it reaches `devices`.
 */
export async function raiseAlertStorm(fleet) {
  const { httpUrl } = fleet.backend;
  const login = await sendJson(`${httpUrl}/api/auth/login`, {
    username: 'admin',
    password: fleet.adminPassword,
  });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  for (const metric of ['temperature', 'voltage'])
    await sendJson(
      `${httpUrl}/api/alert-rules`,
      {
        id: `bench-storm-${metric}`,
        name: `bench storm (${metric})`,
        kind: 'threshold',
        severity: 'warning',
        metric,
        op: 'above',
        value: -1000,
      },
      cookie,
    );
  let active = 0;
  await waitFor(
    async () => {
      const res = await fetch(`${httpUrl}/api/alerts`, { headers: { cookie } });
      active = (await res.json()).alerts.length;
      return active >= fleet.devices;
    },
    { timeoutMs: 60_000, intervalMs: 1000, what: `${fleet.devices} active alerts` },
  ).catch((e) => log(`alert storm: ${active} active alerts (${e.message})`));
  log(`alert storm: ${active} active alerts`);
  return active;
}

/**
 * The fleet acknowledgement as a client receives it: a socket.io-client on `/live` (anonymous
 * viewer, loopback), `subscribe {summary: true}`; its size is the ack's JSON in UTF-8 bytes (the
 * socket.io frame adds a few bytes of packet header).
 */
export async function fleetAckSize(httpUrl) {
  const socket = io(`${httpUrl}/live`, { transports: ['websocket'], reconnection: false });
  try {
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const t0 = performance.now();
    const ack = await socket.timeout(30_000).emitWithAck('subscribe', { summary: true });
    const ms = performance.now() - t0;
    const bytes = Buffer.byteLength(JSON.stringify(ack));
    const summaryBytes = ack?.summary ? Buffer.byteLength(JSON.stringify(ack.summary)) : null;
    const devices = ack?.summary?.devices?.length ?? null;
    return { bytes, summaryBytes, ms, devices, ok: ack?.ok ?? null };
  } finally {
    socket.close();
  }
}

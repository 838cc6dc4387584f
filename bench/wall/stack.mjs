// The processes behind the wall long-run: the dist/ build (made if missing), a private copy of the
// dashboard, the built backend (embedded broker) and the built simulator, all killed on exit, on a
// signal, or when the whole run passes its hard time limit. Owns those children and their
// clean-up; must not touch the browser or the page (page.mjs) nor measure (sampling.mjs).
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '../lib/util.mjs';
import { root } from '../lib/procs.mjs';
import { fail } from './args.mjs';
import { log } from './log.mjs';

const children = new Set();
let stopping = false;
let runName = 'wall-longrun';

export function killAll(signal = 'SIGKILL') {
  for (const c of children) signalChild(c, signal);
}

/** Signals one child (its whole process group when detached); gone already is fine. */
function signalChild(c, signal) {
  try {
    if (c.detached) process.kill(-c.child.pid, signal);
    else c.child.kill(signal);
  } catch {
    /* gone */
  }
}

/** Kills one child started with {@link start}, its exit expected (not reported as a failure). */
export function killChild(entry, signal = 'SIGKILL') {
  entry.expected = true;
  signalChild(entry, signal);
}

/** From here on a child's exit is expected, not reported as a failure. */
export function stopAll() {
  stopping = true;
}

/**
 * Stops every child started so far (SIGTERM, SIGKILL after `graceMs`), their exits expected, and
 * resolves once they are gone: a run with several stacks in turn starts the next one clean.
 */
export async function stopChildren(graceMs = 3000) {
  const gone = [...children].map((c) => {
    c.expected = true;
    return new Promise((resolve) => {
      if (c.child.exitCode !== null || c.child.signalCode !== null) resolve();
      else c.child.once('exit', resolve);
    });
  });
  killAll('SIGTERM');
  const timer = setTimeout(() => killAll('SIGKILL'), graceMs);
  await Promise.all(gone);
  clearTimeout(timer);
}

/**
 * Exits with the code `mainPromise` resolves to; when it rejects, prints the error and every
 * child's last output, awaits `closeBrowser()`, kills every child and exits 1.
 */
export function exitWith(mainPromise, name, closeBrowser) {
  mainPromise.then(
    (code) => process.exit(code),
    async (error) => {
      console.error(`${name}: ${error?.stack ?? error}`);
      stopAll();
      for (const c of childOutputs())
        console.error(`--- ${c.name} output (tail) ---\n${c.output.slice(-2000)}`);
      await closeBrowser();
      killAll('SIGKILL');
      process.exit(1);
    },
  );
}

/** The last output of every child, for the error report. */
export function childOutputs() {
  return [...children].map((c) => ({ name: c.name, output: c.output() }));
}

/**
 * Kill every child on exit and on a signal; and everything once the run passes `hardLimitMs`.
 * `name` prefixes the messages (the entry point's name).
 */
export function guardRun(hardLimitMs, name = 'wall-longrun') {
  runName = name;
  process.on('exit', () => killAll('SIGKILL'));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`\n${name}: ${sig}, stopping`);
      killAll('SIGKILL');
      process.exit(130);
    });
  }
  const hardTimer = setTimeout(() => {
    console.error(
      `${name}: hard time limit (${Math.round(hardLimitMs / 1000)} s) reached, killing everything`,
    );
    killAll('SIGKILL');
    process.exit(1);
  }, hardLimitMs);
  hardTimer.unref();
}

/** A child of this run: its output kept (tail), killed by killAll, its early exit reported. */
export function start(cmd, args, { env = {}, detached = false, name }) {
  let output = '';
  const child = spawn(cmd, args, {
    cwd: root,
    detached,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const keep = (chunk) => (output = (output + chunk.toString()).slice(-20000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const entry = { child, detached, name, output: () => output };
  children.add(entry);
  child.on('exit', (code, sig) => {
    children.delete(entry);
    if (!stopping && !entry.expected)
      console.error(`${runName}: ${name} exited early (${code ?? sig})\n${output.slice(-3000)}`);
  });
  return entry;
}

export function ensureBuilt() {
  const need = [
    path.join(root, 'dist/backend/main.js'),
    path.join(root, 'dist/simulator/main.js'),
    path.join(root, 'dist/dashboard/browser/index.html'),
  ];
  if (need.every((p) => fs.existsSync(p))) return;
  log('dist is incomplete: building backend, simulator and dashboard');
  const r = spawnSync(
    'npx',
    [
      'nx',
      'run-many',
      '-t',
      'build',
      '-p',
      'backend',
      'simulator',
      'dashboard',
      '--output-style=static',
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, CI: 'true', NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      timeout: 15 * 60_000,
    },
  );
  if (r.status !== 0) fail('build failed');
}

/** A private copy of the dashboard build, so a rebuild of dist/ during the run cannot change the page under test. */
export function copyDashboard() {
  const dashboardDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulse-wall-dashboard-'));
  fs.cpSync(path.join(root, 'dist/dashboard/browser'), dashboardDir, { recursive: true });
  process.on('exit', () => fs.rmSync(dashboardDir, { recursive: true, force: true }));
  const dashboardBuilt = fs
    .statSync(path.join(root, 'dist/dashboard/browser/index.html'))
    .mtime.toISOString();
  log(`dashboard build of ${dashboardBuilt} copied to ${dashboardDir}`);
  return { dashboardDir, dashboardBuilt };
}

/** Backend: embedded broker, no internal simulator, serving `dashboardDir`; `env` adds to its environment. */
export async function startBackend(dashboardDir, env = {}) {
  if (!env.DATA_DIR) {
    // A fresh state of its own with the admin seeded: a backend without users sends every page
    // to the first-start setup (and ./data is the developer's, not the benchmark's).
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulse-bench-data-'));
    process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const passwordFile = path.join(dataDir, 'admin-password');
    fs.writeFileSync(passwordFile, crypto.randomBytes(18).toString('base64url'), { mode: 0o600 });
    env = { DATA_DIR: dataDir, PULSE_ADMIN_PASSWORD_FILE: passwordFile, ...env };
  }
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const backend = start(process.execPath, [path.join(root, 'dist/backend/main.js')], {
    name: 'backend',
    detached: true, // own process group: a kill takes anything it spawned
    env: {
      PORT: String(httpPort),
      HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      SIMULATOR: 'off',
      LOG_LEVEL: 'warn',
      DASHBOARD_DIR: dashboardDir,
      ...env,
    },
  });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  await waitFor(async () => (await fetch(`${httpUrl}/api/health`)).ok, {
    timeoutMs: 30_000,
    intervalMs: 250,
    what: 'backend /api/health',
  });
  log(`backend up at ${httpUrl} (mqtt ${mqttPort}), pid ${backend.child.pid}`);
  return { pid: backend.child.pid, httpUrl, mqttPort };
}

/**
 * The simulator (`opt.devices` at `opt.rate` Hz, seed 1), bounded by --duration as well in case
 * this process dies without clean-up; resolves once the backend knows every device, with the
 * fleet's metrics-per-device counts. `args` adds simulator flags; `timeoutMs` bounds the wait.
 */
export async function startSimulator(
  backend,
  opt,
  durationS,
  { args = [], timeoutMs = 30_000 } = {},
) {
  const sim = start(
    process.execPath,
    [
      path.join(root, 'dist/simulator/main.js'),
      '--url',
      `mqtt://127.0.0.1:${backend.mqttPort}`,
      '--devices',
      String(opt.devices),
      '--rate',
      String(opt.rate),
      '--quiet',
      '--seed',
      '1',
      '--duration',
      String(durationS),
      ...args,
    ],
    { name: 'simulator' },
  );
  await waitFor(
    async () => {
      const s = await (await fetch(`${backend.httpUrl}/api/stats`)).json();
      return s.devices.known >= opt.devices && s.readings.accepted > 0 ? s : null;
    },
    { timeoutMs, intervalMs: 250, what: `${opt.devices} devices known to the backend` },
  );
  const { devices } = await (await fetch(`${backend.httpUrl}/api/devices`)).json();
  const metricCount = {};
  for (const d of devices) {
    const n = d.metrics?.length ?? Object.keys(d.units ?? {}).length;
    metricCount[n] = (metricCount[n] ?? 0) + 1;
  }
  log(
    `simulator: ${opt.devices} devices at ${opt.rate} Hz (metrics per device: ${Object.entries(
      metricCount,
    )
      .map(([n, c]) => `${c}×${n}`)
      .join(', ')})`,
  );
  return { pid: sim.child.pid, metricCount };
}

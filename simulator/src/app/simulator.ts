// The fleet loop behind the CLI and the programmatic API: schedules every device's samples on one
// timer, batches them and hands them to the publisher; counts what happened (SimulatorStats).
// Owns scheduling and counters; must not touch the broker connection (publisher.ts) or print
// anything itself (progress.ts draws the status line).
import { Clock, encodeTelemetry, systemClock } from '@pulse/protocol';
import { SimulatorConfig } from './config';
import { DeviceModel } from './models/device-model';
import { createFleet } from './models/fleet';
import { Connect, Publisher } from './publisher';
import { ProgressStream, startProgress } from './progress';
import { SimulatorStats } from './simulator-stats';

/** Scheduler tick: one timer for the whole fleet, whatever its size. */
const TICK_MS = 50;
/** Above this many devices one connection per device is too costly: use a pool. */
export const PER_DEVICE_LIMIT = 200;

export type { SimulatorStats } from './simulator-stats';

export interface Simulator {
  readonly devices: readonly DeviceModel[];
  stats(): SimulatorStats;
  /** Publish `offline` for every device, disconnect, resolve. Idempotent. */
  stop(): Promise<void>;
  /** Resolves once stopped (by `stop()` or at the end of `--duration`). */
  readonly done: Promise<void>;
}

export interface SimulatorDeps {
  clock?: Clock;
  connect?: Connect;
  /** Where the progress line goes (default process.stderr); ignored with `quiet`. */
  progress?: ProgressStream;
}

/**
 * Connections to open: one per device for small fleets and whenever each device has its own
 * credentials (`--credentials-file`: a connection has one identity), else a small pool.
 */
export function connectionCount(
  config: Pick<SimulatorConfig, 'connections' | 'devices' | 'load'> & {
    credentials?: Pick<SimulatorConfig['credentials'], 'deviceSecrets'>;
  },
): number {
  if (config.credentials?.deviceSecrets) return config.devices;
  if (config.connections > 0) return Math.min(config.connections, config.devices);
  if (config.load) return Math.min(config.devices, 4);
  if (config.devices <= PER_DEVICE_LIMIT) return config.devices;
  return Math.min(16, Math.max(2, Math.ceil(config.devices / 1000)));
}

/**
 * Start a fleet against a broker. The programmatic API behind the CLI, for
 * tests and benchmarks.
 */
export function runSimulator(config: SimulatorConfig, deps: SimulatorDeps = {}): Simulator {
  const clock = deps.clock ?? systemClock;
  const intervalMs = 1000 / config.rate;
  const startedAt = clock();
  const devices = createFleet({
    count: config.devices,
    prefix: config.prefix,
    seed: config.seed,
    behaviour: {
      dropout: config.dropout,
      offlinePerSecond: config.offline,
      periodMs: config.period * 1000,
    },
    scenario: config.scenario ? { name: config.scenario, startedAt } : undefined,
  });
  const publisher = new Publisher(devices, {
    url: config.url,
    qos: config.load ? 0 : config.qos,
    connections: connectionCount(config),
    intervalMs: config.load ? 1 : intervalMs,
    connect: deps.connect,
    auth: {
      username: config.credentials.username ?? undefined,
      password: config.credentials.password ?? undefined,
      ca: config.credentials.ca ?? undefined,
    },
    deviceSecrets: config.credentials.deviceSecrets ?? undefined,
  });
  const counters = { dropouts: 0, outages: 0, lagged: 0 };
  const pending: Array<Array<{ ts: number; values: Record<string, number> }>> = devices.map(
    () => [],
  );
  let running = true;

  const stats = (): SimulatorStats => ({
    startedAt,
    now: clock(),
    devices: devices.length,
    connections: publisher.connectionCount,
    connected: publisher.connectedDevices(),
    ...publisher.counters,
    ...counters,
  });

  const flush = (i: number): void => {
    const batch = pending[i];
    if (batch.length === 0) return;
    publisher.publishTelemetry(devices[i], encodeTelemetry(batch), batch.length);
    pending[i] = [];
  };

  // Paced mode: the interval is cut into one slot per device, so device i
  // samples at startedAt + i * slotMs + k * intervalMs: evenly spread, no bursts.
  const slotMs = intervalMs / devices.length;
  let nextSlot = 0;
  const tick = (): void => {
    const due = Math.floor((clock() - startedAt) / slotMs);
    if (due - nextSlot > devices.length) {
      counters.lagged += due - devices.length - nextSlot;
      nextSlot = due - devices.length;
    }
    for (; nextSlot <= due; nextSlot++) {
      const i = nextSlot % devices.length;
      const device = devices[i];
      const ts = Math.round(startedAt + nextSlot * slotMs);
      const step = device.step(ts);
      switch (step.type) {
        case 'reading':
          pending[i].push({ ts, values: step.values });
          if (pending[i].length >= config.batch) flush(i);
          break;
        case 'dropout':
          counters.dropouts++;
          break;
        case 'offline':
          counters.outages++;
          pending[i] = [];
          publisher.deviceOffline(device);
          break;
        case 'online':
          publisher.deviceOnline(device);
          break;
        case 'silent':
          break;
      }
    }
  };

  // Load mode: each connection publishes round-robin for its devices while its
  // socket accepts data, then waits for 'drain'. QoS 0; the in-flight data is
  // bounded by the socket buffer. Every reading is stamped at publish time so
  // the receiver can measure latency.
  let cursor = 0;
  let pumpScheduled = false;
  const pump = (): void => {
    pumpScheduled = false;
    if (!running) return;
    let sent = 0;
    let blocked = 0;
    while (sent < 2000 && blocked < devices.length) {
      const i = cursor;
      cursor = (cursor + 1) % devices.length;
      if (!publisher.writable(devices[i], schedulePump)) {
        blocked++;
        continue;
      }
      blocked = 0;
      const batch = [];
      for (let b = 0; b < config.batch; b++) {
        const ts = clock();
        batch.push({ ts, values: devices[i].sample(ts) });
      }
      publisher.publishTelemetry(devices[i], encodeTelemetry(batch), batch.length);
      sent++;
    }
    // Everything blocked: 'drain' (or the retry timer, while connecting) resumes us.
    if (sent > 0) schedulePump();
  };
  function schedulePump(): void {
    if (pumpScheduled || !running) return;
    pumpScheduled = true;
    setImmediate(pump);
  }

  publisher.start();
  const timer = setInterval(
    config.load ? schedulePump : tick,
    config.load ? 100 : Math.min(TICK_MS, intervalMs),
  );
  const progress = config.quiet ? null : startProgress(stats, deps.progress ?? process.stderr);

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    running = false;
    clearInterval(timer);
    clearTimeout(durationTimer);
    if (!config.load) for (let i = 0; i < devices.length; i++) if (devices[i].online) flush(i);
    progress?.stop();
    stopping = publisher.stop().then(resolveDone);
    return stopping;
  };
  const durationTimer =
    config.duration > 0 ? setTimeout(() => void stop(), config.duration * 1000) : undefined;

  return { devices, stats, stop, done };
}

import { EventEmitter } from 'node:events';
import { decodeDeviceMessage } from '@pulse/protocol';
import { MqttClient } from 'mqtt';
import { DEFAULTS, SimulatorConfig } from './config';
import { formatProgress, startProgress } from './progress';
import { Connect } from './publisher';
import { connectionCount, runSimulator } from './simulator';

interface Sent {
  clientId: string;
  topic: string;
  payload: string;
  retain: boolean;
  at: number;
}

/** A stand-in for mqtt.js: connects at once, records publishes. */
function fakeBroker(): {
  connect: Connect;
  sent: Sent[];
  clients: Array<{ clientId: string; will?: unknown; ended: boolean }>;
} {
  const sent: Sent[] = [];
  const clients: Array<{ clientId: string; will?: unknown; ended: boolean }> = [];
  const connect: Connect = (_url, options) => {
    const record = { clientId: String(options.clientId), will: options.will, ended: false };
    clients.push(record);
    const client = Object.assign(new EventEmitter(), {
      connected: false,
      stream: { writableLength: 0, writableNeedDrain: false, once: () => undefined },
      publish(
        topic: string,
        payload: string,
        opts: { retain?: boolean },
        cb?: (e?: Error) => void,
      ) {
        sent.push({
          clientId: record.clientId,
          topic,
          payload: String(payload),
          retain: !!opts.retain,
          at: Date.now(),
        });
        cb?.();
        return client;
      },
      end(_force?: boolean, cb?: () => void) {
        record.ended = true;
        client.connected = false;
        cb?.();
        return client;
      },
    });
    setTimeout(() => {
      client.connected = true;
      client.emit('connect');
    }, 0);
    return client as unknown as MqttClient;
  };
  return { connect, sent, clients };
}

const config = (overrides: Partial<SimulatorConfig>): SimulatorConfig => ({
  ...DEFAULTS,
  quiet: true,
  ...overrides,
});

describe('runSimulator scheduling (fake clock, fake broker)', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 0, 15, 8, 0, 0) }));
  afterEach(() => jest.useRealTimers());

  it('paces each device at --rate, spread evenly over the interval, with one timer for the whole fleet', async () => {
    const broker = fakeBroker();
    const start = Date.now();
    const sim = runSimulator(config({ devices: 10, rate: 2 }), {
      connect: broker.connect,
      clock: () => Date.now(),
    });
    expect(jest.getTimerCount()).toBe(1 + 10); // the scheduler, plus each fake connection's connect
    await jest.advanceTimersByTimeAsync(10);
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(5000);

    const telemetry = broker.sent.filter((s) => s.topic.endsWith('/telemetry'));
    const readings = telemetry.map((s) => {
      const decoded = decodeDeviceMessage(s.topic, s.payload, s.at);
      if (decoded.kind !== 'telemetry') throw new Error(`rejected: ${s.payload}`);
      return decoded.readings[0];
    });
    // 5 s at 2/s for 10 devices (plus the slot at t=0).
    expect(readings.length).toBeGreaterThanOrEqual(100);
    expect(readings.length).toBeLessThanOrEqual(101);
    for (const id of sim.devices.map((d) => d.id)) {
      const ts = readings.filter((r) => r.deviceId === id).map((r) => r.ts);
      expect(ts.slice(1).map((t, i) => t - ts[i])).toEqual(Array(ts.length - 1).fill(500));
    }
    // Devices are 50 ms apart: 500 ms / 10 devices.
    const firstRound = readings.slice(0, 10).map((r) => r.ts - start);
    expect(firstRound).toEqual([0, 50, 100, 150, 200, 250, 300, 350, 400, 450]);
    // Every device connected with its own Last Will.
    expect(broker.clients).toHaveLength(10);
    expect(
      broker.clients.every((c) => (c.will as { topic: string }).topic.endsWith('/status')),
    ).toBe(true);

    await sim.stop();
    await sim.done;
    const offline = broker.sent.filter(
      (s) => s.topic.endsWith('/status') && s.payload === 'offline',
    );
    expect(offline).toHaveLength(10);
    expect(offline.every((s) => s.retain)).toBe(true);
    expect(broker.clients.every((c) => c.ended)).toBe(true);
  });

  it('still uses a single timer and a pool of connections for 5000 devices', async () => {
    const broker = fakeBroker();
    const sim = runSimulator(config({ devices: 5000, rate: 1 }), {
      connect: broker.connect,
      clock: () => Date.now(),
    });
    await jest.advanceTimersByTimeAsync(10);
    expect(jest.getTimerCount()).toBe(1);
    expect(broker.clients.length).toBe(
      connectionCount({ devices: 5000, connections: 0, load: false }),
    );
    expect(broker.clients.every((c) => c.will === undefined)).toBe(true);
    await jest.advanceTimersByTimeAsync(2000);
    const telemetry = broker.sent.filter((s) => s.topic.endsWith('/telemetry')).length;
    expect(telemetry).toBeGreaterThanOrEqual(10_000);
    expect(telemetry).toBeLessThanOrEqual(10_001);
    // Announced once each: retained online + meta.
    expect(broker.sent.filter((s) => s.retain && s.payload === 'online')).toHaveLength(5000);
    await sim.stop();
  });

  it('packs --batch readings into one array message', async () => {
    const broker = fakeBroker();
    const sim = runSimulator(config({ devices: 2, rate: 10, batch: 5 }), {
      connect: broker.connect,
      clock: () => Date.now(),
    });
    await jest.advanceTimersByTimeAsync(2000);
    await sim.stop();
    const messages = broker.sent.filter((s) => s.topic.endsWith('/telemetry'));
    const sizes = messages.map((s) => {
      const body = JSON.parse(s.payload);
      return Array.isArray(body) ? body.length : 1; // a lone remainder is sent as one object
    });
    // Full batches while running, the remainder flushed on stop.
    expect(sizes.slice(0, -2).every((n) => n === 5)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(sim.stats().readings);
  });

  it('counts dropouts and takes devices offline and back', async () => {
    const broker = fakeBroker();
    const sim = runSimulator(
      config({ devices: 4, rate: 5, dropout: 0.3, offline: 0.05, seed: 3 }),
      {
        connect: broker.connect,
        clock: () => Date.now(),
      },
    );
    await jest.advanceTimersByTimeAsync(120_000);
    const stats = sim.stats();
    expect(stats.dropouts).toBeGreaterThan(0);
    expect(stats.outages).toBeGreaterThan(0);
    // Each outage force-closes a device connection (the broker would fire the will) and reconnects later.
    expect(broker.clients.length).toBeGreaterThan(4);
    await sim.stop();
  });

  it('stops by itself after --duration', async () => {
    const broker = fakeBroker();
    const sim = runSimulator(config({ devices: 1, duration: 3 }), {
      connect: broker.connect,
      clock: () => Date.now(),
    });
    let done = false;
    void sim.done.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(2900);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(200);
    expect(done).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('connectionCount', () => {
  it.each([
    [{ devices: 12, connections: 0, load: false }, 12],
    [{ devices: 200, connections: 0, load: false }, 200],
    [{ devices: 201, connections: 0, load: false }, 2],
    [{ devices: 100_000, connections: 0, load: false }, 16],
    [{ devices: 12, connections: 0, load: true }, 4],
    [{ devices: 2, connections: 0, load: true }, 2],
    [{ devices: 12, connections: 3, load: false }, 3],
    [{ devices: 12, connections: 50, load: false }, 12],
  ])('%j → %d', (input, expected) => {
    expect(connectionCount(input)).toBe(expected);
  });
});

describe('progress line', () => {
  const stats = {
    startedAt: 0,
    now: 75_000,
    devices: 12,
    connections: 12,
    connected: 11,
    messages: 1200,
    readings: 12_345,
    errors: 2,
    skipped: 0,
    dropouts: 3,
    outages: 0,
    lagged: 0,
    lastError: null,
  };

  it('shows sent, rate, errors and connected devices', () => {
    expect(formatProgress(stats, 12.4)).toBe(
      '01:15 · sent 12,345 readings (1,200 msgs) · 12/s · errors 2 · connected 11/12 · dropouts 3',
    );
  });

  it('redraws in place with \\r on a terminal, about once a second', () => {
    jest.useFakeTimers();
    const writes: string[] = [];
    let now = 0;
    const progress = startProgress(() => ({ ...stats, now, readings: now * 10 }), {
      isTTY: true,
      write: (t) => writes.push(t) > 0,
    });
    now = 1000;
    jest.advanceTimersByTime(1000);
    now = 2000;
    jest.advanceTimersByTime(1000);
    progress.stop();
    jest.useRealTimers();
    expect(writes).toHaveLength(3);
    expect(writes[0]).toMatch(/^\r00:01 · sent 10,000 readings .* · 10,000\/s · /);
    expect(writes[2]).toBe('\n');
  });

  it('writes whole lines, less often, when stderr is not a terminal', () => {
    jest.useFakeTimers();
    const writes: string[] = [];
    const progress = startProgress(
      () => stats,
      { isTTY: false, write: (t) => writes.push(t) > 0 },
      10_000,
    );
    jest.advanceTimersByTime(9_999);
    expect(writes).toHaveLength(0);
    jest.advanceTimersByTime(1);
    progress.stop();
    jest.useRealTimers();
    expect(writes).toHaveLength(1);
    expect(writes[0].endsWith('\n')).toBe(true);
    expect(writes[0]).not.toContain('\r');
  });
});

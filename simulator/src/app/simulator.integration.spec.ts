/**
 * Medium test: real Aedes broker on a free port, real mqtt.js clients, the
 * real simulator. Proves that everything the simulator publishes passes the
 * contract's decoder.
 */
import { decodeDeviceMessage, DecodedMessage, parseTopic } from '@pulse/protocol';
import { DEFAULTS, SimulatorConfig } from './config';
import { mulberry32 } from './models/random';
import { DeviceModel } from './models/device-model';
import { Publisher } from './publisher';
import { runSimulator } from './simulator';
import {
  EmbeddedBroker,
  Received,
  recordMqtt,
  sleep,
  startBroker,
  waitFor,
} from '@pulse/test-support';

jest.setTimeout(30_000);

let broker: EmbeddedBroker;
beforeAll(async () => (broker = await startBroker()));
afterAll(() => broker.close());

function decodeAll(messages: Received[]): Array<{ m: Received; d: DecodedMessage }> {
  return messages.map((m) => ({ m, d: decodeDeviceMessage(m.topic, m.payload, m.at) }));
}

function rejectedOf(decoded: Array<{ m: Received; d: DecodedMessage }>): string[] {
  return decoded
    .filter(({ d }) => d.kind === 'rejected' || (d.kind === 'telemetry' && d.rejections.length > 0))
    .map(
      ({ m, d }) =>
        `${m.topic} ${m.payload.toString().slice(0, 80)} → ${JSON.stringify('rejections' in d ? d.rejections : d)}`,
    );
}

const statusOf = (messages: Received[], id: string): string[] =>
  messages.filter((m) => m.topic === `devices/${id}/status`).map((m) => m.payload.toString());

describe.each<[string, Partial<SimulatorConfig>]>([
  ['one connection per device, single readings, QoS 0', { prefix: 'it-a', qos: 0, batch: 1 }],
  ['one connection per device, batches of 3, QoS 1', { prefix: 'it-b', qos: 1, batch: 3 }],
  ['a pool of 2 connections', { prefix: 'it-c', connections: 2 }],
])('simulator against a real broker: %s', (_name, overrides) => {
  it('publishes only messages the decoder accepts, retains online + meta, and publishes offline on stop', async () => {
    const config: SimulatorConfig = {
      ...DEFAULTS,
      url: broker.url,
      devices: 5,
      rate: 10,
      quiet: true,
      seed: 7,
      ...overrides,
    };
    const tap = await recordMqtt(broker.url);
    // Aedes may deliver retained messages of this run to the tap as well as live ones: assert on live ones.
    const live = (): Received[] => tap.messages.filter((m) => !m.retain);
    const startedAt = Date.now();
    const sim = runSimulator(config);
    const ids = sim.devices.map((d) => d.id);
    expect(ids).toEqual([1, 2, 3, 4, 5].map((n) => `${config.prefix}-00${n}`));

    await waitFor(() => sim.stats().connected === 5, {
      timeoutMs: 5000,
      message: 'all devices connected',
    });
    await sleep(2000);

    // A late subscriber gets the retained status and meta of every device.
    const late = await recordMqtt(broker.url);
    await waitFor(() => late.messages.filter((m) => m.retain).length >= 10, {
      timeoutMs: 3000,
      message: 'retained status + meta',
    });
    for (const id of ids) {
      const retained = late.messages.filter(
        (m) => m.retain && parseTopic(m.topic)?.deviceId === id,
      );
      expect(retained.map((m) => parseTopic(m.topic)?.kind).sort()).toEqual(['meta', 'status']);
      const status = retained.find((m) => m.topic.endsWith('/status'));
      expect(status?.payload.toString()).toBe('online');
      const meta = decodeDeviceMessage(
        `devices/${id}/meta`,
        retained.find((m) => m.topic.endsWith('/meta'))?.payload ?? '',
        Date.now(),
      );
      expect(meta).toMatchObject({
        kind: 'meta',
        meta: { name: expect.any(String), group: expect.any(String), intervalMs: 100 },
      });
    }
    await late.close();

    await sim.stop();
    const ranForS = (Date.now() - startedAt) / 1000;
    await waitFor(() => ids.every((id) => statusOf(live(), id).includes('offline')), {
      timeoutMs: 3000,
      message: 'offline statuses',
    });
    const stats = sim.stats();
    await tap.close();

    const decoded = decodeAll(tap.messages);
    expect(rejectedOf(decoded)).toEqual([]);
    const telemetry = decoded.flatMap(({ d }) => (d.kind === 'telemetry' ? d.readings : []));
    // 10/s per device for as long as it ran (at least 2 s), never more.
    for (const id of ids) {
      const mine = telemetry.filter((r) => r.deviceId === id);
      expect(mine.length).toBeGreaterThanOrEqual(18);
      expect(mine.length).toBeLessThanOrEqual(Math.ceil(10 * ranForS) + 1);
      // Timestamps increase by the interval: spread evenly, no bursts of equal ts.
      const ts = mine.map((r) => r.ts);
      expect(ts.every((t, i) => i === 0 || t - ts[i - 1] >= 90)).toBe(true);
      expect([id, statusOf(live(), id)]).toEqual([id, ['online', 'offline']]);
    }
    if (config.batch > 1) {
      expect(
        tap.messages.some((m) => m.topic.endsWith('/telemetry') && m.payload[0] === 0x5b),
      ).toBe(true);
    }
    expect(stats.readings).toBe(telemetry.length);
    expect(stats.errors).toBe(0);

    // After stop, the retained status says offline.
    const after = await recordMqtt(broker.url);
    await waitFor(() => after.messages.filter((m) => m.topic.endsWith('/status')).length >= 5, {
      timeoutMs: 3000,
      message: 'retained offline',
    });
    for (const id of ids) expect(statusOf(after.messages, id)).toEqual(['offline']);
    await after.close();
  });
});

describe('load mode against a real broker', () => {
  it('publishes as fast as it can, every reading stamped at publish time and valid', async () => {
    const tap = await recordMqtt(broker.url, 'devices/+/telemetry');
    const sim = runSimulator({
      ...DEFAULTS,
      url: broker.url,
      devices: 3,
      load: true,
      quiet: true,
      prefix: 'it-load',
      batch: 2,
    });
    await waitFor(() => sim.stats().connected === 3, { timeoutMs: 5000, message: 'connected' });
    await sleep(1000);
    await sim.stop();
    await sleep(300);
    await tap.close();
    const decoded = decodeAll(tap.messages);
    expect(rejectedOf(decoded)).toEqual([]);
    const readings = decoded.flatMap(({ m, d }) =>
      d.kind === 'telemetry' ? d.readings.map((r) => ({ r, at: m.at })) : [],
    );
    // Far above the paced default of 1/s per device.
    expect(readings.length).toBeGreaterThan(1000);
    expect(new Set(readings.map(({ r }) => r.deviceId))).toEqual(
      new Set(['it-load-001', 'it-load-002', 'it-load-003']),
    );
    // Stamped at publish: never after receipt, and received soon after.
    const late = readings.filter(({ r, at }) => r.ts > at || at - r.ts > 5000);
    expect(late.slice(0, 3)).toEqual([]);
  });
});

describe('publisher outages', () => {
  it('an outage drops the connection so the broker fires the Last Will, and the device comes back online', async () => {
    const device = new DeviceModel(
      { id: 'it-lwt-001', kind: 'env-sensor', group: 'lab', name: 'LWT' },
      mulberry32(1),
    );
    const tap = await recordMqtt(broker.url, 'devices/it-lwt-001/status');
    const publisher = new Publisher([device], {
      url: broker.url,
      qos: 0,
      connections: 1,
      intervalMs: 1000,
    });
    expect(publisher.perDevice).toBe(true);
    publisher.start();
    await waitFor(() => statusOf(tap.messages, 'it-lwt-001').length === 1, {
      timeoutMs: 3000,
      message: 'online',
    });
    publisher.deviceOffline(device);
    // Nobody published 'offline' but the broker, from the will.
    await waitFor(() => statusOf(tap.messages, 'it-lwt-001').length === 2, {
      timeoutMs: 3000,
      message: 'Last Will',
    });
    publisher.deviceOnline(device);
    await waitFor(() => statusOf(tap.messages, 'it-lwt-001').length === 3, {
      timeoutMs: 3000,
      message: 'back online',
    });
    await publisher.stop();
    await waitFor(() => statusOf(tap.messages, 'it-lwt-001').length === 4, {
      timeoutMs: 3000,
      message: 'offline on stop',
    });
    await tap.close();
    expect(statusOf(tap.messages, 'it-lwt-001')).toEqual([
      'online',
      'offline',
      'online',
      'offline',
    ]);
  });

  it('skips readings instead of queueing them while disconnected', async () => {
    const device = new DeviceModel(
      { id: 'it-nobroker', kind: 'machine', group: 'lab', name: 'x' },
      mulberry32(1),
    );
    const publisher = new Publisher([device], {
      url: 'mqtt://127.0.0.1:1',
      qos: 0,
      connections: 1,
      intervalMs: 1000,
    });
    publisher.start();
    expect(publisher.publishTelemetry(device, '{"values":{"a":1}}', 1)).toBe(false);
    expect(publisher.counters.skipped).toBe(1);
    await publisher.stop(500);
  });
});

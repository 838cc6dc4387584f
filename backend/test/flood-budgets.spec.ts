import type { HistoryResponse, IngestStats, Reading } from '@pulse/protocol';
import { LIVE_NAMESPACE, telemetryTopic } from '@pulse/protocol';
import {
  closeLive,
  connectLive,
  getJson,
  SIMULATOR_MAIN,
  sleep,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import {
  connectMqtt,
  endMqtt,
  Mosquitto,
  mosquittoAvailable,
  publish,
  publishTelemetry,
  startMosquitto,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DeviceCredentialsService } from '../src/app/device-credentials/device-credentials.service';
import { PulseHandle } from '../src/app/pulse';
import { simulatedFleet, SIMULATOR_USERNAME } from '../src/app/simulator/simulator-identity';
import { SimulatorRepository } from '../src/app/simulator/simulator.repository';
import { startTestPulse } from './support/pulse';

// Real: the backend in this process (embedded Aedes, ingest, registry, history, live layer),
// Debian's mosquitto as an external broker for the registry and history floods (when installed),
// mqtt.js devices, the built simulator CLI, socket.io-client viewers, and a raw `ws` websocket
// that stops reading.
//
// "On time": every reading of the valid device reaches the viewer within ON_TIME_MS of its
// timestamp (stamped by the device as it publishes), fixed here before anything is measured.
const ON_TIME_MS = 1000;

const stats = async (pulse: PulseHandle): Promise<IngestStats> =>
  (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body;

/** A viewer subscribed to `deviceId`, noting how late each reading arrives. */
async function watch(pulse: PulseHandle, deviceId: string) {
  const socket = await connectLive(pulse.httpUrl);
  const readings: Reading[] = [];
  const lateness: number[] = [];
  socket.on('readings', (batch) => {
    const now = Date.now();
    for (const reading of batch) {
      readings.push(reading);
      lateness.push(now - reading.ts);
    }
  });
  const ack = await subscribe(socket, { devices: [deviceId], history: false });
  expect(ack.ok).toBe(true);
  return { socket, readings, lateness, close: () => closeLive(socket) };
}

/** A valid device: `count` readings `{n}`, one every `everyMs`, stamped as they leave (QoS 1). */
async function stream(
  device: MqttClient,
  deviceId: string,
  count: number,
  everyMs: number,
): Promise<void> {
  for (let n = 0; n < count; n++) {
    await publish(
      device,
      telemetryTopic(deviceId),
      JSON.stringify({ ts: Date.now(), values: { n } }),
      1,
    );
    await sleep(everyMs);
  }
}

/** The viewer got every reading, in order, each within ON_TIME_MS. */
async function expectCompleteAndOnTime(viewer: Awaited<ReturnType<typeof watch>>, count: number) {
  await waitFor(() => viewer.readings.length >= count, { timeoutMs: 5000 });
  expect(viewer.readings.map((r) => r.values['n'])).toEqual(
    Array.from({ length: count }, (_, n) => n),
  );
  expect(Math.max(...viewer.lateness)).toBeLessThan(ON_TIME_MS);
}

describe('MQTT publish flood on the embedded broker', () => {
  let pulse: PulseHandle;
  const PER_SECOND = 20;
  beforeAll(async () => {
    // Every client held to the rate (the default exempts loopback: the simulator and the bench).
    pulse = await startTestPulse({
      MQTT_MAX_PUBLISH_PER_SECOND: String(PER_SECOND),
      CONNECTION_CAP_EXEMPT: 'none',
    });
  });
  afterAll(() => pulse?.close());

  it('drops a flooding client over its budget and disconnects it, while a device streams on time', async () => {
    const viewer = await watch(pulse, 'steady');
    const device = await connectMqtt(pulse.mqttUrl, { clientId: 'steady' });
    const flooder = await connectMqtt(pulse.mqttUrl, { clientId: 'flooder' });
    const closed = new Promise<void>((resolve) => flooder.once('close', () => resolve()));

    const streaming = stream(device, 'steady', 30, 100);
    const budget = PER_SECOND * 10;
    // QoS 0 as fast as the socket takes it: 5 times the 10 s budget in well under a second.
    // Distinct timestamps, so every accepted message adds a history point.
    const base = Date.now() - 60_000;
    for (let i = 0; i < budget * 5 && flooder.connected; i++)
      flooder.publish(telemetryTopic('flooder'), `{"ts":${base + i},"values":{"i":${i}}}`, {
        qos: 0,
      });
    await closed;
    await streaming;
    await expectCompleteAndOnTime(viewer, 30);

    const after = await stats(pulse);
    expect(after.security?.refused['mqtt_publish_rate']).toBe(budget);
    expect(after.security?.refused['mqtt_publish_flood']).toBeGreaterThanOrEqual(1);
    // What got through is the budget, no more.
    const history = await getJson<HistoryResponse>(`${pulse.httpUrl}/api/devices/flooder/history`);
    expect(history.body.series[0].t.length).toBe(budget);
    expect(device.connected).toBe(true);
    flooder.end(true);
    await endMqtt(device);
    await viewer.close();
  });
});

describe("the built-in simulator's own identity on the embedded broker", () => {
  let pulse: PulseHandle;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pulse-flood-sim-'));
    // A budget the pooled simulator exceeds 30 times over, and no address exempt.
    pulse = await startTestPulse({
      MQTT_MAX_PUBLISH_PER_SECOND: '10',
      CONNECTION_CAP_EXEMPT: 'none',
    });
  });
  afterAll(async () => {
    await pulse?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is not held to the per-client rate: two pooled connections publish for 300 devices', async () => {
    // As PulseRuntime starts it with SIMULATOR=on: its own service identity, the built CLI.
    const password = pulse.app
      .get(DeviceCredentialsService)
      .registerService(SIMULATOR_USERNAME, simulatedFleet(300));
    const simulator = new SimulatorRepository();
    simulator.start({
      mqttUrl: pulse.mqttUrl,
      devices: 300,
      rate: 2,
      script: SIMULATOR_MAIN,
      login: { username: SIMULATOR_USERNAME, password, dir: dataDir },
    });
    try {
      // ~600 messages/s on 2 connections, against a budget of 10/s each.
      const after = await waitFor(
        async () => {
          const s = await stats(pulse);
          return s.devices.known === 300 && s.messages.telemetry >= 1800 ? s : null;
        },
        { timeoutMs: 15_000, message: '300 simulated devices and 1,800 telemetry messages' },
      );
      expect(after.security?.refused).toMatchObject({
        mqtt_publish_rate: 0,
        mqtt_publish_flood: 0,
      });
    } finally {
      await simulator.stop();
    }
  });
});

describe('subscribe acks to a socket that never reads', () => {
  let pulse: PulseHandle;
  beforeAll(async () => {
    pulse = await startTestPulse({ HISTORY_MAX_POINTS: '10000' });
    // A device with 64 metrics × 5,000 points of history: one ack of it is ~7 MB of JSON.
    const seeder = await connectMqtt(pulse.mqttUrl);
    const start = Date.now() - 600_000;
    for (let batch = 0; batch < 5000 / 80; batch++) {
      const readings = Array.from({ length: 80 }, (_, i) => {
        const values: Record<string, number> = {};
        for (let m = 0; m < 64; m++) values[`m${m}`] = m + i / 10;
        return { ts: start + (batch * 80 + i) * 100, values };
      });
      await publish(seeder, telemetryTopic('archive'), JSON.stringify(readings), 1);
    }
    await endMqtt(seeder);
  });
  afterAll(() => pulse?.close());

  /** Socket.IO by hand over a raw websocket, so the test can stop reading (ws's `pause()`). */
  async function hoarder(): Promise<{ ws: WebSocket; subscribe(id: number): void }> {
    const url = `${pulse.httpUrl.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('0')) ws.send(`40${LIVE_NAMESPACE},`); // engine.io open: join /live
        if (text.startsWith(`40${LIVE_NAMESPACE},`)) resolve();
      });
      ws.once('error', reject);
    });
    return {
      ws,
      subscribe: (id) =>
        ws.send(
          `42${LIVE_NAMESPACE},${id}${JSON.stringify(['subscribe', { devices: ['archive'], maxPoints: 5000 }])}`,
        ),
    };
  }

  it('answers busy, then disconnects it, while a viewer streams on time', async () => {
    const viewer = await watch(pulse, 'steady');
    const device = await connectMqtt(pulse.mqttUrl);
    const client = await hoarder();
    client.ws.pause();
    const before = await stats(pulse);

    const streaming = stream(device, 'steady', 30, 100);
    // 10 subscribes a second (under the per-socket event rate), each asking for ~7 MB.
    let asked = 0;
    while ((await stats(pulse)).live.ackDisconnects === before.live.ackDisconnects) {
      if (asked > 100) throw new Error('the hoarder was never disconnected');
      client.subscribe(asked++);
      await sleep(100);
    }
    await streaming;
    await expectCompleteAndOnTime(viewer, 30);

    const after = await stats(pulse);
    const count = (s: IngestStats, key: 'ackRefusals' | 'ackDisconnects') => s.live[key] ?? 0;
    expect(count(after, 'ackRefusals') - count(before, 'ackRefusals')).toBeGreaterThanOrEqual(10);
    expect(count(after, 'ackDisconnects') - count(before, 'ackDisconnects')).toBe(1);
    // What it was sent before it was cut off: the acks that fit the kernel's buffers and the
    // bound, each ~7 MB. Read it all now: busy answers came after the last snapshot.
    const acks: string[] = [];
    client.ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith(`43${LIVE_NAMESPACE},`)) acks.push(text.slice(0, 200));
    });
    client.ws.resume();
    await new Promise((resolve) => client.ws.once('close', resolve));
    const served = acks.filter((a) => a.includes('"ok":true')).length;
    const busy = acks.filter((a) => a.includes('busy')).length;
    expect(busy).toBeGreaterThanOrEqual(9);
    expect(served).toBeLessThan(asked / 2);
    await endMqtt(device);
    await viewer.close();
  });
});

// The budgets live in the ingest, so they hold whichever broker feeds it.
describe('retained messages of made-up devices on the embedded broker', () => {
  let pulse: PulseHandle;
  const MAX_DEVICES = 5; // so at most 2 × 5 topics are retained
  beforeAll(async () => {
    pulse = await startTestPulse({
      MAX_DEVICES: String(MAX_DEVICES),
      DEVICE_IDLE_EVICT_MS: '1000',
    });
  });
  afterAll(() => pulse?.close());

  /** The ids among `ids` whose status a new subscriber is handed as a retained message. */
  async function retainedStatus(ids: string[]): Promise<string[]> {
    const client = await connectMqtt(pulse.mqttUrl);
    const seen = new Set<string>();
    client.on('message', (topic, _payload, packet) => {
      if (packet.retain) seen.add(topic.split('/')[1]);
    });
    await client.subscribeAsync(
      ids.map((id) => `devices/${id}/status`),
      { qos: 1 },
    );
    await sleep(500);
    await endMqtt(client);
    return ids.filter((id) => seen.has(id));
  }

  it('keeps at most 2 × MAX_DEVICES retained topics, and an evicted device gives its room back', async () => {
    const fakes = Array.from({ length: 20 }, (_, i) => `retained-fake-${i}`);
    const flooder = await connectMqtt(pulse.mqttUrl);
    for (const id of fakes) await publish(flooder, `devices/${id}/status`, 'online', 1, true);
    const kept = await retainedStatus(fakes);
    expect(kept).toEqual(fakes.slice(0, 2 * MAX_DEVICES));
    expect((await stats(pulse)).security?.refused['mqtt_retained_full']).toBe(10);

    // The first MAX_DEVICES fakes are the registry's; idle for > 1 s, they make room for new
    // devices, and their retained status goes with them.
    await sleep(1300);
    const device = await connectMqtt(pulse.mqttUrl);
    for (let i = 0; i < MAX_DEVICES; i++)
      await publishTelemetry(device, `real-${i}`, { values: { t: i } });
    await waitFor(async () => ((await stats(pulse)).devices.evicted ?? 0) >= MAX_DEVICES);
    expect(await retainedStatus(fakes)).toEqual(fakes.slice(MAX_DEVICES, 2 * MAX_DEVICES));
    await publish(device, 'devices/real-0/status', 'online', 1, true);
    expect(await retainedStatus(['real-0'])).toEqual(['real-0']);
    await endMqtt(device);
    await endMqtt(flooder);
  });
});

const brokers: [string, boolean][] = [
  ['embedded Aedes', false],
  ...(mosquittoAvailable() ? [['Debian mosquitto', true] as [string, boolean]] : []),
];

describe.each(brokers)('registry and history floods of made-up devices (%s)', (_name, external) => {
  let pulse: PulseHandle;
  let mosquitto: Mosquitto | undefined;
  const MAX_DEVICES = 40;
  const TOTAL_POINTS = 5000;
  beforeAll(async () => {
    if (external) mosquitto = await startMosquitto();
    pulse = await startTestPulse({
      MAX_DEVICES: String(MAX_DEVICES),
      DEVICE_IDLE_EVICT_MS: '1000',
      HISTORY_MAX_TOTAL_POINTS: String(TOTAL_POINTS),
      ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}),
    });
  });
  afterAll(async () => {
    await pulse?.close();
    await mosquitto?.stop();
  });

  /** One reading from each of `count` made-up devices `${prefix}-{i}` (QoS 1, one batch of `points`). */
  async function flood(client: MqttClient, prefix: string, count: number, points = 1) {
    const ts = Date.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        publish(
          client,
          telemetryTopic(`${prefix}-${i}`),
          JSON.stringify(
            Array.from({ length: points }, (_, k) => ({ ts: ts - k, values: { a: k, b: k } })),
          ),
          1,
        ),
      ),
    );
  }

  /**
   * A viewer of `deviceId` while the device streams `count` readings and `attack` runs through a
   * second client; then the stream is checked complete and on time.
   */
  async function whileStreaming(
    deviceId: string,
    count: number,
    attack: (flooder: MqttClient) => Promise<void>,
  ): Promise<Reading[]> {
    const viewer = await watch(pulse, deviceId);
    const device = await connectMqtt(pulse.mqttUrl);
    const flooder = await connectMqtt(pulse.mqttUrl);
    const streaming = stream(device, deviceId, count, 100);
    await attack(flooder);
    await streaming;
    await expectCompleteAndOnTime(viewer, count);
    await endMqtt(flooder);
    await endMqtt(device);
    await viewer.close();
    return viewer.readings;
  }

  it('evicts idle made-up devices to let new ones in, while a real device keeps its entry and history', async () => {
    // Three waves of MAX_DEVICES made-up ids, 3 × MAX_DEVICES in all, each wave idle (> 1 s)
    // by the time the next one comes.
    const known: number[] = [];
    await whileStreaming('steady', 40, async (flooder) => {
      for (let wave = 0; wave < 3; wave++) {
        await flood(flooder, `fake${wave}`, MAX_DEVICES);
        known.push((await stats(pulse)).devices.known);
        await sleep(1300);
      }
    });

    const after = await stats(pulse);
    expect(Math.max(...known, after.devices.known)).toBeLessThanOrEqual(MAX_DEVICES);
    // Waves 2 and 3 got in by evicting the one before (all but the room the steady device takes).
    expect(after.devices.evicted).toBeGreaterThanOrEqual(2 * (MAX_DEVICES - 1));
    const steady = await getJson<HistoryResponse>(`${pulse.httpUrl}/api/devices/steady/history`);
    expect(steady.body.series[0].t).toHaveLength(40);
    expect((await getJson(`${pulse.httpUrl}/api/devices/fake0-0`)).status).toBe(404);
  });

  it('keeps all history within HISTORY_MAX_TOTAL_POINTS under a flood of points', async () => {
    const seen: number[] = [];
    // 10 devices × 2 metrics × 400 points a wave, 3 waves: 24,000 points at a 5,000 budget.
    const streamed = await whileStreaming('steady2', 30, async (flooder) => {
      for (let wave = 0; wave < 3; wave++) {
        await flood(flooder, `hog${wave}`, 10, 400);
        seen.push((await stats(pulse)).history.points);
        await sleep(400);
      }
    });

    const after = await stats(pulse);
    seen.push(after.history.points);
    expect(after.history.limit).toBe(TOTAL_POINTS);
    expect(Math.max(...seen)).toBeLessThanOrEqual(TOTAL_POINTS);
    expect(after.history.overBudget).toBeGreaterThan(0);
    // At the budget the steady device's series rolls over: its newest reading is in history.
    const steady = await getJson<HistoryResponse>(`${pulse.httpUrl}/api/devices/steady2/history`);
    expect(steady.body.series[0].t.at(-1)).toBe(streamed.at(-1)?.ts);
  });
});

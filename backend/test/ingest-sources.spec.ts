import {
  DeviceInfo,
  DeviceOrigin,
  HistoryResponse,
  IngestStats,
  nameToId,
  Reading,
} from '@pulse/protocol';
import {
  closeLive,
  connectLive,
  connectMqtt,
  endMqtt,
  getJson,
  Mosquitto,
  mosquittoAvailable,
  publish,
  startMosquitto,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { PulseHandle } from '../src/app/pulse';
import { startTestPulse } from './support/pulse';

// Real: the embedded broker (its ACL included) and Debian's mosquitto as an external broker, the
// ingest with the presets on, the live hub, a stock socket.io-client and the HTTP API. Devices
// publish what their firmware publishes, on their own topics (issue 14), and show up as Pulse
// devices with live readings, history and status.

const PRESETS = { INGEST_PRESETS: 'tasmota,zigbee2mqtt,shelly,esphome' };

/** Every preset end to end: a device of each publishes; the readings reach /live and history. */
async function everyPreset(httpUrl: string, brokerUrl: string): Promise<void> {
  const api = (path: string) => `${httpUrl}/api${path}`;
  const socket = await connectLive(httpUrl);
  const d = await connectMqtt(brokerUrl);
  try {
    const got: Reading[] = [];
    socket.on('readings', (batch: Reading[]) => got.push(...batch));
    // A zigbee2mqtt friendly name with a slash and a space: an id of its own, the name kept.
    const hall = nameToId('Hall/Sensor 1') as string;
    const devices = ['plug-7', hall, 'shellyplus1pm-80646fe1b0b4', 'garden'];
    expect(await subscribe(socket, { devices, history: false })).toMatchObject({ ok: true });
    await publish(d, 'tele/plug-7/SENSOR', '{"Time":"2026-12-02T05:00:00","ENERGY":{"Power":45}}');
    // The bridge's own topic: set aside (on the embedded broker, accepted: the bridge stays on).
    await publish(d, 'zigbee2mqtt/bridge/state', '{"state":"online"}', 1, true);
    await publish(d, 'zigbee2mqtt/Hall/Sensor 1', '{"temperature":21.5,"occupancy":true}');
    await publish(
      d,
      'shellyplus1pm-80646fe1b0b4/events/rpc',
      `{"src":"shellyplus1pm-80646fe1b0b4","method":"NotifyStatus","params":{"ts":${Date.now() / 1000},"switch:0":{"apower":12.4}}}`,
    );
    await publish(d, 'garden/sensor/soil_moisture/state', '41.5');
    await publish(d, 'garden/binary_sensor/rain/state', 'ON');
    await publish(d, 'tele/plug-7/LWT', 'Offline', 1, true);
    const values = (id: string) =>
      Object.assign({}, ...got.filter((r) => r.deviceId === id).map((r) => r.values));
    await waitFor(
      () =>
        devices.every((id) => got.some((r) => r.deviceId === id)) && values('garden').rain === 1,
      {
        timeoutMs: 5000,
        message: `readings of ${devices.join(', ')} (got ${[...new Set(got.map((r) => r.deviceId))].join(', ')})`,
      },
    );
    expect(values('plug-7')).toEqual({ 'ENERGY.Power': 45 });
    expect(values(hall)).toEqual({ temperature: 21.5, occupancy: 1 });
    expect(values('shellyplus1pm-80646fe1b0b4')).toEqual({ 'switch_0.apower': 12.4 });
    expect(values('garden')).toEqual({ soil_moisture: 41.5, rain: 1 });

    // The device view's line: where it came from and what its format left out.
    const origin = await getJson<DeviceOrigin>(api('/devices/plug-7/origin'));
    expect(origin.body).toMatchObject({
      source: 'tasmota',
      skipped: [{ field: 'Time', reason: 'string' }],
    });
    expect((await getJson<DeviceInfo>(api(`/devices/${hall}`))).body.meta).toEqual({
      name: 'Hall/Sensor 1',
      units: { temperature: '°C' },
    });
    // The units Tasmota documents for its energy meter, on the device page.
    expect((await getJson<DeviceInfo>(api('/devices/plug-7'))).body.meta).toEqual({
      units: { 'ENERGY.Power': 'W' },
    });
    const history = await getJson<HistoryResponse>(api('/devices/garden/history'));
    expect(history.body.series.map((s) => s.metric).sort()).toEqual(['rain', 'soil_moisture']);
    await waitFor(
      async () => (await getJson<DeviceInfo>(api('/devices/plug-7'))).body.status === 'offline',
      { timeoutMs: 3000, message: 'plug-7 offline from its LWT' },
    );
    const stats = (await getJson<IngestStats>(api('/stats'))).body;
    expect(stats.sources?.messages).toMatchObject({
      tasmota: 2,
      zigbee2mqtt: 2,
      shelly: 1,
      esphome: 2,
    });
    expect(stats.sources?.ignored).toEqual({ zigbee2mqtt: 1 });
    expect(stats.rejected.topic).toBe(0);
    expect(stats.sources?.filters).toEqual(
      expect.arrayContaining(['tele/+/SENSOR', 'zigbee2mqtt/#', '+/events/rpc', '+/status']),
    );
  } finally {
    await endMqtt(d);
    closeLive(socket);
  }
}

describe('ingest sources on the embedded broker', () => {
  let pulse: PulseHandle;
  beforeAll(async () => (pulse = await startTestPulse(PRESETS)));
  afterAll(() => pulse?.close());

  it('turns each preset’s messages into live readings, history and status of the device its topic names', () =>
    everyPreset(pulse.httpUrl, pulse.mqttUrl));

  it('counts a publish on a topic nothing names, with the topic, and drops it at the broker', async () => {
    const stray = await connectMqtt(pulse.mqttUrl);
    let closed = false;
    stray.once('close', () => (closed = true));
    stray.publish('home/kitchen/temp', '21', { qos: 0 });
    // MQTT 3.1.1 has no negative PUBACK: dropped, the sender kept (its next message is read).
    await stray.publishAsync('home/kitchen/humidity', '40', { qos: 1 });
    expect(closed).toBe(false);
    await endMqtt(stray);
    const stats = (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body;
    expect(stats.sources?.unmatchedTopics).toContain('home/kitchen/temp');
    expect(stats.rejected.topic).toBeGreaterThan(0);
  });
});

(mosquittoAvailable() ? describe : describe.skip)('ingest sources through mosquitto', () => {
  let mosquitto: Mosquitto;
  let pulse: PulseHandle;
  beforeAll(async () => {
    mosquitto = await startMosquitto();
    pulse = await startTestPulse({ ...PRESETS, MQTT_URL: mosquitto.url });
  });
  afterAll(async () => {
    await pulse?.close();
    await mosquitto?.stop();
  });

  it('subscribes every preset’s topics on the external broker and reads them the same way', () =>
    everyPreset(pulse.httpUrl, mosquitto.url));

  it('counts a message no source names that the external broker delivered? no: it is never subscribed', async () => {
    // An external broker delivers only what the gateway subscribed (the contract's and the
    // sources' filters): a stray topic costs the gateway nothing and is not counted.
    const stray = await connectMqtt(mosquitto.url);
    await publish(stray, 'home/kitchen/temp', '21', 1);
    await endMqtt(stray);
    const stats = (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body;
    expect(stats.sources?.unmatchedTopics).not.toContain('home/kitchen/temp');
  });
});

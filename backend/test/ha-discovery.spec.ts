import { DeviceInfo, HistoryResponse, IngestStats, Reading } from '@pulse/protocol';
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
// ingest with Home Assistant discovery on, the live hub, a stock socket.io-client and the HTTP
// API. A device announces itself as ESPHome does (birth message, retained announcements, then
// states) and a Tasmota plug's announcement maps one field of its SENSOR JSON: no configuration
// per device (issue 14).

const ESP = 'a4cf12b3c4d5';
const PLUG = '1A2B3C';

const announcements: [string, Record<string, unknown>][] = [
  [
    'homeassistant/sensor/livingroom/temperature/config',
    {
      dev_cla: 'temperature',
      unit_of_meas: '°C',
      name: 'Temperature',
      stat_t: 'livingroom/sensor/temperature/state',
      avty_t: 'livingroom/status',
      uniq_id: 'ESPsensortemperature',
      dev: { ids: ESP, name: 'livingroom', mf: 'espressif' },
    },
  ],
  [
    'homeassistant/binary_sensor/livingroom/window/config',
    {
      dev_cla: 'window',
      name: 'Window',
      stat_t: 'livingroom/binary_sensor/window/state',
      avty_t: 'livingroom/status',
      uniq_id: 'ESPbinary_sensorwindow',
      dev: { ids: ESP, name: 'livingroom' },
    },
  ],
  [
    `homeassistant/sensor/${PLUG}_ENERGY_Power/config`,
    {
      name: 'Tasmota ENERGY Power',
      stat_t: 'tele/tasmota_1A2B3C/SENSOR',
      avty_t: 'tele/tasmota_1A2B3C/LWT',
      pl_avail: 'Online',
      pl_not_avail: 'Offline',
      uniq_id: `${PLUG}_ENERGY_Power`,
      dev: { ids: [PLUG] },
      unit_of_meas: 'W',
      dev_cla: 'power',
      val_tpl: "{{value_json['ENERGY'].Power}}",
    },
  ],
  ['homeassistant/switch/livingroom/relay/config', { name: 'Relay', stat_t: 'x/relay' }],
];

async function discovered(httpUrl: string, brokerUrl: string): Promise<void> {
  const api = (path: string) => `${httpUrl}/api${path}`;
  const device = async (id: string) => (await getJson<DeviceInfo>(api(`/devices/${id}`))).body;
  const d = await connectMqtt(brokerUrl);
  const socket = await connectLive(httpUrl);
  try {
    // ESPHome's order: the birth message, then the retained announcements.
    await publish(d, 'livingroom/status', 'online', 1, true);
    for (const [topic, body] of announcements)
      await publish(d, topic, JSON.stringify(body), 1, true);
    await waitFor(
      async () => (await device(ESP)).status === 'online' && (await device(PLUG)).meta?.units,
      { timeoutMs: 5000, message: 'the announced devices, one online from its birth message' },
    );
    expect(await device(ESP)).toMatchObject({
      status: 'online',
      meta: { name: 'livingroom', units: { temperature: '°C' } },
    });
    expect((await device(PLUG)).meta).toEqual({
      name: 'Tasmota ENERGY Power',
      units: { 'ENERGY.Power': 'W' },
    });

    const got: Reading[] = [];
    socket.on('readings', (batch: Reading[]) => got.push(...batch));
    expect(await subscribe(socket, { devices: [ESP, PLUG], history: false })).toMatchObject({
      ok: true,
    });
    await publish(d, 'livingroom/sensor/temperature/state', '21.5');
    await publish(d, 'livingroom/binary_sensor/window/state', 'ON');
    await publish(
      d,
      'tele/tasmota_1A2B3C/SENSOR',
      '{"Time":"2026-12-02T05:00:00","ENERGY":{"Power":45,"Voltage":231}}',
    );
    const values = (id: string) =>
      Object.assign({}, ...got.filter((r) => r.deviceId === id).map((r) => r.values));
    await waitFor(() => values(ESP).window === 1 && values(PLUG)['ENERGY.Power'] === 45, {
      timeoutMs: 5000,
      message: `readings of the discovered devices (got ${JSON.stringify(got)})`,
    });
    expect(values(ESP)).toEqual({ temperature: 21.5, window: 1 });
    // Only what was announced: the Voltage field has no entity.
    expect(values(PLUG)).toEqual({ 'ENERGY.Power': 45 });
    const history = await getJson<HistoryResponse>(api(`/devices/${ESP}/history`));
    expect(history.body.series.map((s) => s.metric).sort()).toEqual(['temperature', 'window']);

    await publish(d, 'livingroom/status', 'offline', 1, true);
    await waitFor(async () => (await device(ESP)).status === 'offline', {
      timeoutMs: 3000,
      message: 'offline from its availability topic',
    });

    // An empty retained announcement removes the entity; the switch was skipped, not fatal.
    await publish(d, 'homeassistant/binary_sensor/livingroom/window/config', '', 1, true);
    await waitFor(
      async () =>
        (await getJson<IngestStats>(api('/stats'))).body.sources?.discovery?.removed === 1,
      { timeoutMs: 3000, message: 'the window entity removed' },
    );
    const stats = (await getJson<IngestStats>(api('/stats'))).body.sources?.discovery;
    expect(stats).toMatchObject({ entities: 2, skipped: { component: 1 } });
  } finally {
    closeLive(socket);
    await endMqtt(d);
  }
}

interface Topology {
  pulse: PulseHandle;
  brokerUrl: string;
  stop(): Promise<void>;
}

// Discovery alone on both brokers: with ESPHome's preset on too, its topics are the preset's
// (it names their device), and discovery leaves them to it (bridge-discovery.spec.ts).
const topologies: [string, () => Promise<Topology>][] = [
  [
    'on the embedded broker',
    async () => {
      const pulse = await startTestPulse({ INGEST_PRESETS: 'homeassistant' });
      return { pulse, brokerUrl: pulse.mqttUrl, stop: () => pulse.close() };
    },
  ],
];
if (mosquittoAvailable())
  topologies.push([
    'through mosquitto (announced topics subscribed as they come)',
    async () => {
      const mosquitto: Mosquitto = await startMosquitto();
      const pulse = await startTestPulse({
        INGEST_PRESETS: 'homeassistant',
        MQTT_URL: mosquitto.url,
      });
      const stop = async () => {
        await pulse.close();
        await mosquitto.stop();
      };
      return { pulse, brokerUrl: mosquitto.url, stop };
    },
  ]);

describe.each(topologies)('Home Assistant discovery %s', (_name, start) => {
  let topology: Topology;
  beforeAll(async () => (topology = await start()));
  afterAll(() => topology?.stop());

  it('makes announced sensors Pulse devices with names, units, readings and availability', () =>
    discovered(topology.pulse.httpUrl, topology.brokerUrl));
});

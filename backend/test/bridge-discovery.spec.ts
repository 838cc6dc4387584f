import type { DeviceInfo, IngestStats } from '@pulse/protocol';
import { connectMqtt, getJson, publish, waitFor } from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import {
  AdminApi,
  createBridgeCredentials,
  createDeviceCredentials,
  grantedQos,
  publishKept,
} from './support/broker-identities';
import { adminAuth, usePulse } from './support/pulse';

// Real: the backend in this process with its embedded Aedes, the zigbee2mqtt and homeassistant
// presets, anonymous devices off; mqtt.js clients playing a zigbee2mqtt bridge that also
// announces Home Assistant discovery (a payload-named topic any bridge may publish), and a
// device with its own credentials publishing on its zigbee2mqtt topics.
describe('Home Assistant discovery from a bridge, next to a device with its own credentials', () => {
  const fixture = usePulse({
    env: { ANONYMOUS_DEVICES: 'false', INGEST_PRESETS: 'zigbee2mqtt,homeassistant' },
  });
  const open: MqttClient[] = [];
  let admin: AdminApi;

  beforeAll(async () => {
    admin = { api: fixture.api, admin: await adminAuth(fixture.pulse.httpUrl) };
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.end(true);
  });

  const stats = async () => (await getJson<IngestStats>(fixture.api('/stats'))).body;
  const device = async (deviceId: string) =>
    getJson<DeviceInfo>(fixture.api(`/devices/${encodeURIComponent(deviceId)}`));
  const connect = async (options: Parameters<typeof connectMqtt>[1]) => {
    const client = await connectMqtt(fixture.pulse.mqttUrl, options);
    client.on('error', () => undefined);
    open.push(client);
    return client;
  };

  it("cannot announce a device's topics as another device's: the device keeps publishing, the bridge never reads or overwrites them", async () => {
    const owned = await createDeviceCredentials(admin, 'Hall_Sensor');
    const hall = await connect({ username: 'Hall_Sensor', password: owned.secret });
    await publish(hall, 'zigbee2mqtt/Hall_Sensor/availability', '{"state":"online"}', 1, true);
    await waitFor(async () => (await device('Hall_Sensor')).body.status === 'online', {
      message: 'Hall_Sensor online',
    });

    const bridge = await createBridgeCredentials(admin, 'house');
    const z2m = await connect({
      clientId: 'z2m-house',
      username: bridge.username,
      password: bridge.secret,
    });
    const before = (await stats()).sources?.discovery?.announcements ?? 0;
    // The announcement names the device's topics, and a device id of the bridge's choosing.
    await publishKept(
      z2m,
      'homeassistant/sensor/x/t/config',
      JSON.stringify({
        stat_t: 'zigbee2mqtt/Hall_Sensor',
        avty_t: 'zigbee2mqtt/Hall_Sensor/availability',
        val_tpl: '{{ value_json.temperature }}',
        uniq_id: 'decoy1_t',
        dev: { ids: ['decoy1'] },
      }),
      true,
    );
    await waitFor(async () => (await stats()).sources?.discovery?.announcements === before + 1);
    expect((await stats()).sources?.discovery).toMatchObject({
      entities: 0,
      skipped: { claimed_topic: 1 },
    });

    // A retained message after the device's: when it arrives, the device's would have.
    await publishKept(z2m, 'zigbee2mqtt/Garage Door/availability', '{"state":"online"}', true);
    const seen: string[] = [];
    z2m.on('message', (topic) => seen.push(topic));
    expect(await grantedQos(z2m, ['zigbee2mqtt/#'])).toEqual([0]);
    await waitFor(() => seen.includes('zigbee2mqtt/Garage Door/availability'));
    expect(seen).not.toContain('zigbee2mqtt/Hall_Sensor/availability');

    // The device's own publish is still its own (not refused, not closed) and read as its own.
    await publishKept(hall, 'zigbee2mqtt/Hall_Sensor', '{"temperature":20.5}');
    await waitFor(async () => (await device('Hall_Sensor')).body.metrics?.includes('temperature'));
    expect((await device('decoy1')).status).toBe(404);

    // The bridge cannot overwrite the device's retained availability.
    const aclBefore = (await stats()).security?.refused['mqtt_publish_acl'] ?? 0;
    await publishKept(z2m, 'zigbee2mqtt/Hall_Sensor/availability', '{"state":"offline"}', true);
    await publishKept(z2m, 'zigbee2mqtt/Hall_Sensor', '{"temperature":99}');
    expect((await stats()).security?.refused['mqtt_publish_acl']).toBe(aclBefore + 2);
    expect((await device('Hall_Sensor')).body.status).toBe('online');
  });
});

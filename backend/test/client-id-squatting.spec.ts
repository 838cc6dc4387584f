import type { CreateBridgeCredentialResponse, DeviceCredentialListResponse } from '@pulse/protocol';
import { telemetryTopic } from '@pulse/protocol';
import { connectMqtt, endMqtt, getJson, publish, sendJson, sleep } from '@pulse/test-support';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  closed,
  createBridgeCredentials,
  createDeviceCredentials,
  refusedWith,
} from './support/broker-identities';
import { adminAuth, startTestPulse, usePulse } from './support/pulse';

type Refused = Record<string, number>;
const refusedAt = async (api: (path: string) => string): Promise<Refused> =>
  (await getJson<{ security: { refused: Refused } }>(api('/stats'))).body.security.refused;
const delta = (before: Refused, after: Refused, reason: string): number =>
  (after[reason] ?? 0) - (before[reason] ?? 0);

// Real: the backend in this process with its embedded Aedes, SQLite and the admin API, anonymous
// devices on (what a loopback install runs with); mqtt.js clients as zigbee2mqtt with a fixed
// `mqtt.client_id`, devices with credentials, and squatters holding their client ids.
describe('client ids that belong to a credential: a squatter cannot cut off a bridge or a device', () => {
  const fixture = usePulse({ env: { ANONYMOUS_DEVICES: 'true', INGEST_PRESETS: 'zigbee2mqtt' } });
  const open: MqttClient[] = [];
  let admin: { authorization: string };

  beforeAll(async () => {
    admin = await adminAuth(fixture.pulse.httpUrl);
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.end(true);
  });

  const refused = () => refusedAt(fixture.api);

  async function connect(options: IClientOptions): Promise<MqttClient> {
    const client = await connectMqtt(fixture.pulse.mqttUrl, options);
    client.on('error', () => undefined);
    open.push(client);
    return client;
  }

  const asBridge = (bridge: CreateBridgeCredentialResponse, clientId: string) =>
    connect({ clientId, username: bridge.username, password: bridge.secret });

  it('a bridge takes its client id over from an anonymous squatter, who cannot take it back', async () => {
    const bridge = await createBridgeCredentials({ api: fixture.api, admin }, 'house');
    // A squatter that reconnects every 50 ms, refused or not, as a script would.
    const squatter = await mqtt.connectAsync(fixture.pulse.mqttUrl, {
      clientId: 'z2m-house',
      reconnectPeriod: 50,
      reconnectOnConnackError: true,
    });
    squatter.on('error', () => undefined);
    open.push(squatter);
    let squatterConnects = 0;
    squatter.on('connect', () => squatterConnects++);
    const squatterGone = closed(squatter);
    const before = await refused();

    const z2m = await asBridge(bridge, 'z2m-house');
    await squatterGone;
    let bridgeClosed = false;
    z2m.on('close', () => (bridgeClosed = true));

    // No fight over the id: each retry of the squatter is refused, the bridge stays connected.
    await sleep(1000);
    const after = await refused();
    expect(delta(before, after, 'mqtt_client_id_reclaimed')).toBe(1);
    expect(delta(before, after, 'mqtt_client_id_reserved')).toBeGreaterThanOrEqual(3);
    expect(squatterConnects).toBe(0);
    expect(bridgeClosed).toBe(false);
    squatter.end(true);
    await publish(z2m, 'zigbee2mqtt/Porch Light', '{"state":"ON"}', 1);
    expect(await refusedWith(fixture.pulse.mqttUrl, { clientId: 'z2m-house' })).toBe(2);
  });

  it("refuses a bridge's client id to a device's credentials, held or not", async () => {
    const bridge = await createBridgeCredentials({ api: fixture.api, admin }, 'attic');
    const other = await createDeviceCredentials({ api: fixture.api, admin }, 'attic-plug');
    const asDevice = { clientId: 'z2m-attic', username: 'attic-plug', password: other.secret };

    const z2m = await asBridge(bridge, 'z2m-attic');
    const before = await refused();
    expect(await refusedWith(fixture.pulse.mqttUrl, asDevice)).toBe(2);
    await endMqtt(z2m);
    // Nobody holds it now, and it is still the bridge's: a device cannot keep it from it.
    expect(await refusedWith(fixture.pulse.mqttUrl, asDevice)).toBe(2);
    expect(await refusedWith(fixture.pulse.mqttUrl, { clientId: 'z2m-attic' })).toBe(2);
    expect(delta(before, await refused(), 'mqtt_client_id_reserved')).toBe(3);

    const again = await asBridge(bridge, 'z2m-attic');
    await publish(again, 'zigbee2mqtt/Attic Fan', '{"state":"OFF"}', 1);
  });

  it("refuses device credentials for a bridge's client id (409 naming the bridge): the bridge keeps it", async () => {
    const bridge = await createBridgeCredentials({ api: fixture.api, admin }, 'loft');
    await endMqtt(await asBridge(bridge, 'z2m-loft'));
    // Someone publishes as a device named after the bridge's client id; an admin who sees it on
    // the dashboard "secures" that device.
    const squatter = await connect({ clientId: 'not-the-bridge' });
    await publish(squatter, telemetryTopic('z2m-loft'), '{"values":{"n":1}}', 1);

    const { status, body } = await sendJson<{ message: string }>(
      fixture.api('/devices/z2m-loft/credentials'),
      'POST',
      undefined,
      admin,
    );
    expect(status).toBe(409);
    expect(body.message).toContain('bridge:loft');
    expect(body.message).toContain('or revoke it first'); // the way out, for a device it took
    const list = await getJson<DeviceCredentialListResponse>(
      fixture.api('/device-credentials'),
      admin,
    );
    expect(list.body.credentials.map((c) => c.deviceId)).not.toContain('z2m-loft');
    // The bridge's reconnect is let in, as every one after it.
    const z2m = await asBridge(bridge, 'z2m-loft');
    await publish(z2m, 'zigbee2mqtt/Loft Lamp', '{"state":"ON"}', 1);
  });

  it("a device's own id: taken back from whoever held it before its credentials, refused to anyone else", async () => {
    const squatter = await connect({ clientId: 'boiler-7' });
    const squatterGone = closed(squatter);
    const neighbour = await createDeviceCredentials({ api: fixture.api, admin }, 'boiler-8');
    const neighbourHolding = await connect({
      clientId: 'boiler-9',
      username: 'boiler-8',
      password: neighbour.secret,
    });
    const neighbourGone = closed(neighbourHolding);
    const boiler7 = await createDeviceCredentials({ api: fixture.api, admin }, 'boiler-7');
    const boiler9 = await createDeviceCredentials({ api: fixture.api, admin }, 'boiler-9');

    const seven = await connect({
      clientId: 'boiler-7',
      username: 'boiler-7',
      password: boiler7.secret,
    });
    await squatterGone;
    const nine = await connect({
      clientId: 'boiler-9',
      username: 'boiler-9',
      password: boiler9.secret,
    });
    await neighbourGone;

    await endMqtt(seven);
    const before = await refused();
    expect(await refusedWith(fixture.pulse.mqttUrl, { clientId: 'boiler-7' })).toBe(2);
    expect(
      await refusedWith(fixture.pulse.mqttUrl, {
        clientId: 'boiler-7',
        username: 'boiler-8',
        password: neighbour.secret,
      }),
    ).toBe(2);
    expect(delta(before, await refused(), 'mqtt_client_id_reserved')).toBe(2);
    await publish(nine, telemetryTopic('boiler-9'), '{"values":{"n":1}}', 1);
  });

  it('leaves ids nobody owns as before: first identity holds it, a device cannot take it from another', async () => {
    const a = await createDeviceCredentials({ api: fixture.api, admin }, 'plug-a');
    const b = await createDeviceCredentials({ api: fixture.api, admin }, 'plug-b');
    const holder = await connect({ clientId: 'esp-1234', username: 'plug-a', password: a.secret });
    let holderClosed = false;
    holder.on('close', () => (holderClosed = true));
    const before = await refused();
    expect(
      await refusedWith(fixture.pulse.mqttUrl, {
        clientId: 'esp-1234',
        username: 'plug-b',
        password: b.secret,
      }),
    ).toBe(2);
    expect(await refusedWith(fixture.pulse.mqttUrl, { clientId: 'esp-1234' })).toBe(2);
    expect(delta(before, await refused(), 'mqtt_takeover')).toBe(2);
    await sleep(200);
    expect(holderClosed).toBe(false);
  });
});

// Real: two starts of the backend on one DATA_DIR (SQLite), an mqtt.js bridge and device.
describe("a bridge's client id after a restart", () => {
  it('is still refused to a device before the bridge reconnects', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pulse-squat-'));
    const env = { DATA_DIR: dataDir, ANONYMOUS_DEVICES: 'false' };
    try {
      let pulse = await startTestPulse(env);
      const api = (path: string) => `${pulse.httpUrl}/api${path}`;
      const admin = await adminAuth(pulse.httpUrl);
      const bridge = await createBridgeCredentials({ api, admin }, 'barn');
      const device = await createDeviceCredentials({ api, admin }, 'barn-door');
      await endMqtt(
        await connectMqtt(pulse.mqttUrl, {
          clientId: 'z2m-barn',
          username: bridge.username,
          password: bridge.secret,
        }),
      );
      await pulse.close();

      pulse = await startTestPulse(env);
      try {
        expect(
          await refusedWith(pulse.mqttUrl, {
            clientId: 'z2m-barn',
            username: 'barn-door',
            password: device.secret,
          }),
        ).toBe(2);
        const z2m = await connectMqtt(pulse.mqttUrl, {
          clientId: 'z2m-barn',
          username: bridge.username,
          password: bridge.secret,
        });
        await endMqtt(z2m);
      } finally {
        await pulse.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

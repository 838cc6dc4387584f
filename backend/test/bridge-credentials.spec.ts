import type {
  IngestStats,
  BridgeCredentialListResponse,
  CreateBridgeCredentialResponse,
  CreateDeviceCredentialResponse,
  DeviceInfo,
} from '@pulse/protocol';
import { nameToId, telemetryTopic } from '@pulse/protocol';
import {
  connectMqtt,
  endMqtt,
  getJson,
  publish,
  sendJson,
  sleep,
  waitFor,
} from '@pulse/test-support';
import type { IClientOptions, MqttClient } from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closed, grantedQos, publishKept, refusedWith } from './support/broker-identities';
import { LogTap, tapLogs } from './support/logs';
import { adminAuth, userToken, usePulse } from './support/pulse';

// Real: the backend in this process with its embedded Aedes, the zigbee2mqtt preset, SQLite and
// the admin API, anonymous devices off as on every non-loopback install; mqtt.js clients playing
// zigbee2mqtt (one connection for many devices, subscribing and publishing as it does), a device
// with its own credentials, and an admin.
describe('bridge credentials: zigbee2mqtt on the embedded broker, anonymous devices off', () => {
  const fixture = usePulse({
    env: { ANONYMOUS_DEVICES: 'false', INGEST_PRESETS: 'zigbee2mqtt', LOG_LEVEL: 'log' },
  });
  const secrets: string[] = [];
  const open: MqttClient[] = [];
  let logs: LogTap;
  let admin: { authorization: string };

  beforeAll(async () => {
    logs = tapLogs();
    admin = await adminAuth(fixture.pulse.httpUrl);
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.end(true);
  });
  afterAll(() => logs.stop());

  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<{ security: { refused: Record<string, number> } }>(fixture.api('/stats'))).body
      .security.refused;

  async function createBridge(name: string): Promise<CreateBridgeCredentialResponse> {
    const { status, body } = await sendJson<CreateBridgeCredentialResponse>(
      fixture.api('/bridge-credentials'),
      'POST',
      { name },
      admin,
    );
    expect(status).toBe(201);
    secrets.push(body.secret);
    return body;
  }

  /** Connect as zigbee2mqtt does: its base topic's bridge/state as a retained Last Will. */
  async function connectBridge(
    bridge: CreateBridgeCredentialResponse,
    options: IClientOptions = {},
  ): Promise<MqttClient> {
    const client = await connectMqtt(fixture.pulse.mqttUrl, {
      clientId: `z2m-${bridge.name}`,
      username: bridge.username,
      password: bridge.secret,
      will: {
        topic: 'zigbee2mqtt/bridge/state',
        payload: Buffer.from('{"state":"offline"}'),
        qos: 1,
        retain: true,
      },
      ...options,
    });
    client.on('error', () => undefined);
    open.push(client);
    return client;
  }

  const device = async (deviceId: string) =>
    getJson<DeviceInfo>(fixture.api(`/devices/${encodeURIComponent(deviceId)}`));

  it('refuses zigbee2mqtt without credentials (CONNACK 5), as before', async () => {
    expect(await refusedWith(fixture.pulse.mqttUrl, { clientId: 'zigbee2mqtt' })).toBe(5);
  });

  it('lets a bridge credential connect zigbee2mqtt: its subscriptions, and its devices in /api/devices', async () => {
    const bridge = await createBridge('house');
    expect(bridge).toEqual({
      name: 'house',
      username: 'bridge:house',
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      createdAt: expect.any(Number),
      rotated: false,
    });
    const z2m = await connectBridge(bridge);
    await publish(z2m, 'zigbee2mqtt/bridge/state', '{"state":"online"}', 1, true);

    // What zigbee2mqtt subscribes (its base topic, whole: lib/mqtt.ts), and what it may not.
    const before = (await refused())['mqtt_subscribe_acl'] ?? 0;
    expect(
      await grantedQos(z2m, [
        'zigbee2mqtt/#',
        'zigbee2mqtt/+/set',
        'zigbee2mqtt/bridge/request/#',
        'devices/free-1/#',
        'devices/#',
        '#',
        '+/status',
        '$SYS/#',
        'tele/#',
      ]),
    ).toEqual([0, 0, 0, 0, 128, 128, 128, 128, 128]);
    expect((await refused())['mqtt_subscribe_acl']).toBe(before + 5);

    const kitchen = nameToId('Kitchen Temp') as string;
    await publish(z2m, 'zigbee2mqtt/Kitchen Temp', '{"temperature":21.5,"humidity":40}', 1);
    await publish(z2m, 'zigbee2mqtt/Kitchen Temp/availability', '{"state":"online"}', 1, true);
    await publish(z2m, 'zigbee2mqtt/0x00158d0001a2b3c4', '{"occupancy":true}', 1);
    await waitFor(async () => (await device(kitchen)).body.status === 'online', {
      message: `${kitchen} online`,
    });
    const { body } = await getJson<{ devices: DeviceInfo[] }>(fixture.api('/devices'));
    expect(body.devices.find((d) => d.deviceId === kitchen)).toMatchObject({
      metrics: expect.arrayContaining(['temperature', 'humidity']),
      meta: { name: 'Kitchen Temp' },
    });
    expect(body.devices.map((d) => d.deviceId)).toContain('0x00158d0001a2b3c4');
    // The contract's topics too, for an id without credentials.
    await publish(z2m, telemetryTopic('free-1'), '{"values":{"n":1}}', 1);
    await waitFor(async () => (await device('free-1')).status === 200);
  });

  it("keeps a device's own id its own: the bridge is refused it (counted, still connected) and never reads it", async () => {
    const { body: owned } = await sendJson<CreateDeviceCredentialResponse>(
      fixture.api('/devices/Hall_Sensor/credentials'),
      'POST',
      undefined,
      admin,
    );
    secrets.push(owned.secret);
    const bridge = await createBridge('garage');
    const z2m = await connectBridge(bridge);
    const seen: string[] = [];
    z2m.on('message', (topic) => seen.push(topic));
    expect(await grantedQos(z2m, ['zigbee2mqtt/#', 'devices/Hall_Sensor/#'])).toEqual([0, 128]);

    const before = (await refused())['mqtt_publish_acl'] ?? 0;
    // Acknowledged and dropped: one device's message refused does not cut off every other
    // device of the bridge (MQTT 3.1.1 has no negative PUBACK).
    await publishKept(z2m, 'zigbee2mqtt/Hall_Sensor', '{"temperature":99}');
    await publishKept(z2m, telemetryTopic('Hall_Sensor'), '{"values":{"temperature":99}}');
    expect((await refused())['mqtt_publish_acl']).toBe(before + 2);
    await publishKept(z2m, 'zigbee2mqtt/Garage Door', '{"contact":false}');
    await waitFor(async () => (await device(nameToId('Garage Door') as string)).status === 200);
    expect((await device('Hall_Sensor')).status).toBe(404);

    // The device itself, on the same base topic: read by Pulse, not passed to the bridge.
    const hall = await connectMqtt(fixture.pulse.mqttUrl, {
      username: 'Hall_Sensor',
      password: owned.secret,
    });
    open.push(hall);
    await publish(hall, 'zigbee2mqtt/Hall_Sensor', '{"temperature":20}', 1);
    await waitFor(async () => (await device('Hall_Sensor')).status === 200);
    await publish(z2m, 'zigbee2mqtt/Garage Door', '{"contact":true}', 1);
    await waitFor(() => seen.filter((t) => t === 'zigbee2mqtt/Garage Door').length === 2);
    expect(seen).not.toContain('zigbee2mqtt/Hall_Sensor');
  });

  it('revoking closes the bridge at once and its secret no longer works', async () => {
    const bridge = await createBridge('shed');
    const z2m = await connectBridge(bridge);
    const gone = closed(z2m);
    const startedAt = Date.now();
    const revoked = await sendJson(
      fixture.api('/bridge-credentials/shed'),
      'DELETE',
      undefined,
      admin,
    );
    expect(revoked.status).toBe(204);
    await gone;
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(
      await refusedWith(fixture.pulse.mqttUrl, {
        username: bridge.username,
        password: bridge.secret,
      }),
    ).toBe(4);
    const missing = await sendJson(
      fixture.api('/bridge-credentials/shed'),
      'DELETE',
      undefined,
      admin,
    );
    expect(missing.status).toBe(404);
  });

  it('rotating replaces the secret and closes connections made with the old one', async () => {
    const first = await createBridge('loft');
    const z2m = await connectBridge(first);
    const gone = closed(z2m);
    const second = await createBridge('loft');
    expect(second.rotated).toBe(true);
    await gone;
    expect(
      await refusedWith(fixture.pulse.mqttUrl, { username: 'bridge:loft', password: first.secret }),
    ).toBe(4);
    await connectBridge(second);
  });

  it('lets only an admin manage bridges; answers the secret with no-store; validates the name', async () => {
    const operator = await userToken(fixture.pulse.httpUrl, 'op-1', 'operator');
    const post = (body: unknown, headers: Record<string, string>) =>
      sendJson(fixture.api('/bridge-credentials'), 'POST', body, headers);
    expect((await post({ name: 'x' }, {})).status).toBe(401);
    expect((await post({ name: 'x' }, { authorization: `Bearer ${operator}` })).status).toBe(403);
    expect(
      (await getJson(fixture.api('/bridge-credentials'), { authorization: `Bearer ${operator}` }))
        .status,
    ).toBe(403);
    for (const body of [{}, { name: 'bridge:x' }, { name: 'a b' }, { name: 'a', extra: 1 }])
      expect({ body, status: (await post(body, admin)).status }).toEqual({ body, status: 400 });
    expect(
      (await sendJson(fixture.api('/bridge-credentials/a%20b'), 'DELETE', undefined, admin)).status,
    ).toBe(400);

    const response = await fetch(fixture.api('/bridge-credentials'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({ name: 'attic' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    secrets.push(((await response.json()) as CreateBridgeCredentialResponse).secret);
  });

  it('lists bridges with their last connect, and never shows a secret in the list, the stats or a log line', async () => {
    await sleep(50);
    const { status, body } = await getJson<BridgeCredentialListResponse>(
      fixture.api('/bridge-credentials'),
      admin,
    );
    expect(status).toBe(200);
    expect(body.credentials.map((c) => c.name)).toEqual(['attic', 'garage', 'house', 'loft']);
    expect(body.credentials.find((c) => c.name === 'house')).toEqual({
      name: 'house',
      username: 'bridge:house',
      createdAt: expect.any(Number),
      lastConnectAt: expect.any(Number),
      clientId: expect.any(String), // the client id it connected with: its own now
    });
    expect(body.credentials.find((c) => c.name === 'attic')?.lastConnectAt).toBeNull();
    expect(body.credentials.find((c) => c.name === 'attic')).not.toHaveProperty('clientId');

    const stats = JSON.stringify((await getJson(fixture.api('/stats'))).body);
    const list = JSON.stringify(body);
    const text = logs.text();
    expect(text).toContain('bridge credentials created for bridge:house');
    // Refusals name the bridge (JSON log lines: quotes escaped).
    expect(text).toMatch(/refused \(mqtt_publish_acl\).*Hall_Sensor.*bridge \\?"garage\\?"/);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(stats).not.toContain(secret);
      expect(list).not.toContain(secret);
    }
  });
});

// A sources file with a source that names its devices in the payload (influx lines): the broker's
// ACL lets a bridge publish there, and cannot see which device a line names.
describe('a source that names devices in the payload, on the embedded broker with bridges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-payload-source-'));
  writeFileSync(
    join(dir, 'sources.yaml'),
    'sources:\n  - name: boilers\n    topic: factory/+/influx\n    device: { payload: true }\n    format: influx\n',
  );
  const fixture = usePulse({
    env: { ANONYMOUS_DEVICES: 'false', INGEST_SOURCES_FILE: join(dir, 'sources.yaml') },
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a bridge does not speak for a device with its own credentials through it (counted); its other lines are read', async () => {
    const admin = await adminAuth(fixture.pulse.httpUrl);
    const made = async (path: string, body?: object) => {
      const { status, body: answer } = await sendJson<{ secret: string; username?: string }>(
        fixture.api(path),
        'POST',
        body,
        admin,
      );
      expect(status).toBe(201);
      return answer;
    };
    await made('/devices/Hall_Sensor/credentials');
    const bridge = await made('/bridge-credentials', { name: 'plant' });
    const client = await connectMqtt(fixture.pulse.mqttUrl, {
      username: bridge.username,
      password: bridge.secret,
    });
    try {
      const stats = async () => (await getJson<IngestStats>(fixture.api('/stats'))).body;
      const shapeBefore = (await stats()).rejected.shape;
      await publish(
        client,
        'factory/line1/influx',
        'boiler,device=Hall_Sensor t=99\nboiler,device=Boiler_1 t=61',
        1,
      );
      const device = (id: string) => getJson<DeviceInfo>(fixture.api(`/devices/${id}`));
      await waitFor(async () => (await device('Boiler_1')).status === 200);
      expect((await device('Boiler_1')).body.metrics).toEqual(['boiler.t']);
      expect((await device('Hall_Sensor')).status).toBe(404);
      expect((await stats()).rejected.shape).toBe(shapeBefore + 1);
    } finally {
      await endMqtt(client);
    }
  });
});

import type {
  CreateDeviceCredentialResponse,
  DeviceCredentialListResponse,
  DeviceInfo,
} from '@pulse/protocol';
import { statusTopic, telemetryTopic } from '@pulse/protocol';
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
import { execFile } from 'node:child_process';
import { adminAuth, userToken, usePulse } from './support/pulse';
import { LogTap, tapLogs } from './support/logs';
import { watchDevices } from './support/viewer';
import { refusedWith } from './support/broker-identities';

const MOSQUITTO_PUB = process.env['MOSQUITTO_PUB_BIN'] ?? '/usr/bin/mosquitto_pub';

/** The QoS the broker granted per filter (mqtt.js rejects a SUBACK with a failure; 128 = refused). */
const grantedQos = (client: MqttClient, filters: string[]): Promise<number[] | undefined> =>
  client.subscribeAsync(filters, { qos: 0 }).then(
    (granted) => granted.map((g) => g.qos),
    (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
  );

/** Resolves when the broker closes `client`'s connection. */
const closed = (client: MqttClient): Promise<void> =>
  new Promise((resolve) => client.once('close', () => resolve()));

// Real: the backend in this process with its embedded Aedes, SQLite store and admin API;
// mqtt.js clients as devices, impostors and the gateway's viewers.
describe('device credentials, anonymous devices off (ANONYMOUS_DEVICES=false)', () => {
  const fixture = usePulse({ env: { ANONYMOUS_DEVICES: 'false', LOG_LEVEL: 'log' } });
  const secrets: string[] = [];
  let logs: LogTap;
  let admin: { authorization: string };
  const open: MqttClient[] = [];

  beforeAll(async () => {
    logs = tapLogs();
    admin = await adminAuth(fixture.pulse.httpUrl);
  });
  afterEach(async () => {
    for (const client of open.splice(0)) client.end(true);
  });
  afterAll(() => logs.stop());

  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<{ security: { refused: Record<string, number> } }>(fixture.api('/stats'))).body
      .security.refused;

  /** A call of the admin API without a body (`path` after `/api`). */
  const asAdmin = <T = unknown>(method: string, path: string) =>
    sendJson<T>(fixture.api(path), method, undefined, admin);

  async function createCredentials(deviceId: string): Promise<CreateDeviceCredentialResponse> {
    const { status, body } = await asAdmin<CreateDeviceCredentialResponse>(
      'POST',
      `/devices/${deviceId}/credentials`,
    );
    expect(status).toBe(201);
    secrets.push(body.secret);
    return body;
  }

  async function connectAs(
    deviceId: string,
    secret: string,
    options: IClientOptions = {},
  ): Promise<MqttClient> {
    const client = await connectMqtt(fixture.pulse.mqttUrl, {
      username: deviceId,
      password: secret,
      ...options,
    });
    client.on('error', () => undefined);
    open.push(client);
    return client;
  }

  const deviceStatus = async (deviceId: string): Promise<string | undefined> =>
    (await getJson<DeviceInfo>(fixture.api(`/devices/${deviceId}`))).body.status;

  it('lets only an admin create, list and revoke credentials', async () => {
    const operator = await userToken(fixture.pulse.httpUrl, 'op-1', 'operator');
    const post = (headers: Record<string, string>) =>
      sendJson(fixture.api('/devices/dev-x/credentials'), 'POST', undefined, headers);
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: `Bearer ${operator}` })).status).toBe(403);
    const list = await getJson(fixture.api('/device-credentials'), {
      authorization: `Bearer ${operator}`,
    });
    expect(list.status).toBe(403);
    const bad = await asAdmin('POST', '/devices/bad%20id/credentials');
    expect(bad.status).toBe(400);
  });

  it('a device with credentials publishes under its own id and nowhere else', async () => {
    const { secret, deviceId } = await createCredentials('dev-1');
    expect(deviceId).toBe('dev-1');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const viewer = await watchDevices(fixture.pulse.httpUrl, ['dev-1', 'dev-2']);
    try {
      const device = await connectAs('dev-1', secret);
      await publish(device, telemetryTopic('dev-1'), '{"values":{"t":21.5}}', 1);
      const [reading] = await viewer.received.waitForCount(1);
      expect(reading).toMatchObject({ deviceId: 'dev-1', values: { t: 21.5 } });

      // Its own topics may be read, another device's may not (granted QoS 128, still connected).
      expect(await grantedQos(device, ['devices/dev-1/status', 'devices/dev-2/#'])).toEqual([
        0, 128,
      ]);

      const before = (await refused())['mqtt_publish_acl'] ?? 0;
      const gone = closed(device);
      device.publish(telemetryTopic('dev-2'), '{"values":{"t":99}}', { qos: 1 });
      await gone;
      expect((await refused())['mqtt_publish_acl']).toBe(before + 1);
      await sleep(200);
      expect(viewer.received.readings.map((r) => r.deviceId)).toEqual(['dev-1']);
    } finally {
      await viewer.close();
    }
  });

  it('refuses a wrong secret (CONNACK 4), an unknown device and a client without credentials (CONNACK 5)', async () => {
    const { secret } = await createCredentials('dev-wrong');
    const before = await refused();
    const url = fixture.pulse.mqttUrl;
    expect(await refusedWith(url, { username: 'dev-wrong', password: `${secret}x` })).toBe(4);
    expect(await refusedWith(url, { username: 'dev-nobody', password: secret })).toBe(4);
    expect(await refusedWith(url, {})).toBe(5);
    const after = await refused();
    expect(after['mqtt_auth_failed']).toBe((before['mqtt_auth_failed'] ?? 0) + 2);
    expect(after['mqtt_unauthenticated']).toBe((before['mqtt_unauthenticated'] ?? 0) + 1);
    // The right secret still works.
    await connectAs('dev-wrong', secret);
  });

  it('stops checking an address + username after 10 failures in a minute', async () => {
    const { secret } = await createCredentials('dev-guess');
    for (let i = 0; i < 10; i++)
      await refusedWith(fixture.pulse.mqttUrl, { username: 'dev-guess', password: `guess-${i}` });
    const before = (await refused())['mqtt_auth_rate'] ?? 0;
    // Even the right secret is refused from this address until the window passes.
    expect(
      await refusedWith(fixture.pulse.mqttUrl, { username: 'dev-guess', password: secret }),
    ).toBe(5);
    expect((await refused())['mqtt_auth_rate']).toBe(before + 1);
  });

  it('refuses a client-id takeover by another identity: the device stays connected, no Last Will', async () => {
    const victimCreds = await createCredentials('dev-victim');
    const other = await createCredentials('dev-other');
    const will = {
      topic: statusTopic('dev-victim'),
      payload: Buffer.from('offline'),
      qos: 1 as const,
      retain: true,
    };
    const victim = await connectAs('dev-victim', victimCreds.secret, {
      clientId: 'victim-1',
      will,
    });
    await publish(victim, statusTopic('dev-victim'), 'online', 1, true);
    await waitFor(async () => (await deviceStatus('dev-victim')) === 'online');
    let victimClosed = false;
    victim.once('close', () => (victimClosed = true));

    const before = (await refused())['mqtt_takeover'] ?? 0;
    expect(
      await refusedWith(fixture.pulse.mqttUrl, {
        clientId: 'victim-1',
        username: 'dev-other',
        password: other.secret,
      }),
    ).toBe(2);
    expect((await refused())['mqtt_takeover']).toBe(before + 1);

    await sleep(300);
    expect(victimClosed).toBe(false);
    await publish(victim, telemetryTopic('dev-victim'), '{"values":{"n":1}}', 1);
    expect(await deviceStatus('dev-victim')).toBe('online');
  });

  it('decides two CONNECTs racing for one client id: one identity gets it, the other is refused', async () => {
    const a = await createCredentials('dev-race-a');
    const b = await createCredentials('dev-race-b');
    for (let round = 0; round < 5; round++) {
      const clientId = `race-${round}`;
      const outcomes = await Promise.allSettled([
        connectAs('dev-race-a', a.secret, { clientId }),
        connectAs('dev-race-b', b.secret, { clientId }),
      ]);
      const codes = outcomes.map((o) =>
        o.status === 'fulfilled' ? 0 : (o.reason as { code?: number }).code,
      );
      expect(codes.sort()).toEqual([0, 2]);
      const winner = outcomes.find(
        (o) => o.status === 'fulfilled',
      ) as PromiseFulfilledResult<MqttClient>;
      await sleep(100);
      expect(winner.value.connected).toBe(true);
    }
  });

  it('lets the same credentials take over their own client id (a device reconnecting)', async () => {
    const { secret } = await createCredentials('dev-again');
    const first = await connectAs('dev-again', secret, { clientId: 'again-1' });
    const firstClosed = closed(first);
    const second = await connectAs('dev-again', secret, { clientId: 'again-1' });
    await firstClosed;
    await publish(second, telemetryTopic('dev-again'), '{"values":{"n":1}}', 1);
  });

  it('revoking closes the device at once and its secret no longer works', async () => {
    const { secret } = await createCredentials('dev-revoked');
    const will = {
      topic: statusTopic('dev-revoked'),
      payload: Buffer.from('offline'),
      qos: 1 as const,
      retain: true,
    };
    const device = await connectAs('dev-revoked', secret, { will });
    await publish(device, statusTopic('dev-revoked'), 'online', 1, true);
    const gone = closed(device);
    const startedAt = Date.now();
    const revoked = await asAdmin('DELETE', '/devices/dev-revoked/credentials');
    expect(revoked.status).toBe(204);
    await gone;
    expect(Date.now() - startedAt).toBeLessThan(1000);
    // Its Last Will says it is gone.
    await waitFor(async () => (await deviceStatus('dev-revoked')) === 'offline');
    expect(
      await refusedWith(fixture.pulse.mqttUrl, { username: 'dev-revoked', password: secret }),
    ).toBe(4);

    const { body } = await getJson<DeviceCredentialListResponse>(
      fixture.api('/device-credentials'),
      admin,
    );
    const row = body.credentials.find((c) => c.deviceId === 'dev-revoked');
    expect(row).toEqual({
      deviceId: 'dev-revoked',
      createdAt: expect.any(Number),
      lastConnectAt: expect.any(Number),
      revokedAt: expect.any(Number),
    });
    const missing = await asAdmin('DELETE', '/devices/dev-none/credentials');
    expect(missing.status).toBe(404);
  });

  it('rotating replaces the secret and closes connections made with the old one', async () => {
    const first = await createCredentials('dev-rotate');
    const device = await connectAs('dev-rotate', first.secret);
    const gone = closed(device);
    const second = await createCredentials('dev-rotate');
    expect(second.rotated).toBe(true);
    expect(second.secret).not.toBe(first.secret);
    await gone;
    expect(
      await refusedWith(fixture.pulse.mqttUrl, { username: 'dev-rotate', password: first.secret }),
    ).toBe(4);
    await connectAs('dev-rotate', second.secret);
  });

  it('never puts a secret in a log line, in /api/stats or in the credentials list', async () => {
    expect(secrets.length).toBeGreaterThan(5);
    const stats = JSON.stringify((await getJson(fixture.api('/stats'))).body);
    const list = JSON.stringify((await getJson(fixture.api('/device-credentials'), admin)).body);
    const text = logs.text();
    // The capture did see the feature's lines (so an empty capture cannot pass this).
    expect(text).toContain('credentials created for device dev-1');
    expect(text).toContain('refused (mqtt_auth_failed)');
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(stats).not.toContain(secret);
      expect(list).not.toContain(secret);
    }
  });
});

describe('device credentials beside anonymous devices (loopback default)', () => {
  const fixture = usePulse();
  let admin: { authorization: string };
  beforeAll(async () => {
    admin = await adminAuth(fixture.pulse.httpUrl);
  });

  it("keeps the README's anonymous mosquitto_pub line working", async () => {
    const viewer = await watchDevices(fixture.pulse.httpUrl, ['boiler-1']);
    try {
      const port = new URL(fixture.pulse.mqttUrl).port;
      await new Promise<void>((resolve, reject) =>
        execFile(
          MOSQUITTO_PUB,
          [
            '-h',
            '127.0.0.1',
            '-p',
            port,
            '-t',
            'devices/boiler-1/telemetry',
            '-m',
            '{"values":{"temperature":61.5,"pressure":2.1}}',
          ],
          (error) => (error ? reject(error) : resolve()),
        ),
      );
      const [reading] = await viewer.received.waitForCount(1);
      expect(reading).toMatchObject({
        deviceId: 'boiler-1',
        values: { temperature: 61.5, pressure: 2.1 },
      });
    } finally {
      await viewer.close();
    }
  });

  it('an anonymous client can neither speak for a device with credentials nor take over its client id', async () => {
    const { body } = await sendJson<CreateDeviceCredentialResponse>(
      fixture.api('/devices/dev-owned/credentials'),
      'POST',
      undefined,
      admin,
    );
    const owner = await connectMqtt(fixture.pulse.mqttUrl, {
      clientId: 'owned-1',
      username: 'dev-owned',
      password: body.secret,
    });
    try {
      const before = await getJson<{ security: { refused: Record<string, number> } }>(
        fixture.api('/stats'),
      );
      expect(await refusedWith(fixture.pulse.mqttUrl, { clientId: 'owned-1' })).toBe(2);

      const anonymous = await connectMqtt(fixture.pulse.mqttUrl);
      anonymous.on('error', () => undefined);
      const gone = closed(anonymous);
      anonymous.publish(telemetryTopic('dev-owned'), '{"values":{"n":1}}', { qos: 1 });
      await gone;
      const reader = await connectMqtt(fixture.pulse.mqttUrl);
      reader.on('error', () => undefined);
      expect(await grantedQos(reader, ['devices/dev-owned/#', 'devices/dev-free/#'])).toEqual([
        128, 0,
      ]);
      await endMqtt(reader);

      const after = await getJson<{ security: { refused: Record<string, number> } }>(
        fixture.api('/stats'),
      );
      const delta = (reason: string) =>
        (after.body.security.refused[reason] ?? 0) - (before.body.security.refused[reason] ?? 0);
      expect([
        delta('mqtt_takeover'),
        delta('mqtt_publish_acl'),
        delta('mqtt_subscribe_acl'),
      ]).toEqual([1, 1, 1]);
      expect(owner.connected).toBe(true);
    } finally {
      owner.end(true);
    }
  });
});

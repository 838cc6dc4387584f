import { IngestStats, telemetryTopic } from '@pulse/protocol';
import { endMqtt, getJson, publish, sendJson, sleep, waitFor } from '@pulse/test-support';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import {
  AdminApi,
  closed,
  createBridgeCredentials,
  createDeviceCredentials,
  grantedQos,
} from './support/broker-identities';
import { adminAuth, usePulse } from './support/pulse';

/** A connected mqtt.js client and every topic it was sent, from its first packet on. */
interface Recorder {
  client: MqttClient;
  seen: string[];
  /** The CONNACK's Session Present flag: the broker resumed a session for this client id. */
  sessionPresent: boolean;
}

// Real: the backend in this process with its embedded Aedes (its in-memory sessions), the
// zigbee2mqtt preset, anonymous devices off; mqtt.js clients with persistent sessions
// (`clean: false`) playing bridges and devices with their own credentials. Aedes keys a session
// by client id alone, and any identity may resume one nobody holds.
describe('persistent MQTT sessions on the embedded broker: what is queued reaches only who may read it', () => {
  const fixture = usePulse({
    env: { ANONYMOUS_DEVICES: 'false', INGEST_PRESETS: 'zigbee2mqtt' },
  });
  const open: MqttClient[] = [];
  let admin: AdminApi;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    admin = { api: fixture.api, admin: await adminAuth(fixture.pulse.httpUrl) };
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.end(true);
  });

  /** Connect, recording every message from the first (a resumed session's queue comes at once). */
  const connect = (options: IClientOptions): Promise<Recorder> =>
    new Promise((resolve, reject) => {
      const client = mqtt.connect(fixture.pulse.mqttUrl, { reconnectPeriod: 0, ...options });
      const seen: string[] = [];
      client.on('message', (topic) => seen.push(topic));
      open.push(client);
      client.once('connect', (connack) =>
        resolve({ client, seen, sessionPresent: connack.sessionPresent }),
      );
      client.once('error', reject);
    });
  const asDevice = async (deviceId: string, options: IClientOptions = {}) => {
    if (!secrets.has(deviceId))
      secrets.set(deviceId, (await createDeviceCredentials(admin, deviceId)).secret);
    return connect({ username: deviceId, password: secrets.get(deviceId), ...options });
  };
  /** Leave a session behind: subscribed with QoS 1, then a clean DISCONNECT. */
  const leave = async ({ client }: Recorder, filters: string[]) => {
    await grantedQos(client, filters, 1);
    await endMqtt(client);
  };
  /**
   * Resume `clientId`'s session as `deviceId` and return what it was sent by the time its own
   * telemetry comes back (queued messages are sent first, at the CONNECT).
   */
  const resumeAs = async (deviceId: string, clientId: string): Promise<string[]> => {
    const { client, seen } = await asDevice(deviceId, { clientId, clean: false });
    expect(await grantedQos(client, [telemetryTopic(deviceId)], 1)).toEqual([1]);
    await publish(client, telemetryTopic(deviceId), '{"n":1}', 1);
    await waitFor(() => seen.includes(telemetryTopic(deviceId)), { message: `${deviceId}'s own` });
    return seen;
  };

  // A bridge never has a session (preConnect makes it clean; the it.each below), so what a
  // resumed session's queue can leak is a device's: here one whose credentials were revoked
  // while its messages were queued, its session then resumed by another device.
  it("does not hand a revoked device's queued messages to a device that resumes its client id", async () => {
    await leave(await asDevice('Dev_R', { clientId: 'dev-r-phone', clean: false }), [
      'devices/Dev_R/#',
    ]);
    const r = await asDevice('Dev_R');
    await publish(r.client, telemetryTopic('Dev_R'), '{"secret":1}', 1);
    const gone = closed(r.client);
    const revoked = await sendJson(
      admin.api('/devices/Dev_R/credentials'),
      'DELETE',
      undefined,
      admin.admin,
    );
    expect(revoked.status).toBeLessThan(300);
    await gone;

    expect(await resumeAs('Other_Dev', 'dev-r-phone')).not.toContain(telemetryTopic('Dev_R'));
  });

  it("does not hand a device's queued messages to another device that resumes its client id", async () => {
    await leave(await asDevice('Dev_A', { clientId: 'dev-a-phone', clean: false }), [
      'devices/Dev_A/#',
    ]);
    const a = await asDevice('Dev_A');
    await publish(a.client, telemetryTopic('Dev_A'), '{"secret":1}', 1);

    expect(await resumeAs('Dev_B', 'dev-a-phone')).not.toContain(telemetryTopic('Dev_A'));
  });

  it.each([
    ['MQTT 3.1.1, clean: false', { protocolVersion: 4, clean: false }],
    [
      'MQTT 5, a session expiry of an hour',
      { protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } },
    ],
  ] as [string, IClientOptions][])(
    'keeps no session for a bridge (%s): nothing queued while it is away, none left by a rotation',
    async (_, session) => {
      const name = `house-v${session.protocolVersion}`;
      let bridge = await createBridgeCredentials(admin, name);
      const asBridge = () =>
        connect({
          clientId: `z2m-${name}`,
          username: bridge.username,
          password: bridge.secret,
          ...session,
        });
      const other = await createBridgeCredentials(admin, `${name}-b`);
      const publisher = await connect({ username: other.username, password: other.secret });

      const first = await asBridge();
      expect(first.sessionPresent).toBe(false);
      await leave(first, ['zigbee2mqtt/#']);
      await publish(publisher.client, 'zigbee2mqtt/Away_1', '{"n":1}', 1);
      const back = await asBridge();
      expect(back.sessionPresent).toBe(false);
      // Rotating closes it; the new secret finds no session either.
      await grantedQos(back.client, ['zigbee2mqtt/#'], 1);
      const gone = closed(back.client);
      bridge = await createBridgeCredentials(admin, name);
      await gone;
      await publish(publisher.client, 'zigbee2mqtt/Away_2', '{"n":2}', 1);
      const rotated = await asBridge();
      expect(rotated.sessionPresent).toBe(false);

      // What it is sent from now on, and nothing from before.
      expect(await grantedQos(rotated.client, ['zigbee2mqtt/#'], 1)).toEqual([1]);
      await publish(publisher.client, 'zigbee2mqtt/Here', '{"n":3}', 1);
      await waitFor(() => rotated.seen.includes('zigbee2mqtt/Here'));
      expect(rotated.seen).toEqual(['zigbee2mqtt/Here']);
      expect(back.seen).toEqual([]);
    },
  );

  it('does not send a device what a refused filter of its own session queued', async () => {
    // Aedes stores every filter of a SUBSCRIBE packet when one is granted, refused ones too.
    const c = await asDevice('Dev_C', { clientId: 'dev-c', clean: false });
    expect(await grantedQos(c.client, ['devices/Dev_C/#', 'zigbee2mqtt/#'], 1)).toEqual([1, 128]);
    await endMqtt(c.client);
    const secret = await asDevice('Secret_Dev');
    await publish(secret.client, 'zigbee2mqtt/Secret_Dev', '{"temperature":2}', 1);

    expect(await resumeAs('Dev_C', 'dev-c')).not.toContain('zigbee2mqtt/Secret_Dev');
  });

  it("keeps a device's MQTT 3.1.1 session within the broker's session bounds, counted in /api/stats", async () => {
    const sessions = async () =>
      (await getJson<IngestStats>(`${fixture.pulse.httpUrl}/api/stats`)).body.broker.sessions;
    // Settled: the previous cases' clients, ended by afterEach, may still be closing.
    const before = await waitFor(async () => {
      const first = await sessions();
      await sleep(100);
      const then = await sessions();
      return first?.pending === then?.pending && first?.kept === then?.kept ? then : undefined;
    });
    await leave(await asDevice('Dev_S', { clientId: 'dev-s', clean: false }), ['devices/Dev_S/#']);
    expect(await sessions()).toMatchObject({
      pending: (before?.pending ?? 0) + 1,
      kept: (before?.kept ?? 0) + 1,
    });
    const s = await asDevice('Dev_S', { clientId: 'dev-s', clean: false });
    expect(s.sessionPresent).toBe(true);
    expect((await sessions())?.pending).toBe(before?.pending ?? 0);
  });
});

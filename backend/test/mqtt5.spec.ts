import type { DeviceInfo, IngestStats } from '@pulse/protocol';
import { statusTopic, telemetryTopic } from '@pulse/protocol';
import {
  collectReadings,
  connectMqtt,
  getJson,
  mosquittoSub,
  sendJson,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { execFile } from 'node:child_process';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { adminAuth, usePulse } from './support/pulse';

const MOSQUITTO_PUB = process.env['MOSQUITTO_PUB_BIN'] ?? '/usr/bin/mosquitto_pub';
/** MQTT 5 reason codes (§2.4) the embedded broker answers with. */
const BAD_USERNAME_OR_PASSWORD = 0x86;
const NOT_AUTHORIZED = 0x87;
const PACKET_TOO_LARGE = 0x95;
const MESSAGE_RATE_TOO_HIGH = 0x96;
const ADMINISTRATIVE_ACTION = 0x98;
/** Each client's budget: 5/s over a 10 s window, disconnected past twice that. */
const PER_SECOND = 5;

// Real: the backend with its embedded broker (Aedes 2), mqtt.js clients speaking MQTT 3.1, 3.1.1
// and 5, Debian's mosquitto_pub -V mqttv5, and Socket.IO `/live` as the viewer that must see it.
// docs/decisions/0026-mqtt5-embedded-broker.md
describe('MQTT 5 devices on the embedded broker', () => {
  const backend = usePulse({
    env: { MQTT_MAX_PUBLISH_PER_SECOND: String(PER_SECOND), CONNECTION_CAP_EXEMPT: 'none' },
  });
  const v5 = (options: IClientOptions = {}) =>
    connectMqtt(backend.pulse.mqttUrl, { protocolVersion: 5, ...options });
  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(backend.api('/stats'))).body.security?.refused ?? {};
  /** A `/live` viewer of `ids`: the readings and device events it receives. */
  async function watch(...ids: string[]) {
    const socket = await backend.live();
    const devices: DeviceInfo[] = [];
    socket.on('devices', (list) => devices.push(...list));
    await subscribe(socket, { devices: ids });
    return { readings: collectReadings(socket), devices };
  }

  it('takes a reading from mosquitto_pub -V mqttv5, user property passed on to MQTT 5 readers', async () => {
    const id = 'mosq-v5';
    const viewer = await watch(id);
    // The device's own topic is one a device may read (broker-guard.ts).
    const reader = await v5();
    const properties = new Promise<unknown>((resolve) =>
      reader.on('message', (_topic, _payload, packet) => resolve(packet.properties)),
    );
    await reader.subscribeAsync(telemetryTopic(id), { qos: 1 });

    const port = new URL(backend.pulse.mqttUrl).port;
    const args = ['-V', 'mqttv5', '-h', '127.0.0.1', '-p', port, '-q', '1'];
    args.push('-D', 'publish', 'user-property', 'site', 'hall-2');
    args.push('-t', telemetryTopic(id), '-m', '{"values":{"temperature":21.5}}');
    const code = await new Promise<number>((resolve) =>
      execFile(MOSQUITTO_PUB, args, (error) =>
        resolve(error ? ((error as { code?: number }).code ?? 1) : 0),
      ),
    );
    expect(code).toBe(0);
    const [reading] = await viewer.readings.waitForCount(1);
    expect(reading).toMatchObject({ deviceId: id, values: { temperature: 21.5 } });
    expect(await properties).toMatchObject({ userProperties: { site: 'hall-2' } });
    await reader.endAsync();
  });

  it('takes QoS 0 and QoS 1 readings from mqtt.js over MQTT 3.1, 3.1.1 and 5', async () => {
    const versions = [3, 4, 5] as const;
    const ids = versions.map((v) => `mqttjs-v${v}`);
    const viewer = await watch(...ids);
    const t0 = Date.now() - 1000;
    for (const [i, protocolVersion] of versions.entries()) {
      const device = await connectMqtt(backend.pulse.mqttUrl, {
        protocolVersion,
        ...(protocolVersion === 3 ? { protocolId: 'MQIsdp' } : {}),
      });
      for (const qos of [0, 1] as const)
        await device.publishAsync(
          telemetryTopic(ids[i]),
          `{"ts":${t0 + qos},"values":{"v":${i}}}`,
          {
            qos,
          },
        );
      await device.endAsync();
    }
    const readings = await viewer.readings.waitForCount(6);
    expect(readings.map((r) => `${r.deviceId}@${r.ts - t0}`).sort()).toEqual(
      ids.flatMap((id) => [`${id}@0`, `${id}@1`]),
    );
  });

  it('answers a refused publish with PUBACK 0x87 and a refused subscription with 0x87, keeping the connection', async () => {
    const id = 'refused-v5';
    const viewer = await watch(id);
    const before = await refused();
    const device = await v5();
    const nack = await device.publishAsync('other/topic', 'x', { qos: 1 }).then(
      () => null,
      (error: { code?: number }) => error.code,
    );
    expect(nack).toBe(NOT_AUTHORIZED);
    const suback = await device.subscribeAsync('#', { qos: 0 }).then(
      (granted) => granted.map((g) => g.qos),
      (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
    );
    expect(suback).toEqual([NOT_AUTHORIZED]);
    // Still connected: the next reading goes through.
    await device.publishAsync(telemetryTopic(id), '{"values":{"n":1}}', { qos: 1 });
    await viewer.readings.waitForCount(1);
    const after = await refused();
    // A topic nothing reads: refused with 0x87 (an MQTT 3.1.1 sender is acknowledged instead).
    expect(after['mqtt_topic_unread'] - (before['mqtt_topic_unread'] ?? 0)).toBe(1);
    expect(after['mqtt_subscribe_acl'] - (before['mqtt_subscribe_acl'] ?? 0)).toBe(1);
    await device.endAsync();
  });

  it('refuses an unknown username with CONNACK 0x86 (bad user name or password)', async () => {
    const before = (await refused())['mqtt_auth_failed'] ?? 0;
    const error = await v5({ username: 'nobody-v5', password: 'wrong' }).then(
      (client) => {
        client.end(true);
        return null;
      },
      (e: { code?: number }) => e,
    );
    expect(error?.code).toBe(BAD_USERNAME_OR_PASSWORD);
    expect((await refused())['mqtt_auth_failed']).toBe(before + 1);
  });

  /** Resolves with the reason code of the DISCONNECT the broker sends `client`. */
  const disconnected = (client: MqttClient) =>
    new Promise<number | undefined>((resolve) => {
      client.on('error', () => undefined);
      client.once('disconnect', (packet) => resolve(packet.reasonCode));
    });

  it('advertises its maximum packet size and answers a bigger packet with DISCONNECT 0x95', async () => {
    const before = (await refused())['mqtt_oversize'] ?? 0;
    const device = await v5();
    // mqtt.js keeps the CONNACK's properties (and sends the packet anyway).
    const advertised = (device as unknown as { connackPacket?: { properties?: object } })
      .connackPacket?.properties;
    expect(advertised).toMatchObject({ maximumPacketSize: expect.any(Number) });
    const told = disconnected(device);
    device.publish(telemetryTopic('big-v5'), 'x'.repeat(70 * 1024), { qos: 1 });
    expect(await told).toBe(PACKET_TOO_LARGE);
    expect((await refused())['mqtt_oversize']).toBe(before + 1);
    device.end(true);
  });

  it('sends a flooding MQTT 5 client away with DISCONNECT 0x96', async () => {
    const flooder = await v5({ clientId: 'flooder-v5' });
    const told = disconnected(flooder);
    // Past twice the 10 s budget in well under a second.
    for (let i = 0; i < PER_SECOND * 10 * 3 && flooder.connected; i++)
      flooder.publish(telemetryTopic('flooder-v5'), `{"values":{"i":${i}}}`, { qos: 0 });
    expect(await told).toBe(MESSAGE_RATE_TOO_HIGH);
    flooder.end(true);
  });

  it('tells an MQTT 5 device whose credentials are revoked why it is disconnected (0x98)', async () => {
    const id = 'revoked-v5';
    const admin = await adminAuth(backend.pulse.httpUrl);
    const path = backend.api(`/devices/${id}/credentials`);
    const created = await sendJson<{ secret: string }>(path, 'POST', undefined, admin);
    expect(created.status).toBe(201);
    const device = await v5({ username: id, password: created.body.secret });
    const told = disconnected(device);
    expect((await sendJson(path, 'DELETE', undefined, admin)).status).toBe(204);
    expect(await told).toBe(ADMINISTRATIVE_ACTION);
    device.end(true);
  });

  it('keeps an MQTT 5 session across a reconnect, minus the messages whose expiry passed', async () => {
    const id = 'session-v5';
    const session: IClientOptions = {
      clientId: `${id}-reader`,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    };
    const reader = await v5(session);
    await reader.subscribeAsync(telemetryTopic(id), { qos: 1 });
    await reader.endAsync(); // a clean DISCONNECT: the session stays for its expiry interval
    const device = await v5();
    const send = (n: number, properties = {}) =>
      device.publishAsync(telemetryTopic(id), `{"values":{"n":${n}}}`, { qos: 1, properties });
    await send(1, { messageExpiryInterval: 1 });
    await send(2);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // Listening before the CONNACK: the broker sends the queued message right after it.
    const back = mqtt.connect(backend.pulse.mqttUrl, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ...session,
    });
    const received: string[] = [];
    back.on('message', (_topic, payload) => received.push(payload.toString()));
    const connack = new Promise<{ sessionPresent: boolean }>((resolve) =>
      back.once('connect', resolve),
    );
    expect((await connack).sessionPresent).toBe(true);
    await waitFor(() => received.length >= 1, { message: 'the queued message' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual(['{"values":{"n":2}}']);
    await back.endAsync();
    await device.endAsync();
  });

  /**
   * A device announcing itself online, with a Last Will `offline` sent `delay` s after it dies
   * (with `properties`, the will's other properties).
   */
  async function deviceWithDelayedWill(
    id: string,
    delay: number,
    properties: NonNullable<NonNullable<IClientOptions['will']>['properties']> = {},
  ) {
    const options: IClientOptions = {
      clientId: id,
      // The will is sent when the session ends, if that is sooner (MQTT 5 §3.1.3.2.2).
      properties: { sessionExpiryInterval: 60 },
      will: {
        topic: statusTopic(id),
        payload: Buffer.from('offline'),
        qos: 1,
        retain: true,
        properties: { ...properties, willDelayInterval: delay },
      },
    };
    const device = await v5(options);
    await device.publishAsync(statusTopic(id), 'online', { qos: 1, retain: true });
    return { device, options };
  }

  it("publishes a dead device's Last Will after its will delay: Pulse shows it offline then", async () => {
    const id = 'will-v5';
    const viewer = await watch(id);
    const { device } = await deviceWithDelayedWill(id, 1);
    await waitFor(() => viewer.devices.some((d) => d.status === 'online'), {
      message: 'device online',
    });

    const died = Date.now();
    device.stream.destroy(); // abrupt: no DISCONNECT, so the will is due
    const offline = await waitFor(() => viewer.devices.find((d) => d.status === 'offline'), {
      message: 'device offline through its delayed Last Will',
    });
    const after = Date.now() - died;
    expect(offline).toMatchObject({ deviceId: id, status: 'offline' });
    expect(after).toBeGreaterThanOrEqual(950);
    const info = await getJson<DeviceInfo>(backend.api(`/devices/${id}`));
    expect(info.body.status).toBe('offline');
    device.end(true);
  });

  /** A strict MQTT 5 reader of `filter` (mosquitto_sub), printing `topic payload content-type`. */
  const strictReader = (filter: string, count: number) =>
    mosquittoSub(backend.pulse.mqttUrl, [
      ...['-V', 'mqttv5', '-t', filter, '-F', '%t %p %C'],
      ...['-C', String(count), '-W', '10'],
    ]);

  it('hands a delayed Last Will to strict MQTT 5 readers as a valid PUBLISH, live and retained', async () => {
    const id = 'will-strict-v5';
    const { device } = await deviceWithDelayedWill(id, 2, { contentType: 'text/plain' });
    // The retained `online`, then the will.
    const live = strictReader(`devices/${id}/#`, 2);
    try {
      await waitFor(() => live.lines.length >= 1, { message: 'mosquitto_sub to subscribe' });
      const died = Date.now();
      device.stream.destroy();
      // A Will Delay Interval passed on in the PUBLISH: "A network protocol error occurred".
      expect(await live.exit).toEqual({ code: 0, stderr: '' });
      expect(live.lines.map((line) => line.text)).toEqual([
        `${statusTopic(id)} online `,
        `${statusTopic(id)} offline text/plain`,
      ]);
      expect(live.lines[1].at - died).toBeGreaterThanOrEqual(1900);

      const later = strictReader(statusTopic(id), 1);
      expect(await later.exit).toEqual({ code: 0, stderr: '' });
      expect(later.lines.map((line) => line.text)).toEqual([
        `${statusTopic(id)} offline text/plain`,
      ]);
    } finally {
      await live.stop();
      device.end(true);
    }
  });

  it("passes on only a PUBLISH's own properties from a device's publish", async () => {
    const id = 'props-v5';
    const device = await v5();
    // mqtt-packet writes (and Aedes reads) any property in any packet: these are CONNECT's.
    const foreign = { sessionExpiryInterval: 60, maximumPacketSize: 1024 } as object;
    await device.publishAsync(statusTopic(id), 'online', {
      qos: 1,
      retain: true,
      properties: { contentType: 'text/plain', ...foreign },
    });
    const reader = strictReader(statusTopic(id), 1);
    expect(await reader.exit).toEqual({ code: 0, stderr: '' });
    expect(reader.lines.map((line) => line.text)).toEqual([`${statusTopic(id)} online text/plain`]);
    await device.endAsync();
  });

  it('sends no Last Will for a device that reconnects within its will delay', async () => {
    const id = 'blip-v5';
    const viewer = await watch(id);
    const { device, options } = await deviceWithDelayedWill(id, 2);
    device.stream.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await v5({ ...options, clean: false });
    // Past the first connection's will delay: its will was cancelled by the reconnect.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(viewer.devices.map((d) => d.status).filter((s) => s === 'offline')).toEqual([]);
    const info = await getJson<DeviceInfo>(backend.api(`/devices/${id}`));
    expect(info.body.status).toBe('online');
    await again.endAsync();
    device.end(true);
  });
});

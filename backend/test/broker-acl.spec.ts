import type { IngestStats } from '@pulse/protocol';
import { metaTopic, statusTopic, telemetryTopic } from '@pulse/protocol';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { PulseHandle } from '../src/app/pulse';
import {
  collectReadings,
  connectLive,
  connectMqtt,
  getJson,
  publish,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { startTestPulse } from './support/pulse';

const MOSQUITTO_PUB = process.env['MOSQUITTO_PUB_BIN'] ?? '/usr/bin/mosquitto_pub';

// Real: embedded Aedes with Pulse's hooks, mqtt.js and Debian's mosquitto_pub as devices and
// attackers, Socket.IO `/live` as the viewer that must keep receiving the valid device.
describe('embedded broker refuses what an anonymous device must not do', () => {
  let pulse: PulseHandle;
  let viewer: Awaited<ReturnType<typeof connectLive>>;
  let device: MqttClient;
  let received: ReturnType<typeof collectReadings>;
  let sent = 0;
  const good = 'good-1';
  const dir = mkdtempSync(join(tmpdir(), 'pulse-broker-acl-'));

  beforeAll(async () => {
    pulse = await startTestPulse();
    viewer = await connectLive(pulse.httpUrl);
    // The refused senders' ids too: nothing of theirs may reach a viewer.
    await subscribe(viewer, { devices: [good, 'probe-1', 'probe-2', 'big-1', 'junk-1', 'a'] });
    received = collectReadings(viewer);
    device = await connectMqtt(pulse.mqttUrl);
  });

  afterAll(async () => {
    await device?.endAsync();
    viewer?.close();
    await pulse?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.security?.refused ?? {};

  /** A valid reading from the good device, QoS 1 (acknowledged once ingested). */
  const goodReading = () => publish(device, telemetryTopic(good), `{"values":{"n":${++sent}}}`, 1);

  /** Publish as a fresh client; resolves once the broker has closed its connection. */
  async function publishAndExpectClose(
    topic: string,
    payload: string | Buffer,
    retain = false,
    qos: 0 | 1 = 1,
  ): Promise<void> {
    const attacker = await connectMqtt(pulse.mqttUrl);
    const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
    attacker.on('error', () => undefined);
    attacker.publish(topic, payload, { qos, retain });
    await closed;
    attacker.end(true);
    await goodReading();
  }

  /** Every retained message the broker replays under `filter` (subscribing as that device). */
  async function retainedUnder(id: string): Promise<string[]> {
    const reader = await connectMqtt(pulse.mqttUrl);
    const topics: string[] = [];
    reader.on('message', (topic, _payload, packet) => {
      if (packet.retain) topics.push(topic);
    });
    await reader.subscribeAsync(`devices/${id}/#`, { qos: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await reader.endAsync();
    return topics;
  }

  it('closes the connection of an oversize publish (over 64 KiB) and counts it', async () => {
    const before = (await refused())['mqtt_oversize'] ?? 0;
    await goodReading();
    await publishAndExpectClose(telemetryTopic('big-1'), 'x'.repeat(70 * 1024));
    await publishAndExpectClose(telemetryTopic('big-1'), 'x'.repeat(64 * 1024 + 1));
    // A 100 KiB retained meta is refused before it is ever stored.
    await publishAndExpectClose(metaTopic('big-1'), 'x'.repeat(100 * 1024), true);
    expect((await refused())['mqtt_oversize']).toBe(before + 3);
    expect(await retainedUnder('big-1')).toEqual([]);
  });

  it('refuses retained garbage: any retained telemetry, and status/meta over 8 KiB', async () => {
    const before = (await refused())['mqtt_retain'] ?? 0;
    await publishAndExpectClose(telemetryTopic('junk-1'), '{"values":{"n":1}}', true);
    await publishAndExpectClose(
      metaTopic('junk-1'),
      JSON.stringify({ name: 'x'.repeat(9000) }),
      true,
    );
    await publishAndExpectClose(statusTopic('junk-1'), 'x'.repeat(9000), true);
    expect((await refused())['mqtt_retain']).toBe(before + 3);
    expect(await retainedUnder('junk-1')).toEqual([]);

    // The contract's own retained messages still work.
    await publish(device, statusTopic('ok-1'), 'online', 1, true);
    await publish(device, metaTopic('ok-1'), JSON.stringify({ name: 'Ok', group: 'g' }), 1, true);
    expect((await retainedUnder('ok-1')).sort()).toEqual([metaTopic('ok-1'), statusTopic('ok-1')]);
  });

  it('acknowledges and drops a publish on a topic it does not read, keeping the connection', async () => {
    // What firmware sends beside its readings by default (Tasmota's INFO1 and retained discovery
    // config, ESPHome's debug log) and what no device may use to reach another (a device's own
    // topics outside the contract, $SYS): MQTT 3.1.1 has no negative PUBACK, so closing was the
    // other choice, and firmware then reconnects in a loop and never delivers a reading.
    const before = await refused();
    const spy = await connectMqtt(pulse.mqttUrl);
    const seen: string[] = [];
    spy.on('message', (topic) => seen.push(topic));
    await spy.subscribeAsync('devices/a/#', { qos: 1 });
    const firmware = await connectMqtt(pulse.mqttUrl);
    let closes = 0;
    firmware.on('close', () => closes++);
    const unread = [
      ['tele/a/INFO1', '{"Info1":{"Module":"Generic"}}', 0, false],
      ['tasmota/discovery/AABBCC/config', '{"ip":"10.0.0.9"}', 1, true],
      ['a/debug', 'boot', 2, false],
      ['other/topic', '{"values":{"n":1}}', 1, false],
      ['devices/a/telemetry/x', '{"values":{"n":1}}', 1, true],
      ['devices/bad id!/telemetry', '{"values":{"n":1}}', 1, false],
      ['$SYS/broker/fake', '1', 1, false],
    ] as const;
    for (const [topic, payload, qos, retain] of unread)
      await firmware.publishAsync(topic, payload, { qos, retain }); // acknowledged (QoS 1, 2)
    // The same connection's reading after them is read.
    await firmware.publishAsync(telemetryTopic('a'), '{"values":{"n":7}}', { qos: 1 });
    await waitFor(() => received.readings.find((r) => r.deviceId === 'a'), {
      message: "the firmware's reading after its unread topics",
    });
    expect(closes).toBe(0);
    expect(firmware.connected).toBe(true);
    await firmware.endAsync();
    await spy.endAsync();
    const after = await refused();
    expect(after['mqtt_topic_unread'] - (before['mqtt_topic_unread'] ?? 0)).toBe(unread.length);
    expect(after['mqtt_publish_acl'] ?? 0).toBe(before['mqtt_publish_acl'] ?? 0);
    // Delivered to nobody (a subscriber under the id they name got only the reading), kept by
    // nobody.
    expect(seen).toEqual([telemetryTopic('a')]);
    expect(await retainedUnder('a')).toEqual([]);
    const stats = (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body;
    expect(stats.sources?.unmatchedTopics).toEqual(expect.arrayContaining(['tele/a/INFO1']));
  });

  it('closes the connection of a publish to a wildcard or empty topic, and counts it', async () => {
    // Aedes refuses these itself, before any hook of ours (MQTT 3.1.1 §3.3.2.1, [MQTT-3.3.2-2]);
    // mqtt.js sends them as they are (an empty topic at QoS 0 only).
    const before = (await refused())['mqtt_publish_acl'] ?? 0;
    await publishAndExpectClose('devices/+/telemetry', '{"values":{"n":1}}');
    await publishAndExpectClose('devices/#', '{"values":{"n":1}}');
    await publishAndExpectClose('', '{"values":{"n":1}}', false, 0);
    expect((await refused())['mqtt_publish_acl']).toBe(before + 3);
  });

  it('grants no subscription across devices (QoS 128) and delivers nothing on it', async () => {
    const before = (await refused())['mqtt_subscribe_acl'] ?? 0;
    const spy = await connectMqtt(pulse.mqttUrl);
    const seen: string[] = [];
    spy.on('message', (topic) => seen.push(topic));
    const filters = ['#', 'devices/#', 'devices/+/telemetry', '+/good-1/telemetry', '$SYS/#'];
    // mqtt.js rejects a SUBACK with a failure code and hands over the packet.
    const suback = await spy.subscribeAsync(filters, { qos: 0 }).then(
      () => null,
      (error: { packet?: { granted?: number[] } }) => error.packet,
    );
    expect(suback?.granted).toEqual(filters.map(() => 128));
    const own = await spy.subscribeAsync('devices/spy-1/#', { qos: 0 });
    expect(own.map((g) => g.qos)).toEqual([0]);
    await goodReading();
    await goodReading();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toEqual([]);
    expect((await refused())['mqtt_subscribe_acl']).toBe(before + filters.length);
    await spy.endAsync();
  });

  describe('with mosquitto_pub', () => {
    const pub = (...args: string[]): Promise<number> => {
      const port = new URL(pulse.mqttUrl).port;
      return new Promise((resolve) =>
        execFile(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', port, ...args], (error) =>
          resolve(error ? ((error as { code?: number }).code ?? 1) : 0),
        ),
      );
    };

    it("keeps the README's line working", async () => {
      expect(
        await pub('-t', 'devices/probe-1/telemetry', '-m', '{"values":{"temperature":21.5}}'),
      ).toBe(0);
      await waitFor(() => received.readings.find((r) => r.deviceId === 'probe-1'), {
        message: 'the README reading on /live',
      });
    });

    it('refuses an oversize file, retained telemetry and a foreign topic', async () => {
      const before = await refused();
      const big = join(dir, 'big.json');
      writeFileSync(big, JSON.stringify({ values: { n: 1 }, pad: 'x'.repeat(80 * 1024) }));
      await pub('-q', '1', '-t', telemetryTopic('probe-2'), '-f', big);
      await goodReading();
      await pub('-q', '1', '-r', '-t', telemetryTopic('probe-2'), '-m', '{"values":{"n":1}}');
      await goodReading();
      // Acknowledged and dropped: mosquitto_pub exits 0.
      expect(await pub('-q', '1', '-t', 'other/topic', '-m', 'x')).toBe(0);
      await goodReading();
      const after = await refused();
      expect(after['mqtt_oversize'] - (before['mqtt_oversize'] ?? 0)).toBe(1);
      expect(after['mqtt_retain'] - (before['mqtt_retain'] ?? 0)).toBe(1);
      expect(after['mqtt_topic_unread'] - (before['mqtt_topic_unread'] ?? 0)).toBe(1);
      expect(await retainedUnder('probe-2')).toEqual([]);
    });
  });

  it("delivered every one of the valid device's readings to /live, in order", async () => {
    const readings = await received.waitForCount(sent + 1); // + the README's probe-1 reading
    const ns = readings.filter((r) => r.deviceId === good).map((r) => r.values['n']);
    expect(ns).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    // And the readings of the firmware that also published unread topics ('a').
    expect(readings.some((r) => ![good, 'probe-1', 'a'].includes(r.deviceId))).toBe(false);
  });
});

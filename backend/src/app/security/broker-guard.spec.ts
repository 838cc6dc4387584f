import { metaTopic, statusTopic, telemetryTopic } from '@pulse/protocol';
import { loadSources } from '../ingest/sources/source-spec';
import { SourceRouter } from '../ingest/sources/source-router';
import type { Client, ConnectPacket } from 'aedes';
import {
  ANONYMOUS,
  BrokerAuthenticator,
  BrokerIdentity,
  describeIdentity,
  sameIdentity,
} from './broker-auth';
import {
  droppedNotClosed,
  forwardAllowed,
  MAX_RETAINED_BYTES,
  MqttFrameGuard,
  ownsDevice,
  publishRefusal,
  subscriptionAllowed,
} from './broker-guard';
import { SecurityCounters } from './security-counters.service';

/**
 * PUBLISH fixed headers (QoS 0) by remaining length, encoded by hand as MQTT 3.1.1 §2.2.3
 * says: 7 bits per byte, least significant first, high bit set when more bytes follow.
 */
const HEADERS: Record<number, number[]> = {
  10: [0x30, 0x0a],
  100: [0x30, 0x64],
  101: [0x30, 0x65],
  200: [0x30, 0xc8, 0x01],
  1000: [0x30, 0xe8, 0x07],
  [100 * 1024]: [0x30, 0x80, 0xa0, 0x06],
};
const header = (remaining: number): Buffer => Buffer.from(HEADERS[remaining]);

describe('MqttFrameGuard', () => {
  it('follows packets split across chunks at any byte and passes those within the bound', () => {
    const sut = new MqttFrameGuard(1000);
    const stream = Buffer.concat([
      header(1000),
      Buffer.alloc(1000),
      Buffer.from([0xc0, 0x00]), // PINGREQ: remaining length 0
      header(200),
      Buffer.alloc(200),
    ]);
    for (let i = 0; i < stream.length; i += 7) {
      expect(sut.feed(stream.subarray(i, i + 7))).toBe(-1);
    }
  });

  it('reports an oversize packet from its header bytes, one byte at a time', () => {
    const sut = new MqttFrameGuard(65_536 + 1024);
    expect(sut.feed(header(10))).toBe(-1);
    expect(sut.feed(Buffer.alloc(10))).toBe(-1);
    const big = header(100 * 1024);
    const results = [...big].map((byte) => sut.feed(Buffer.from([byte])));
    expect(results.slice(0, -1).every((r) => r === -1)).toBe(true);
    expect(results.at(-1)).toBe(100 * 1024);
  });

  it('does not mistake body bytes for headers', () => {
    const sut = new MqttFrameGuard(100);
    // A body full of bytes that would read as a huge remaining length if taken for a header.
    expect(sut.feed(Buffer.concat([header(100), Buffer.alloc(100, 0xff)]))).toBe(-1);
    expect(sut.feed(header(101))).toBe(101);
  });
});

describe('publishRefusal', () => {
  it('allows the contract: telemetry, retained status and meta within the bounds', () => {
    expect(publishRefusal(telemetryTopic('probe-1'), 64 * 1024, false)).toBeNull();
    expect(publishRefusal(statusTopic('probe-1'), 7, true)).toBeNull();
    expect(publishRefusal(metaTopic('probe-1'), MAX_RETAINED_BYTES, true)).toBeNull();
    expect(publishRefusal(telemetryTopic('probe-1'), 0, true)).toBeNull(); // clears only
  });

  it.each([
    ['other/topic', 10, false, 'mqtt_topic_unread'],
    ['devices/a/telemetry/x', 10, false, 'mqtt_topic_unread'],
    ['devices/+/telemetry', 10, false, 'mqtt_topic_unread'],
    ['$SYS/x', 10, false, 'mqtt_topic_unread'],
    [telemetryTopic('a'), 64 * 1024 + 1, false, 'mqtt_oversize'],
    [telemetryTopic('a'), 10, true, 'mqtt_retain'],
    [metaTopic('a'), MAX_RETAINED_BYTES + 1, true, 'mqtt_retain'],
  ] as const)('refuses %s (%i bytes, retain %s) as %s', (topic, bytes, retain, reason) => {
    expect(publishRefusal(topic, bytes, retain)?.reason).toBe(reason);
  });
});

describe('subscriptionAllowed', () => {
  it('allows a device its own topics only', () => {
    expect(subscriptionAllowed('devices/probe-1/#')).toBe(true);
    expect(subscriptionAllowed('devices/probe-1/+')).toBe(true);
    expect(subscriptionAllowed('devices/probe-1/meta')).toBe(true);
    for (const filter of [
      '#',
      'devices/#',
      'devices/+/meta',
      '+/probe-1/meta',
      '$SYS/#',
      'devices/probe-1',
      'devices/probe-1/',
    ]) {
      expect({ filter, allowed: subscriptionAllowed(filter) }).toEqual({ filter, allowed: false });
    }
  });
});

describe('ownsDevice and the ACL per identity', () => {
  const reserved = { isReserved: (id: string) => id === 'owned-1' };
  const device: BrokerIdentity = { kind: 'device', deviceId: 'owned-1' };
  const simulator: BrokerIdentity = {
    kind: 'service',
    name: 'pulse:simulator',
    mayPublishFor: (id) => id.startsWith('sim-'),
  };

  it('a device publishes and subscribes under its own id only', () => {
    expect(publishRefusal(telemetryTopic('owned-1'), 10, false, device, reserved)).toBeNull();
    expect(publishRefusal(telemetryTopic('other-1'), 10, false, device, reserved)?.reason).toBe(
      'mqtt_publish_acl',
    );
    expect(subscriptionAllowed('devices/owned-1/status', device, reserved)).toBe(true);
    expect(subscriptionAllowed('devices/other-1/status', device, reserved)).toBe(false);
  });

  it('an id with credentials is closed to anonymous clients and to the simulator', () => {
    expect(publishRefusal(telemetryTopic('owned-1'), 10, false, ANONYMOUS, reserved)?.reason).toBe(
      'mqtt_publish_acl',
    );
    expect(publishRefusal(telemetryTopic('free-1'), 10, false, ANONYMOUS, reserved)).toBeNull();
    expect(subscriptionAllowed('devices/owned-1/#', ANONYMOUS, reserved)).toBe(false);
    expect(ownsDevice(simulator, { isReserved: () => true }, 'sim-001')).toBe(false);
  });

  it('the simulator publishes for its fleet only and subscribes to nothing', () => {
    expect(publishRefusal(statusTopic('sim-001'), 6, true, simulator, reserved)).toBeNull();
    expect(publishRefusal(statusTopic('free-1'), 6, true, simulator, reserved)?.reason).toBe(
      'mqtt_publish_acl',
    );
    expect(subscriptionAllowed('devices/sim-001/status', simulator, reserved)).toBe(false);
  });

  it('only the same identity may take over a client id', () => {
    expect(sameIdentity(device, { kind: 'device', deviceId: 'owned-1' })).toBe(true);
    expect(sameIdentity(device, { kind: 'device', deviceId: 'other-1' })).toBe(false);
    expect(sameIdentity(device, ANONYMOUS)).toBe(false);
    expect(sameIdentity(ANONYMOUS, device)).toBe(false);
    expect(sameIdentity(ANONYMOUS, ANONYMOUS)).toBe(true);
    expect(sameIdentity(simulator, { ...simulator })).toBe(true);
  });
});

describe('a bridge (zigbee2mqtt, Home Assistant discovery): many devices on one connection', () => {
  const reserved = { isReserved: (id: string) => id === 'owned-1' };
  const bridge: BrokerIdentity = { kind: 'bridge', name: 'house' };
  const device: BrokerIdentity = { kind: 'device', deviceId: 'owned-1' };
  const z2m = new SourceRouter(loadSources('zigbee2mqtt', undefined));
  const withHa = new SourceRouter(loadSources('zigbee2mqtt,homeassistant', undefined));
  const publishes = (topic: string, identity: BrokerIdentity, bytes = 20, retain = false) =>
    publishRefusal(topic, bytes, retain, identity, reserved, z2m);

  it('publishes what an anonymous client may, for any id without credentials', () => {
    expect(publishes('zigbee2mqtt/Kitchen Temp', bridge)).toBeNull();
    expect(publishes('zigbee2mqtt/Kitchen Temp/availability', bridge, 6, true)).toBeNull();
    // zigbee2mqtt's own topics (named in no topic): anonymous and bridges, never a device's.
    expect(publishes('zigbee2mqtt/bridge/state', bridge, 18, true)).toBeNull();
    expect(publishes('zigbee2mqtt/bridge/state', device, 18, true)?.reason).toBe(
      'mqtt_publish_acl',
    );
    expect(publishes(telemetryTopic('free-1'), bridge)).toBeNull();
    expect(ownsDevice(bridge, reserved, 'free-1')).toBe(true);
  });

  it('is refused an id with credentials, the same bounds as anyone, and topics nothing reads', () => {
    expect(publishes('zigbee2mqtt/owned-1', bridge)?.reason).toBe('mqtt_publish_acl');
    expect(publishes(telemetryTopic('owned-1'), bridge)?.reason).toBe('mqtt_publish_acl');
    expect(publishes('zigbee2mqtt/bridge/info', bridge, MAX_RETAINED_BYTES + 1, true)?.reason).toBe(
      'mqtt_retain',
    );
    expect(publishes('zigbee2mqtt/x', bridge, 64 * 1024 + 1)?.reason).toBe('mqtt_oversize');
    expect(publishes(telemetryTopic('free-1'), bridge, 10, true)?.reason).toBe('mqtt_retain');
    expect(publishes('tele/plug/SENSOR', bridge)?.reason).toBe('mqtt_topic_unread');
  });

  it("is answered by a drop, not a close, whatever the refusal: one device's message must not cut off the others", () => {
    const refusal = publishes('zigbee2mqtt/owned-1', bridge);
    expect(refusal && droppedNotClosed(refusal, bridge)).toBe(true);
    const anonymous = publishes('zigbee2mqtt/owned-1', ANONYMOUS);
    expect(anonymous && droppedNotClosed(anonymous, ANONYMOUS)).toBe(false);
    const unread = publishes('tele/plug/SENSOR', ANONYMOUS);
    expect(unread && droppedNotClosed(unread, ANONYMOUS)).toBe(true);
  });

  it("subscribes under the configured sources' prefixes and to free ids' contract topics only", () => {
    const allowed = (filter: string, sources = z2m, identity: BrokerIdentity = bridge) =>
      subscriptionAllowed(filter, identity, reserved, sources);
    for (const filter of [
      'zigbee2mqtt/#',
      'zigbee2mqtt/+/set',
      'zigbee2mqtt/bridge/request/#',
      'devices/free-1/#',
    ])
      expect({ filter, allowed: allowed(filter) }).toEqual({ filter, allowed: true });
    for (const filter of [
      '#',
      '+/#',
      '+/status',
      '$SYS/#',
      'devices/#',
      'devices/+/telemetry',
      'devices/owned-1/#',
      'homeassistant/status',
      'tele/#',
    ])
      expect({ filter, allowed: allowed(filter) }).toEqual({ filter, allowed: false });
    // zigbee2mqtt's Home Assistant birth topic, once the homeassistant preset reads that prefix.
    expect(allowed('homeassistant/status', withHa)).toBe(true);
    expect(allowed('homeassistant/#', withHa)).toBe(true);
    // Never anyone else: the prefixes are a bridge's alone.
    expect(allowed('zigbee2mqtt/#', z2m, ANONYMOUS)).toBe(false);
    expect(allowed('zigbee2mqtt/#', z2m, device)).toBe(false);
  });

  it('is never sent what names a device with credentials, nor anything outside its sources and the contract', () => {
    const forward = (topic: string, identity: BrokerIdentity = bridge) =>
      forwardAllowed(topic, identity, reserved, z2m);
    expect(forward('zigbee2mqtt/owned-1')).toBe(false);
    expect(forward(telemetryTopic('owned-1'))).toBe(false);
    expect(forward('zigbee2mqtt/Kitchen Temp')).toBe(true);
    expect(forward('zigbee2mqtt')).toBe(true);
    expect(forward('zigbee2mqtt/owned-1/set')).toBe(true); // a command, named by no device
    expect(forward('zigbee2mqtt/bridge/request/health_check')).toBe(true);
    expect(forward(telemetryTopic('free-1'))).toBe(true);
    // What a bridge's session may hold without its own filters having asked for it.
    expect(forward('zigbee2mqttx/Kitchen')).toBe(false);
    expect(forward('tele/plug/SENSOR')).toBe(false);
    expect(forward('$SYS/broker/uptime')).toBe(false);
  });

  it('sends everyone only what they may read: a device its own topics, anonymous the free ids, the simulator nothing', () => {
    const forward = (topic: string, identity: BrokerIdentity) =>
      forwardAllowed(topic, identity, reserved, z2m);
    expect(forward(telemetryTopic('owned-1'), device)).toBe(true);
    expect(forward('devices/owned-1/anything/else', device)).toBe(true);
    expect(forward(telemetryTopic('free-1'), device)).toBe(false);
    expect(forward('zigbee2mqtt/owned-1', device)).toBe(false);
    expect(forward(telemetryTopic('free-1'), ANONYMOUS)).toBe(true);
    expect(forward(telemetryTopic('owned-1'), ANONYMOUS)).toBe(false);
    expect(forward('zigbee2mqtt/Kitchen Temp', ANONYMOUS)).toBe(false);
    expect(forward('devices//telemetry', ANONYMOUS)).toBe(false);
    expect(forward('devices/free-1/', ANONYMOUS)).toBe(false);
    const simulator: BrokerIdentity = { kind: 'service', name: 'sim', mayPublishFor: () => true };
    expect(forward(telemetryTopic('sim-001'), simulator)).toBe(false);
  });

  it('is refused and withheld a topic when any claim on it names an id with credentials, announced or not', () => {
    // Credentials made after an announcement named the id: the topic is the device's now.
    const ids = new Set<string>();
    const later = { isReserved: (id: string) => ids.has(id) };
    const sources = new SourceRouter(loadSources('homeassistant', undefined), later);
    const announce = (object: string, stat_t: string, avty_t: string, id: string) =>
      sources.route(
        `homeassistant/sensor/n/${object}/config`,
        JSON.stringify({ stat_t, avty_t, dev: { ids: id }, uniq_id: object }),
        0,
      );
    announce('a', 'tele/hall/STATE', 'tele/house/LWT', 'late-1');
    announce('b', 'tele/desk/STATE', 'tele/house/LWT', 'free-2');
    ids.add('late-1');
    const owner: BrokerIdentity = { kind: 'device', deviceId: 'late-1' };
    const refusal = (topic: string, identity: BrokerIdentity) =>
      publishRefusal(topic, 6, false, identity, later, sources)?.reason ?? null;
    expect(refusal('tele/hall/STATE', bridge)).toBe('mqtt_publish_acl');
    expect(refusal('tele/hall/STATE', owner)).toBeNull();
    // Shared by both devices: never a device's, and no longer a bridge's either.
    expect(refusal('tele/house/LWT', bridge)).toBe('mqtt_publish_acl');
    expect(refusal('tele/house/LWT', owner)).toBe('mqtt_publish_acl');
    expect(refusal('tele/desk/STATE', bridge)).toBeNull();
    expect(forwardAllowed('tele/hall/STATE', bridge, later, sources)).toBe(false);
    expect(forwardAllowed('tele/house/LWT', bridge, later, sources)).toBe(false);
    expect(forwardAllowed('tele/desk/STATE', bridge, later, sources)).toBe(true);
  });

  it('is given a clean session whatever its CONNECT asks; nobody else is', async () => {
    const auth = new BrokerAuthenticator(new SecurityCounters(), {
      anonymousDevices: false,
      identify: () => null,
      isReserved: () => false,
      ownerOfClientId: () => null,
      connected: () => undefined,
    });
    const connect = async (packet: Partial<ConnectPacket>) => {
      const accepted = await new Promise<boolean>((resolve) =>
        auth.preConnect({} as Client, packet as ConnectPacket, (_error, ok) => resolve(ok)),
      );
      expect(accepted).toBe(true);
      return packet;
    };
    expect(await connect({ username: 'bridge:house', clean: false, protocolVersion: 4 })).toEqual({
      username: 'bridge:house',
      clean: true,
      protocolVersion: 4,
    });
    expect(
      await connect({
        username: 'bridge:house',
        clean: false,
        protocolVersion: 5,
        properties: { sessionExpiryInterval: 3600 },
      }),
    ).toMatchObject({ clean: true, properties: { sessionExpiryInterval: 0 } });
    expect(await connect({ username: 'owned-1', clean: false })).toMatchObject({ clean: false });
    expect(await connect({ clean: false })).toMatchObject({ clean: false });
  });

  it('is its own identity, named in logs by its name', () => {
    expect(sameIdentity(bridge, { kind: 'bridge', name: 'house' })).toBe(true);
    expect(sameIdentity(bridge, { kind: 'bridge', name: 'shed' })).toBe(false);
    expect(sameIdentity(bridge, ANONYMOUS)).toBe(false);
    expect(sameIdentity(ANONYMOUS, bridge)).toBe(false);
    expect(describeIdentity(bridge)).toBe('bridge "house"');
  });
});

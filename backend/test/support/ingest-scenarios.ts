/**
 * The ingest → live scenarios every broker must pass (valid readings over both transports,
 * history in the acknowledgement, rejections counted, Last Will), registered as jest tests by
 * the spec of each broker. Owns its device client and live clients; the backend and broker under
 * test belong to the calling spec.
 */
import {
  fromWire,
  DeviceInfo,
  IngestStats,
  RejectReason,
  statusTopic,
  telemetryTopic,
} from '@pulse/protocol';
import {
  collectReadings,
  connectMqtt,
  endMqtt,
  getJson,
  liveClients,
  publish,
  publishTelemetry,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';

export interface IngestTarget {
  /** Backend under test. */
  httpUrl: string;
  /** Broker devices publish to (embedded Aedes or an external mosquitto). */
  brokerUrl: string;
  /**
   * The broker itself refuses bad topics and oversize packets (the embedded broker's ACL,
   * test/broker-acl.spec.ts) by closing the sender's connection, so they never reach the ingest.
   */
  brokerRefuses?: boolean;
}

/**
 * The ingest → live behaviours, written once and run against every broker
 * (embedded Aedes and Debian's mosquitto). Call inside a `describe` whose
 * beforeAll fills the target.
 */
export function ingestScenarios(target: () => IngestTarget): void {
  let device: MqttClient;
  const clients = liveClients(() => target().httpUrl);
  const live = clients.open;
  const stats = async () => (await getJson<IngestStats>(`${target().httpUrl}/api/stats`)).body;

  beforeEach(async () => {
    device = await connectMqtt(target().brokerUrl);
  });

  afterEach(async () => {
    await clients.closeAll();
    await endMqtt(device);
  });

  for (const transport of ['websocket', 'polling'] as const) {
    it(`delivers QoS 0 and QoS 1, single and batch readings to a ${transport} client`, async () => {
      const id = `dev-${transport}`;
      const socket = await live([transport]);
      expect(socket.io.engine.transport.name).toBe(transport);
      const ack = await subscribe(socket, { devices: [id] });
      expect(ack).toMatchObject({ ok: true, rooms: [`device:${id}`] });
      const received = collectReadings(socket);

      const t0 = Date.now() - 1000;
      await publishTelemetry(device, id, { ts: t0, values: { a: 1 } }, 0);
      await publishTelemetry(device, id, { ts: t0 + 1, values: { a: 2 } }, 1);
      const batch = [
        { ts: t0 + 2, values: { a: 3 } },
        { ts: t0 + 3, values: { a: 4, b: 5 } },
      ];
      await publishTelemetry(device, id, batch, 1);
      await publishTelemetry(device, id, [{ ts: t0 + 4, a: 6 }], 0);

      const readings = await received.waitForCount(5);
      expect(readings).toEqual([
        { deviceId: id, ts: t0, values: { a: 1 } },
        { deviceId: id, ts: t0 + 1, values: { a: 2 } },
        { deviceId: id, ts: t0 + 2, values: { a: 3 } },
        { deviceId: id, ts: t0 + 3, values: { a: 4, b: 5 } },
        { deviceId: id, ts: t0 + 4, values: { a: 6 } },
      ]);
    });
  }

  it('sends the history published before subscribing in the subscribe acknowledgement', async () => {
    const id = 'dev-history';
    const t0 = Date.now() - 10_000;
    for (let i = 0; i < 3; i++) {
      await publishTelemetry(device, id, { ts: t0 + i * 1000, values: { temp: 20 + i } });
    }
    await waitFor(
      async () =>
        (await getJson<DeviceInfo>(`${target().httpUrl}/api/devices/${id}`)).body.lastTs ===
        t0 + 2000,
      {
        message: 'history recorded',
      },
    );

    const socket = await live();
    const ack = await subscribe(socket, { devices: [id] });
    if (!ack.ok) throw new Error(ack.error);
    expect(ack.devices.map((d) => d.deviceId)).toEqual([id]);
    expect(ack.history).toEqual([
      {
        deviceId: id,
        metric: 'temp',
        t: [t0, t0 + 1000, t0 + 2000],
        v: [20, 21, 22],
      },
    ]);

    const since = await subscribe(socket, {
      devices: [id],
      since: t0 + 500,
      maxPoints: 1,
    });
    expect(since.ok && fromWire(since.history[0]).t).toEqual([t0 + 2000]);
    const none = await subscribe(socket, { devices: [id], history: false });
    expect(none.ok && none.history).toEqual([]);
  });

  it('keeps every valid reading flowing between bad messages and counts each rejection reason', async () => {
    const id = 'dev-mixed';
    const socket = await live();
    await subscribe(socket, { devices: [id] });
    const received = collectReadings(socket);
    const before = await stats();

    const topic = telemetryTopic(id);
    const valid = (n: number) => JSON.stringify({ values: { n } });
    const refusedByBroker = target().brokerRefuses === true;
    const sequence: [string, string | Buffer][] = [
      [topic, valid(1)],
      [topic, '{"values": {"n": 1'], // json
      [topic, valid(2)],
      [topic, '{"values": {"n": 1e999}}'], // value (Infinity)
      [topic, valid(3)],
      ...(refusedByBroker
        ? []
        : ([
            ['devices/bad id!/telemetry', valid(99)], // topic
            [topic, valid(4)],
            [telemetryTopic('x'.repeat(65)), valid(99)], // topic
            [topic, valid(5)],
            [topic, JSON.stringify({ values: { n: 1, pad: 'x'.repeat(70 * 1024) } })], // oversize
          ] as [string, string][])),
      [topic, valid(6)],
      [topic, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])], // encoding
      [topic, valid(7)],
    ];
    const validCount = refusedByBroker ? 5 : 7;
    for (const [t, payload] of sequence) await publish(device, t, payload, 1);

    const readings = await received.waitForCount(validCount);
    expect(readings.map((r) => r.values['n'])).toEqual(
      refusedByBroker ? [1, 2, 3, 6, 7] : [1, 2, 3, 4, 5, 6, 7],
    );

    const expected: Partial<Record<RejectReason, number>> = {
      json: 1,
      value: 1,
      topic: refusedByBroker ? 0 : 2,
      oversize: refusedByBroker ? 0 : 1,
      encoding: 1,
    };
    const after = await waitFor(async () => {
      const now = await stats();
      return now.messages.received - before.messages.received >= sequence.length ? now : null;
    });
    for (const [reason, count] of Object.entries(expected)) {
      expect({
        reason,
        count: after.rejected[reason as RejectReason] - before.rejected[reason as RejectReason],
      }).toEqual({ reason, count });
    }
    expect(after.readings.accepted - before.readings.accepted).toBe(validCount);
    expect(after.readings.rejected - before.readings.rejected).toBe(refusedByBroker ? 3 : 6);
  });

  it('marks a device offline through its Last Will when its connection drops', async () => {
    const id = 'dev-will';
    const socket = await live();
    const events: DeviceInfo[] = [];
    socket.on('devices', (list) => events.push(...list));
    await subscribe(socket, { devices: [id] });

    const doomed = await connectMqtt(target().brokerUrl, {
      will: {
        topic: statusTopic(id),
        payload: Buffer.from('offline'),
        qos: 1,
        retain: true,
      },
    });
    await publish(doomed, statusTopic(id), 'online', 1, true);
    await waitFor(() => events.some((e) => e.status === 'online'), {
      message: 'device online',
    });

    doomed.stream.destroy(); // abrupt: no DISCONNECT, so the broker publishes the will
    const offline = await waitFor(() => events.find((e) => e.status === 'offline'), {
      message: 'device offline via Last Will',
    });
    expect(offline).toMatchObject({ deviceId: id, status: 'offline' });
    doomed.end(true);
  });
}

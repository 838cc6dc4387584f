import { Aedes } from 'aedes';
import mqtt, { MqttClient } from 'mqtt';
import { AddressInfo, createServer, Server } from 'node:net';
import { InProcessDelivery, InProcessHandler } from './in-process-delivery';

// Real: Aedes on a TCP port, a device through mqtt.js. Observed: the bytes the broker writes to
// the device's connection (MQTT packet types in order), and what the in-process handler gets.

/** Types of the MQTT packets in `bytes` (fixed header: type nibble, variable-length size). */
function packetTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  let at = 0;
  while (at < bytes.length) {
    types.push(bytes[at] >> 4);
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[++at];
      size += (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    at += 1 + size;
  }
  return types;
}
const PUBACK = 4;

describe('InProcessDelivery (the embedded broker to the ingest)', () => {
  let aedes: Aedes;
  let server: Server;
  let sut: InProcessDelivery;
  let device: MqttClient;
  /** Everything the broker wrote to the device so far. */
  let written: Buffer;
  const pubacks = () => packetTypes(written).filter((t) => t === PUBACK).length;
  /** Per message the handler got: topic, payload, QoS and the PUBACKs written before it. */
  let got: { topic: string; payload: string; qos: number; pubacksBefore: number }[];
  let reply: () => void | Promise<void>;
  const handler: InProcessHandler = (topic, payload, qos) => {
    got.push({ topic, payload: payload.toString(), qos, pubacksBefore: pubacks() });
    return reply();
  };

  beforeEach(async () => {
    got = [];
    written = Buffer.alloc(0);
    reply = () => undefined;
    sut = new InProcessDelivery();
    aedes = new Aedes({ authorizePublish: sut.beforeAck((_c, _p, callback) => callback(null)) });
    await aedes.listen();
    server = createServer((socket) => {
      const write = socket.write.bind(socket) as (chunk: Buffer, ...rest: unknown[]) => boolean;
      socket.write = ((chunk: Buffer, ...rest: unknown[]) => {
        written = Buffer.concat([written, Buffer.from(chunk)]);
        return write(chunk, ...rest);
      }) as typeof socket.write;
      aedes.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await sut.subscribe(aedes, ['devices/+/telemetry'], handler);
    const { port } = server.address() as AddressInfo;
    device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'd1' });
  });

  afterEach(async () => {
    await device.endAsync(true);
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('hands every QoS 1 message over before its PUBACK is written, once', async () => {
    // A burst: Aedes parses the lot from one read and acknowledges each as it authorizes it.
    const sent = Array.from({ length: 20 }, (_, i) =>
      device.publishAsync('devices/d1/telemetry', `m${i}`, { qos: 1 }),
    );
    await Promise.all(sent);
    await new Promise((resolve) => setTimeout(resolve, 50)); // routing done: nothing more comes
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(got.map((m) => m.pubacksBefore)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(got.every((m) => m.qos === 1 && m.topic === 'devices/d1/telemetry')).toBe(true);
    expect(pubacks()).toBe(20);
  });

  it('delivers QoS 0 and 2 messages the ordinary way, once each, and nothing it did not subscribe to', async () => {
    await device.publishAsync('devices/d1/telemetry', 'zero', { qos: 0 });
    await device.publishAsync('devices/d1/telemetry', 'two', { qos: 2 });
    await device.publishAsync('devices/d1/status', 'online', { qos: 1 });
    await device.publishAsync('devices/d1/telemetry', 'one', { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(got.map(({ payload, qos }) => ({ payload, qos }))).toEqual([
      { payload: 'zero', qos: 0 },
      { payload: 'two', qos: 2 },
      { payload: 'one', qos: 1 },
    ]);
  });

  it('delivers no $ topic to a filter that starts with a wildcard, at any QoS (MQTT 4.7.2)', async () => {
    // A custom ingest source may subscribe '#'; the broker sends what it drops to $pulse/dropped.
    const wild: string[] = [];
    await sut.subscribe(aedes, ['#', '+/dropped'], (topic) => void wild.push(topic));
    for (const qos of [0, 1, 2] as const) {
      await device.publishAsync('$pulse/dropped', 'x', { qos });
      await device.publishAsync('plain/topic', 'y', { qos });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(wild).toEqual(['plain/topic', 'plain/topic', 'plain/topic']);
  });

  it('acknowledges the message it took, and holds every further publish while the handler holds', async () => {
    let release!: () => void;
    reply = () => new Promise<void>((resolve) => (release = resolve));
    await device.publishAsync('devices/d1/telemetry', 'taken', { qos: 1 });
    reply = () => undefined;
    let acked = false;
    const after = device
      .publishAsync('devices/d1/telemetry', 'after', { qos: 1 })
      .then(() => (acked = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(got.map((m) => m.payload)).toEqual(['taken']);
    expect({ acked, pubacks: pubacks() }).toEqual({ acked: false, pubacks: 1 });

    release();
    await after;
    expect(got.map((m) => m.payload)).toEqual(['taken', 'after']);
    expect(pubacks()).toBe(2);
  });

  it('stops delivering once unsubscribed', async () => {
    const off = await sut.subscribe(aedes, ['devices/+/status'], handler);
    await device.publishAsync('devices/d1/status', 'online', { qos: 1 });
    await off();
    await device.publishAsync('devices/d1/status', 'offline', { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(got.map((m) => m.payload)).toEqual(['online']);
  });
});

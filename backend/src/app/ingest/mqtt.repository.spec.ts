import { Logger } from '@nestjs/common';
import { telemetryTopic } from '@pulse/protocol';
import mqtt from 'mqtt';
import { Aedes } from 'aedes';
import { AddressInfo, createServer } from 'node:net';
import { MqttRepository } from './mqtt.repository';

// Real: mqtt.js and the embedded Aedes broker on a TCP port. Fake: the clock and timers
// (setTimeout/setInterval/Date), so reconnect backoff runs without waiting; I/O stays real.

/** Spin the event loop (real I/O) while advancing fake time, until `done()` or 60 s of fake time. */
async function until(done: () => boolean, stepMs = 100): Promise<void> {
  for (let waited = 0; !done(); waited += stepMs) {
    if (waited > 60_000) throw new Error('condition not met within 60 s of fake time');
    await jest.advanceTimersByTimeAsync(stepMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('MqttRepository (external broker)', () => {
  interface Broker {
    stop(): Promise<void>;
  }
  let brokers: Broker[];
  let sut: MqttRepository;
  let connection: boolean[];
  let messages: string[];
  let delays: number[];
  const handlers = {
    message: (topic: string) => messages.push(topic),
    connection: (connected: boolean) => connection.push(connected),
  };

  /**
   * A bare Aedes listening on `port` (0: any free port), and its port: the stand-in for an
   * external broker. Pulse's embedded broker would refuse the ingest's wildcard subscription
   * over TCP (its device ACL), which an external broker's ingest account is allowed.
   */
  async function broker(port = 0): Promise<{ repository: Broker; port: number }> {
    const aedes = await Aedes.createBroker();
    const server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const repository: Broker = {
      stop: async () => {
        server.close();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    brokers.push(repository);
    return { repository, port: (server.address() as AddressInfo).port };
  }

  /** Publish as a device would (retained: whether the ingest has subscribed again yet or not). */
  async function publishFromDevice(port: number, deviceId: string, topic?: string): Promise<void> {
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    await device.publishAsync(topic ?? telemetryTopic(deviceId), '{"t":1}', {
      qos: 1,
      retain: true,
    });
    await device.endAsync();
  }

  beforeEach(() => {
    jest.useFakeTimers({
      now: 1_000_000,
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
    });
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'debug').mockImplementation((message: unknown) => {
      const delay = /^reconnecting in (\d+) ms$/.exec(String(message));
      if (delay) delays.push(Number(delay[1]));
    });
    brokers = [];
    connection = [];
    messages = [];
    delays = [];
    sut = new MqttRepository();
  });

  afterEach(async () => {
    jest.useRealTimers();
    await sut.close();
    for (const repository of brokers) await repository.stop();
    jest.restoreAllMocks();
  });

  it('reconnects after the broker restarts, subscribes again on the new session and counts one reconnect', async () => {
    const { repository: first, port } = await broker();
    await sut.connect(`mqtt://127.0.0.1:${port}`, 'ingest', handlers);
    expect([sut.connected, connection]).toEqual([true, [true]]);
    await first.stop();
    await until(() => !sut.connected);
    await broker(port); // a new Aedes: the session (and its subscriptions) is gone
    await until(() => sut.connected);
    expect(connection).toEqual([true, false, true]);
    expect(sut.reconnects).toBe(1);
    await publishFromDevice(port, 'd1');
    await until(() => messages.length > 0);
    expect(messages[0]).toBe(telemetryTopic('d1'));
  });

  it('spaces its attempts by a growing backoff (±20 % jitter) while the broker stays down', async () => {
    const { repository: only, port } = await broker();
    await sut.connect(`mqtt://127.0.0.1:${port}`, 'ingest', handlers);
    await only.stop();
    await until(() => delays.length >= 6);
    const base = [1000, 2000, 4000, 8000, 16_000, 30_000];
    delays.slice(0, 6).forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(Math.min(30_000, base[i] * 0.8));
      expect(delay).toBeLessThanOrEqual(Math.min(30_000, base[i] * 1.2));
    });
  });

  it('starts before its broker: connect() goes on in the background and connects once it is up', async () => {
    const { repository: gone, port } = await broker();
    await gone.stop(); // its port is free now
    let started = false;
    void sut.connect(`mqtt://127.0.0.1:${port}`, 'ingest', handlers).then(() => (started = true));
    await until(() => started); // FIRST_CONNECT_WAIT_MS, not forever
    expect(sut.connected).toBe(false);
    await broker(port);
    await until(() => sut.connected);
    expect([connection, sut.reconnects]).toEqual([[true], 0]); // the first connection is no reconnect
  });

  it('stops reconnecting once closed', async () => {
    const { repository: only, port } = await broker();
    await sut.connect(`mqtt://127.0.0.1:${port}`, 'ingest', handlers);
    await only.stop();
    await until(() => delays.length >= 1);
    await sut.close();
    await broker(port);
    await jest.advanceTimersByTimeAsync(60_000);
    expect([sut.connected, connection, delays.length]).toEqual([false, [true, false], 1]);
  });

  it('subscribes topics added while running, drops removed ones, and keeps those added while the broker was away', async () => {
    const { repository: first, port } = await broker();
    await sut.connect(`mqtt://127.0.0.1:${port}`, 'ingest', handlers);
    sut.updateFilters(['zigbee2mqtt/Hall'], []);
    await publishFromDevice(port, 'd1', 'zigbee2mqtt/Hall');
    await until(() => messages.includes('zigbee2mqtt/Hall'));
    sut.updateFilters([], ['zigbee2mqtt/Hall']);
    await jest.advanceTimersByTimeAsync(200); // the UNSUBACK
    await first.stop();
    await until(() => !sut.connected);
    sut.updateFilters(['livingroom/status'], []);
    await broker(port);
    await until(() => sut.connected);
    messages.length = 0;
    await publishFromDevice(port, 'd1', 'zigbee2mqtt/Hall');
    await publishFromDevice(port, 'd1', 'livingroom/status');
    await until(() => messages.length > 0);
    expect(messages).toEqual(['livingroom/status']);
  });
});

import { Aedes } from 'aedes';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { AddressInfo, createServer, Server } from 'node:net';
import { waitFor } from '@pulse/test-support';
import { connect as tcpConnect, Socket } from 'node:net';
import { SessionBounds, SessionBoundsOptions } from './session-bounds';

// Real: the installed Aedes on a TCP port (its in-memory store, as the embedded broker runs it)
// and mqtt.js clients leaving MQTT 3.1.1 persistent sessions (`clean: false`) behind, and raw
// MQTT clients for what mqtt.js never does (leave a message unacknowledged or unreleased). Bounds
// are small here (a session kept 600 ms, two sessions, five messages queued, three QoS 2
// messages unreleased) to see each one act.
const SMALL: SessionBoundsOptions = {
  maxSessions: 2,
  expiryMs: 600,
  maxQueued: 5,
  maxUnreleased: 3,
};

/** MQTT 3.1.1 packets as bytes: a fixed header, its remaining length, the rest. */
const mqttString = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};
const packet = (first: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  const length: number[] = [];
  let n = body.length;
  do {
    length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...length]), body]);
};
const RAW = {
  connect: (clientId: string, clean: boolean) =>
    packet(
      0x10,
      mqttString('MQTT'),
      Buffer.from([4, clean ? 0x02 : 0x00, 0, 60]),
      mqttString(clientId),
    ),
  subscribe: (filter: string) =>
    packet(0x82, Buffer.from([0, 1]), mqttString(filter), Buffer.from([1])),
  publishQos2: (topic: string, messageId: number) =>
    packet(
      0x34,
      mqttString(topic),
      Buffer.from([messageId >> 8, messageId & 0xff]),
      Buffer.from('x'),
    ),
};
describe('SessionBounds (persistent MQTT sessions on the embedded broker)', () => {
  let aedes: Aedes;
  let server: Server;
  let sut: SessionBounds;
  let url: string;
  const open: MqttClient[] = [];
  const sockets: Socket[] = [];

  async function start(options: Partial<SessionBoundsOptions> = {}): Promise<void> {
    aedes = new Aedes();
    sut = new SessionBounds(aedes, { ...SMALL, ...options });
    await aedes.listen();
    sut.bindStore();
    server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    for (const client of open.splice(0)) client.end(true);
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  });

  /** A connected client, what it is sent (from its first packet on) and its Session Present. */
  const connect = (options: IClientOptions = {}) =>
    new Promise<{ client: MqttClient; seen: string[]; sessionPresent: boolean }>(
      (resolve, reject) => {
        const client = mqtt.connect(url, {
          reconnectPeriod: 0,
          protocolVersion: 4,
          resubscribe: false,
          ...options,
        });
        open.push(client);
        const seen: string[] = [];
        client.on('message', (_topic, payload) => seen.push(payload.toString()));
        client.once('connect', (connack) =>
          resolve({ client, seen, sessionPresent: connack.sessionPresent }),
        );
        client.once('error', reject);
      },
    );
  /** Leave a persistent session of `clientId` subscribed to `t/#` with QoS 1. */
  const leave = async (clientId: string) => {
    const { client } = await connect({ clientId, clean: false });
    await client.subscribeAsync('t/#', { qos: 1 });
    await client.endAsync();
  };
  const publishAll = async (count: number, from = 1) => {
    const { client } = await connect();
    for (let i = from; i < from + count; i++) await client.publishAsync('t/x', `m${i}`, { qos: 1 });
    await client.endAsync();
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Resume `clientId`'s session (its queue is sent at the CONNECT). */
  const resume = (clientId: string) => connect({ clientId, clean: false });
  /** Until `seen` holds `count` messages; then a moment more, for any that should not come. */
  const received = async (seen: string[], count: number) => {
    await waitFor(() => seen.length >= count || undefined, { message: `${count} messages` });
    await sleep(100);
    return seen;
  };
  /** A raw MQTT connection: what it sends is exactly what the test writes. */
  const raw = async (clientId: string, clean: boolean) => {
    const { port } = new URL(url);
    const socket: Socket = tcpConnect(Number(port), '127.0.0.1');
    sockets.push(socket);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const connack = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write(RAW.connect(clientId, clean));
    await connack;
    return { socket, closed };
  };

  it('keeps an MQTT 3.1.1 session with its queue across a reconnect, and ends it once its expiry passed', async () => {
    await start();
    await leave('kept');
    await publishAll(2);
    const back = await resume('kept');
    expect(back.sessionPresent).toBe(true);
    expect(await received(back.seen, 2)).toEqual(['m1', 'm2']);
    expect(sut.stats()).toMatchObject({ pending: 0, kept: 1, expired: 0 });
    // Reconnecting cancelled the expiry; leaving again starts it afresh.
    await back.client.endAsync();
    expect(sut.stats()).toMatchObject({ pending: 1, kept: 2 });

    await sleep(800); // past the 600 ms expiry
    await publishAll(1, 3);
    const late = await resume('kept');
    await sleep(150); // anything queued would have come by now
    expect(late).toMatchObject({ sessionPresent: false, seen: [] });
    expect(sut.stats()).toMatchObject({ pending: 0, kept: 2, expired: 1 });
  });

  it('keeps at most maxSessions: the newest past it ends at once, the ones kept stay', async () => {
    await start();
    for (const id of ['s1', 's2', 's3']) await leave(id);
    expect(sut.stats()).toMatchObject({ pending: 2, kept: 2, endedAtLimit: 1 });
    await publishAll(1);
    const results = await Promise.all(['s1', 's2', 's3'].map(resume));
    await Promise.all(results.slice(0, 2).map(({ seen }) => received(seen, 1)));
    expect(results.map(({ sessionPresent, seen }) => ({ sessionPresent, seen }))).toEqual([
      { sessionPresent: true, seen: ['m1'] },
      { sessionPresent: true, seen: ['m1'] },
      { sessionPresent: false, seen: [] },
    ]);
  });

  it('a session taken over by a new connection of its client id is resumed whole, at the limit too', async () => {
    await start({ maxSessions: 1 });
    await leave('other'); // the one session the bound allows is in use
    const first = await connect({ clientId: 'phone', clean: false });
    await first.client.subscribeAsync('t/#', { qos: 1 });
    const second = await connect({ clientId: 'phone', clean: false });
    expect(second.sessionPresent).toBe(true);
    await publishAll(1);
    await waitFor(() => second.seen.length > 0);
    expect(second.seen).toEqual(['m1']);
    expect(sut.stats()).toMatchObject({ pending: 1, kept: 1, endedAtLimit: 0 });
  });

  it('a clean session is not kept or counted', async () => {
    await start();
    const { client } = await connect({ clientId: 'clean-one', clean: true });
    await client.subscribeAsync('t/#', { qos: 1 });
    await client.endAsync();
    expect(sut.stats()).toEqual({
      pending: 0,
      kept: 0,
      expired: 0,
      endedAtLimit: 0,
      queueDropped: 0,
      unstored: 0,
      closedUnacked: 0,
      closedUnreleased: 0,
    });
  });

  it('queues at most maxQueued messages for a client while it is away (the first ones), and drops none while it is connected', async () => {
    await start();
    await leave('away');
    await publishAll(8);
    const back = await resume('away');
    expect(await received(back.seen, 5)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(sut.stats()).toMatchObject({ queueDropped: 3 });

    // Connected and acknowledging: every message, as many as come.
    await publishAll(20, 9);
    expect(await received(back.seen, 25)).toHaveLength(5 + 20);
    expect(sut.stats()).toMatchObject({ queueDropped: 3 });
    // What was delivered left the queue: away again, it holds up to maxQueued anew.
    await back.client.endAsync();
    await publishAll(6, 100);
    expect(await received((await resume('away')).seen, 5)).toEqual([
      'm100',
      'm101',
      'm102',
      'm103',
      'm104',
    ]);
    expect(sut.stats()).toMatchObject({ queueDropped: 4 });
  });

  it('a session resumed with a full queue gets what arrives while its queue is replayed too, and stays connected', async () => {
    await start();
    await leave('full');
    await publishAll(5); // at the bound
    const { client: publisher } = await connect();
    let back: Awaited<ReturnType<typeof connect>> | undefined;
    const resumed = new Promise<void>((resolve) => {
      const client = mqtt.connect(url, { clientId: 'full', clean: false, reconnectPeriod: 0 });
      open.push(client);
      const seen: string[] = [];
      client.on('message', (_topic, payload) => seen.push(payload.toString()));
      // As soon as the CONNACK is out: Aedes is still replaying the queue.
      client.once('connect', (connack) => {
        back = { client, seen, sessionPresent: connack.sessionPresent };
        for (let i = 6; i <= 8; i++) void publisher.publishAsync('t/x', `m${i}`, { qos: 1 });
        resolve();
      });
    });
    await resumed;
    const got = await received(back?.seen ?? [], 8);
    expect([...got].sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    expect(back?.client.connected).toBe(true);
    expect(sut.stats()).toMatchObject({ queueDropped: 0, closedUnacked: 0 });
  });

  it('a connected client that does not acknowledge holds at most twice the bound: past it, its messages go out without a queue entry, and it is never closed', async () => {
    await start();
    const { client: publisher } = await connect();
    // Three rounds of a client that reads and never acknowledges, away in between.
    for (let round = 0; round < 3; round++) {
      const reader = await raw('mute', false);
      let bytes = 0;
      const subscribed = new Promise<void>((resolve) =>
        reader.socket.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (chunk[0] === 0x90) resolve();
        }),
      );
      if (round === 0) {
        reader.socket.write(RAW.subscribe('t/#'));
        await subscribed;
      }
      for (let i = 0; i < 2 * SMALL.maxQueued + 3; i++)
        await publisher.publishAsync('t/x', `r${round}-${i}`, { qos: 1 });
      await waitFor(() => bytes > 0 || undefined);
      await sleep(100);
      expect(reader.socket.destroyed).toBe(false); // still connected: never closed for it
      reader.socket.destroy();
      await reader.closed;
    }
    expect(sut.stats()).toMatchObject({ closedUnacked: 0 });
    expect(sut.stats().unstored).toBeGreaterThanOrEqual(3 * 3);
    // Back acknowledging, with messages arriving during its replay: it stays connected, and its
    // session held at most twice the bound (the queue replayed), then what came after.
    const back = await new Promise<Awaited<ReturnType<typeof connect>>>((resolve) => {
      const client = mqtt.connect(url, { clientId: 'mute', clean: false, reconnectPeriod: 0 });
      open.push(client);
      const seen: string[] = [];
      client.on('message', (_topic, payload) => seen.push(payload.toString()));
      client.once('connect', (connack) => {
        for (let i = 1; i <= 3; i++) void publisher.publishAsync('t/x', `late-${i}`, { qos: 1 });
        resolve({ client, seen, sessionPresent: connack.sessionPresent });
      });
    });
    expect(back.sessionPresent).toBe(true);
    const got = await received(back.seen, 3);
    expect(got.filter((m) => m.startsWith('late-')).sort()).toEqual(['late-1', 'late-2', 'late-3']);
    expect(got.filter((m) => !m.startsWith('late-')).length).toBeLessThanOrEqual(
      2 * SMALL.maxQueued,
    );
    expect(back.client.connected).toBe(true);
    expect(sut.stats()).toMatchObject({ closedUnacked: 0 });
  });

  it('closes a client that leaves more than maxUnreleased QoS 2 messages unreleased, and keeps none of them once its session ended', async () => {
    await start();
    const store = (
      aedes as unknown as {
        persistence: { incomingGetPacket(c: object, p: object): Promise<unknown> };
      }
    ).persistence;
    const kept = (messageId: number) =>
      store.incomingGetPacket({ id: 'qos2' }, { messageId }).then(
        () => true,
        () => false,
      );
    const sender = await raw('qos2', true);
    for (let id = 1; id <= SMALL.maxUnreleased; id++)
      sender.socket.write(RAW.publishQos2('t/x', id));
    await waitFor(async () => (await kept(SMALL.maxUnreleased)) || undefined);
    sender.socket.write(RAW.publishQos2('t/x', 99)); // one more, never released either
    await sender.closed;
    expect(sut.stats()).toMatchObject({ closedUnreleased: 1 });
    // A clean session's state ends with its connection: nothing it left is kept.
    await waitFor(async () => !(await kept(1)) || undefined);
    expect(await Promise.all([1, 2, 3, 99].map(kept))).toEqual([false, false, false, false]);
  });

  it('MQTT 5 sessions ended by Aedes (expiry, count) are counted with these', async () => {
    aedes = new Aedes({ sessionExpiryIntervalLimit: 1, pendingSessionsLimit: 1 });
    sut = new SessionBounds(aedes, SMALL);
    await aedes.listen();
    sut.bindStore();
    server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const clientId of ['v5-a', 'v5-b']) {
      const { client } = await connect({
        clientId,
        clean: false,
        protocolVersion: 5,
        properties: { sessionExpiryInterval: 60 },
      });
      await client.endAsync();
    }
    expect(sut.stats()).toMatchObject({ endedAtLimit: 1, pending: 0 });
    await sleep(1300); // the first one's interval, cut to 1 s
    expect(sut.stats()).toMatchObject({ expired: 1 });
  });
});

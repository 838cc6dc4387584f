import { Aedes } from 'aedes';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { AddressInfo, createServer, Server } from 'node:net';
import { waitFor } from '@pulse/test-support';
import { SessionBounds, SessionBoundsOptions } from './session-bounds';

// Real: the installed Aedes on a TCP port (its in-memory store, as the embedded broker runs it)
// and mqtt.js clients leaving MQTT 3.1.1 persistent sessions (`clean: false`) behind. Bounds are
// small here (a session kept 600 ms, two sessions, five messages queued) to see each one act.
describe('SessionBounds (persistent MQTT sessions on the embedded broker)', () => {
  let aedes: Aedes;
  let server: Server;
  let sut: SessionBounds;
  let url: string;
  const open: MqttClient[] = [];

  async function start(options: Partial<SessionBoundsOptions> = {}): Promise<void> {
    aedes = new Aedes();
    sut = new SessionBounds(aedes, { maxSessions: 2, expiryMs: 600, maxQueued: 5, ...options });
    await aedes.listen();
    sut.bindStore();
    server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    for (const client of open.splice(0)) client.end(true);
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
  /** Resume `clientId`'s session; what it was sent once the queue had time to arrive. */
  const resume = async (clientId: string) => {
    const resumed = await connect({ clientId, clean: false });
    await sleep(150);
    return resumed;
  };

  it('keeps an MQTT 3.1.1 session with its queue across a reconnect, and ends it once its expiry passed', async () => {
    await start();
    await leave('kept');
    await publishAll(2);
    const back = await resume('kept');
    expect(back).toMatchObject({ sessionPresent: true, seen: ['m1', 'm2'] });
    expect(sut.stats()).toMatchObject({ pending: 0, kept: 1, expired: 0 });
    // Reconnecting cancelled the expiry; leaving again starts it afresh.
    await back.client.endAsync();
    expect(sut.stats()).toMatchObject({ pending: 1, kept: 2 });

    await sleep(800); // past the 600 ms expiry
    await publishAll(1, 3);
    const late = await resume('kept');
    expect(late).toMatchObject({ sessionPresent: false, seen: [] });
    expect(sut.stats()).toMatchObject({ pending: 0, kept: 2, expired: 1 });
  });

  it('keeps at most maxSessions: the newest past it ends at once, the ones kept stay', async () => {
    await start();
    for (const id of ['s1', 's2', 's3']) await leave(id);
    expect(sut.stats()).toMatchObject({ pending: 2, kept: 2, endedAtLimit: 1 });
    await publishAll(1);
    const results = await Promise.all(['s1', 's2', 's3'].map(resume));
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
    });
  });

  it('queues at most maxQueued messages for a client while it is away (the first ones), and drops none while it is connected', async () => {
    await start();
    await leave('away');
    await publishAll(8);
    const back = await resume('away');
    expect(back.seen).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(sut.stats()).toMatchObject({ queueDropped: 3 });

    // Connected and acknowledging: every message, as many as come.
    await publishAll(20, 9);
    await sleep(150);
    expect(back.seen).toHaveLength(5 + 20);
    expect(sut.stats()).toMatchObject({ queueDropped: 3 });
    // What was delivered left the queue: away again, it holds up to maxQueued anew.
    await back.client.endAsync();
    await publishAll(6, 100);
    expect((await resume('away')).seen).toEqual(['m100', 'm101', 'm102', 'm103', 'm104']);
    expect(sut.stats()).toMatchObject({ queueDropped: 4 });
  });

  it('MQTT 5 sessions ended by Aedes (expiry, count) are counted with these', async () => {
    aedes = new Aedes({ sessionExpiryIntervalLimit: 1, pendingSessionsLimit: 1 });
    sut = new SessionBounds(aedes, { maxSessions: 2, expiryMs: 600, maxQueued: 5 });
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

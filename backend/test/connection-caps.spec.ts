import type { IngestStats } from '@pulse/protocol';
import { LIVE_NAMESPACE, telemetryTopic } from '@pulse/protocol';
import { connectMqtt, endMqtt, getJson, LiveClient, publish, waitFor } from '@pulse/test-support';
import { Agent, request } from 'node:http';
import { connect as tcpConnect, Socket } from 'node:net';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { PulseHandle } from '../src/app/pulse';
import { LIVE_CONNECT_TIMEOUT_MS } from '../src/app/live/live-io.server';
import { adminAuth, startTestPulse } from './support/pulse';
import { watchDevices } from './support/viewer';

/** Linux routes all of 127/8 to loopback: a second client address that is not exempt. */
const FLOODER = '127.0.0.2';

/** Every bare Engine.IO websocket a test opened, cut when the file ends. */
const bare: WebSocket[] = [];
afterAll(() => bare.forEach((ws) => ws.terminate()));

/**
 * An Engine.IO websocket from `from` that answers pings and sends nothing else: `open` once the
 * server's open packet came, `refused` when the upgrade was answered with an HTTP error.
 */
function bareEngine(
  httpUrl: string,
  from: string,
): Promise<{ ws: WebSocket; outcome: 'open' | 'refused' }> {
  const url = `${httpUrl.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url, { localAddress: from });
  bare.push(ws);
  ws.on('message', (data) => data.toString() === '2' && ws.send('3'));
  ws.on('error', () => undefined);
  return new Promise((resolve) => {
    ws.once('message', (data) =>
      resolve({ ws, outcome: data.toString().startsWith('0') ? 'open' : 'refused' }),
    );
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ ws, outcome: 'refused' });
    });
    ws.once('close', () => resolve({ ws, outcome: 'refused' }));
  });
}

// Real: the embedded broker's TCP listener, Socket.IO over websocket, raw TCP and socket.io
// clients bound to a second loopback address, an mqtt.js device and a viewer on 127.0.0.1
// (exempt from the per-IP caps by default, like the simulator and the bench).
describe('per-IP connection caps on /live and the embedded broker', () => {
  let pulse: PulseHandle;
  const tcp: Socket[] = [];
  const live: LiveClient[] = [];

  beforeAll(async () => {
    pulse = await startTestPulse({
      LIVE_MAX_CONNECTIONS_PER_IP: '5',
      MQTT_MAX_CONNECTIONS_PER_IP: '5',
    });
  });

  afterAll(async () => {
    for (const socket of tcp) socket.destroy();
    for (const socket of live) socket.close();
    await pulse?.close();
  });

  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.security?.refused ?? {};

  /** A raw TCP connection from FLOODER (reading, so the server's close is seen); resolves once connected. */
  function rawMqtt(port: number): Promise<Socket> {
    return new Promise((resolve) => {
      const socket = tcpConnect({ host: '127.0.0.1', port, localAddress: FLOODER });
      tcp.push(socket);
      socket.on('error', () => undefined);
      socket.resume();
      socket.once('connect', () => resolve(socket));
      socket.once('close', () => resolve(socket));
    });
  }

  /** A `/live` client from `from`; resolves once it connected or was refused at the handshake. */
  function liveFrom(from: string): Promise<LiveClient> {
    const socket: LiveClient = io(`${pulse.httpUrl}${LIVE_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      agent: new Agent({ localAddress: from }) as unknown as string,
    });
    live.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', () => resolve(socket));
    });
  }

  /** Wait until the server has counted `n` more refusals of `reason` than `before`. */
  const refusedBy = (reason: string, before: Record<string, number>, n: number) =>
    waitFor(async () => {
      const now = (await refused())[reason] ?? 0;
      return now >= (before[reason] ?? 0) + n ? now - (before[reason] ?? 0) : null;
    });

  it('cuts a flood of MQTT and /live connections from one IP off while a device streams to a viewer', async () => {
    const before = await refused();
    const viewer = await watchDevices(pulse.httpUrl, ['capped-steady']);
    const device = await connectMqtt(pulse.mqttUrl);
    const port = Number(new URL(pulse.mqttUrl).port);

    const flood = Promise.all([
      Promise.all(Array.from({ length: 30 }, () => rawMqtt(port))),
      Promise.all(Array.from({ length: 20 }, () => liveFrom(FLOODER))),
    ]);
    for (let n = 0; n < 20; n++) {
      await publish(device, telemetryTopic('capped-steady'), `{"values":{"n":${n}}}`, 1);
    }
    const [mqttSockets, liveSockets] = await flood;

    // Over the cap: MQTT sockets closed on accept; /live refused at the handshake, or (when
    // handshakes race past the check together) disconnected by the server right after.
    expect(await refusedBy('mqtt_connections_ip', before, 25)).toBe(25);
    expect(await refusedBy('live_connections_ip', before, 15)).toBe(15);
    await waitFor(() => mqttSockets.filter((s) => s.destroyed).length >= 25);
    await waitFor(() => liveSockets.filter((s) => !s.connected).length >= 15);
    expect(mqttSockets.filter((s) => !s.destroyed)).toHaveLength(5);
    expect(liveSockets.filter((s) => s.connected)).toHaveLength(5);
    const readings = await viewer.received.waitForCount(20);
    expect(readings.map((r) => r.values['n'])).toEqual(Array.from({ length: 20 }, (_, n) => n));
    // The exempt address is not held to the per-IP cap.
    const exempt = await Promise.all(Array.from({ length: 8 }, () => liveFrom('127.0.0.1')));
    expect(exempt.filter((s) => s.connected)).toHaveLength(8);
    // Their slots come back as they close, each once: two of the five close, two new ones fit
    // and a third does not (a slot released twice would let it in).
    const clients = async () =>
      (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.live.clients;
    const open = await clients();
    const admitted = liveSockets.filter((s) => s.connected);
    for (const s of admitted.slice(0, 2)) s.close();
    await waitFor(async () => (await clients()) === open - 2);
    const again = await Promise.all([liveFrom(FLOODER), liveFrom(FLOODER)]);
    expect(again.filter((s) => s.connected)).toHaveLength(2);
    const third = await liveFrom(FLOODER);
    expect(third.connected).toBe(false);
    expect(await refusedBy('live_connections_ip', before, 16)).toBe(16);
    await endMqtt(device);
    await viewer.close();
  });

  it('refuses a second `/live` socket on one connection, which would otherwise count once', async () => {
    const before = await refused();
    const { ws, outcome } = await bareEngine(pulse.httpUrl, '127.0.0.5');
    expect(outcome).toBe('open');
    const closed = new Promise((resolve) => ws.once('close', resolve));
    // Both CONNECTs before the first is answered: Socket.IO would make two sockets of them.
    ws.send('40/live,');
    ws.send('40/live,');
    await closed;
    expect(await refusedBy('live_connections_ip', before, 1)).toBe(1);
  });
});

// Real: the gateway's Socket.IO server, raw Engine.IO clients (`ws` and plain HTTP long-polling
// from a second loopback address) that open the transport and answer pings but never join
// `/live`, as a flooder does when anonymous viewing is off.
describe('connection caps on bare Engine.IO connections (no namespace joined)', () => {
  let pulse: PulseHandle;
  let admin: Record<string, string>;

  beforeAll(async () => {
    pulse = await startTestPulse({ LIVE_MAX_CONNECTIONS_PER_IP: '5', ANONYMOUS_ROLE: 'none' });
    admin = await adminAuth(pulse.httpUrl);
  });

  afterAll(async () => {
    await pulse?.close();
  });

  const refused = async (): Promise<Record<string, number>> => {
    const stats = await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`, admin);
    if (stats.status !== 200) throw new Error(`/api/stats: ${stats.status}`);
    return stats.body.security?.refused ?? {};
  };

  /** The status of a long-polling handshake (`GET …&transport=polling`) from `from`. */
  function pollingHandshake(from: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${pulse.httpUrl}/socket.io/?EIO=4&transport=polling`,
        { localAddress: from, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('counts each Engine.IO connection against the per-address cap, whichever transport, until it closes', async () => {
    const before = await refused();
    const opened: WebSocket[] = [];
    for (let i = 0; i < 12; i++) {
      const { ws, outcome } = await bareEngine(pulse.httpUrl, FLOODER);
      if (outcome === 'open') opened.push(ws);
    }
    expect(opened.length).toBe(5);
    // A long-polling handshake is refused too while the address holds its five.
    expect(await pollingHandshake(FLOODER)).toBe(403);
    const after = await refused();
    expect((after['live_connections_ip'] ?? 0) - (before['live_connections_ip'] ?? 0)).toBe(8);
    // The exempt address is not held to it.
    const exempt = await Promise.all(
      Array.from({ length: 8 }, () => bareEngine(pulse.httpUrl, '127.0.0.1')),
    );
    expect(exempt.filter((e) => e.outcome === 'open')).toHaveLength(8);
    for (const e of exempt) e.ws.close();

    // Two close: their slots come back, each once (a polling session takes one).
    for (const ws of opened.slice(0, 2)) ws.close();
    await waitFor(async () => (await pollingHandshake(FLOODER)) === 200);
    expect((await bareEngine(pulse.httpUrl, FLOODER)).outcome).toBe('open');
    expect((await bareEngine(pulse.httpUrl, FLOODER)).outcome).toBe('refused');
  });

  // The two tests below each wait out the gateway's connect timeout (10 s) on a connection of
  // their own from an address of their own; they run side by side to wait it out once. Neither
  // touches what the other counts (`live_connections_ip` stays under the cap of 5 per address).
  it.concurrent(
    'closes an Engine.IO connection that joins no namespace within seconds',
    async () => {
      const { ws, outcome } = await bareEngine(pulse.httpUrl, '127.0.0.3');
      expect(outcome).toBe('open');
      const openedAt = Date.now();
      await new Promise((resolve) => ws.once('close', resolve));
      expect(Date.now() - openedAt).toBeLessThan(LIVE_CONNECT_TIMEOUT_MS + 3_000);
    },
    25_000,
  );

  it.concurrent(
    'refuses the main namespace `/`, which would hold a connection open without joining `/live`',
    async () => {
      const before = await refused();
      const { ws, outcome } = await bareEngine(pulse.httpUrl, '127.0.0.4');
      expect(outcome).toBe('open');
      const answer = new Promise<string>((resolve) => ws.once('message', (d) => resolve(`${d}`)));
      ws.send('40');
      expect(await answer).toMatch(/^44\{/); // CONNECT_ERROR
      const openedAt = Date.now();
      await new Promise((resolve) => ws.once('close', resolve));
      expect(Date.now() - openedAt).toBeLessThan(LIVE_CONNECT_TIMEOUT_MS + 3_000);
      expect((await refused())['live_handshake']).toBe((before['live_handshake'] ?? 0) + 1);
    },
    25_000,
  );
});

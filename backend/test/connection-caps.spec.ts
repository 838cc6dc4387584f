import type { IngestStats } from '@pulse/protocol';
import { LIVE_NAMESPACE, telemetryTopic } from '@pulse/protocol';
import { connectMqtt, endMqtt, getJson, LiveClient, publish, waitFor } from '@pulse/test-support';
import { Agent } from 'node:http';
import { connect as tcpConnect, Socket } from 'node:net';
import { io } from 'socket.io-client';
import { PulseHandle } from '../src/app/pulse';
import { startTestPulse } from './support/pulse';
import { watchDevices } from './support/viewer';

/** Linux routes all of 127/8 to loopback: a second client address that is not exempt. */
const FLOODER = '127.0.0.2';

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
});

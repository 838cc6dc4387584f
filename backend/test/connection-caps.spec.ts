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

  /** A raw TCP connection from FLOODER; resolves 'open' if still open after 300 ms, else 'closed'. */
  function rawMqtt(port: number): Promise<'open' | 'closed'> {
    return new Promise((resolve) => {
      const socket = tcpConnect({ host: '127.0.0.1', port, localAddress: FLOODER });
      tcp.push(socket);
      socket.on('error', () => undefined);
      socket.resume(); // read, so the server's close is seen
      socket.once('close', () => resolve('closed'));
      socket.once('connect', () => setTimeout(() => resolve('open'), 300));
    });
  }

  function liveFrom(address: string): Promise<'connected' | 'refused'> {
    const socket: LiveClient = io(`${pulse.httpUrl}${LIVE_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      agent: new Agent({ localAddress: address }) as unknown as string,
    });
    live.push(socket);
    return new Promise((resolve) => {
      // Over the cap: refused at the handshake, or (handshakes racing past it together)
      // disconnected by the server right after connecting.
      socket.once('connect', () =>
        setTimeout(() => resolve(socket.connected ? 'connected' : 'refused'), 300),
      );
      socket.once('connect_error', () => resolve('refused'));
    });
  }

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
    const [mqttOutcomes, liveOutcomes] = await flood;

    expect(mqttOutcomes.filter((o) => o === 'open')).toHaveLength(5);
    expect(liveOutcomes.filter((o) => o === 'connected')).toHaveLength(5);
    const readings = await viewer.received.waitForCount(20);
    expect(readings.map((r) => r.values['n'])).toEqual(Array.from({ length: 20 }, (_, n) => n));
    const after = await waitFor(async () => {
      const now = await refused();
      return (now['live_connections_ip'] ?? 0) >= (before['live_connections_ip'] ?? 0) + 15
        ? now
        : null;
    });
    expect(after['mqtt_connections_ip']).toBe((before['mqtt_connections_ip'] ?? 0) + 25);
    expect(after['live_connections_ip']).toBe((before['live_connections_ip'] ?? 0) + 15);
    // The exempt address is not held to the per-IP cap.
    expect(await Promise.all(Array.from({ length: 8 }, () => liveFrom('127.0.0.1')))).toEqual(
      Array(8).fill('connected'),
    );
    await endMqtt(device);
    await viewer.close();
  });
});

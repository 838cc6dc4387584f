import type { IngestStats } from '@pulse/protocol';
import { telemetryTopic } from '@pulse/protocol';
import { PulseHandle } from '../src/app/pulse';
import {
  closeLive,
  collectReadings,
  connectLive,
  connectMqtt,
  getJson,
  publish,
  subscribe,
} from './support/clients';
import { waitFor } from './support/net';
import { startTestPulse } from './support/pulse';

// Real: Socket.IO `/live` with socket.io-client, the embedded broker and an mqtt.js device.
describe('per-socket event rate limit on /live', () => {
  let pulse: PulseHandle;

  beforeAll(async () => {
    pulse = await startTestPulse();
  });

  afterAll(async () => {
    await pulse?.close();
  });

  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.security?.refused ?? {};

  it('answers a normal burst of requests in full', async () => {
    const socket = await connectLive(pulse.httpUrl);
    const acks = await Promise.all(
      Array.from({ length: 15 }, (_, i) => subscribe(socket, { devices: [`calm-${i}`] })),
    );
    expect(acks.every((ack) => ack.ok)).toBe(true);
    await closeLive(socket);
  });

  it('refuses a flood with {ok:false} acks, then drops the socket, while a viewer keeps its stream', async () => {
    const before = await refused();
    const viewer = await connectLive(pulse.httpUrl);
    await subscribe(viewer, { devices: ['steady-1'] });
    const received = collectReadings(viewer);
    const device = await connectMqtt(pulse.mqttUrl);

    const flooder = await connectLive(pulse.httpUrl);
    const closed = new Promise<string>((resolve) => flooder.once('disconnect', resolve));
    const answers: unknown[] = [];
    for (let i = 0; i < 500; i++) {
      flooder.emit('unsubscribe', { devices: [`f-${i}`] }, (ack: unknown) => answers.push(ack));
      if (i % 50 === 0) await publish(device, telemetryTopic('steady-1'), `{"values":{"n":${i}}}`);
    }
    expect(await closed).toBe('io server disconnect');
    expect(answers).toContainEqual({ ok: false, error: 'rate limited' });

    const readings = await received.waitForCount(10);
    expect(readings.map((r) => r.values['n'])).toEqual(
      Array.from({ length: 10 }, (_, i) => i * 50),
    );
    const after = await waitFor(async () => {
      const now = await refused();
      return now['live_event_flood'] > (before['live_event_flood'] ?? 0) ? now : null;
    });
    expect(after['live_event_rate']).toBeGreaterThan(before['live_event_rate'] ?? 0);
    expect(after['live_event_flood']).toBe((before['live_event_flood'] ?? 0) + 1);
    await device.endAsync();
    await closeLive(viewer);
  });
});

import { LaggedEvent, telemetryTopic } from '@pulse/protocol';
import { PulseHandle } from '../src/app/pulse';
import {
  closeLive,
  collectReadings,
  connectLive,
  connectMqtt,
  endMqtt,
  subscribe,
} from './support/clients';
import { waitFor } from './support/net';
import { startTestPulse } from './support/pulse';

/** engine.io-client's polling transport, reached into to stop and restart polling (a stalled client). */
interface PollingTransport {
  name: string;
  readyState: string;
  pause(onPause: () => void): void;
  _poll(): void;
}

// Real: embedded broker, ingest, hub, Socket.IO over long-polling; the client stops polling
// so packets pile up in its server-side write buffer, like a client on a congested link.
describe('a client that stops reading', () => {
  let pulse: PulseHandle;

  beforeAll(async () => {
    pulse = await startTestPulse({ FLUSH_MS: '2' });
  });

  afterAll(async () => {
    await pulse?.close();
  });

  it('is paused instead of buffering without bound, then resumes with a `lagged` notice', async () => {
    const socket = await connectLive(pulse.httpUrl, ['polling']);
    await subscribe(socket, { devices: ['firehose'] });
    const received = collectReadings(socket);
    const lagged = new Promise<LaggedEvent>((resolve) =>
      socket.once('lagged', resolve),
    );
    const device = await connectMqtt(pulse.mqttUrl);
    let n = 0;
    const pump = setInterval(
      () =>
        device.publish(
          telemetryTopic('firehose'),
          JSON.stringify({ values: { n: n++ } }),
        ),
      3,
    );

    try {
      await received.waitForCount(1);
      const transport = socket.io.engine
        .transport as unknown as PollingTransport;
      let paused = false;
      transport.pause(() => (paused = true));
      await waitFor(() => paused, { message: 'polling paused' });

      // ~1 packet per flush piles up; the gateway's once-a-second check pauses the socket's rooms.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const stalledAt = received.readings.length;

      transport.readyState = 'open';
      transport._poll();
      const notice = await lagged;
      // Readings of the paused period were never queued for this client: a real gap (backfilled via `since`).
      const published = n;
      expect(published - received.readings.length).toBeGreaterThan(100);
      expect(notice.droppedReadings).toBeGreaterThan(100);
      expect(notice.since).toBeLessThanOrEqual(Date.now());
      // Live readings flow again after the notice.
      const resumedAt = received.readings.length;
      await waitFor(() => received.readings.length > resumedAt + 5, {
        message: 'readings after resume',
      });
      expect(resumedAt).toBeGreaterThan(stalledAt);
    } finally {
      clearInterval(pump);
      await endMqtt(device);
      await closeLive(socket);
    }
  });
});

import { IngestStats, Reading, telemetryTopic } from '@pulse/protocol';
import type { MqttClient } from 'mqtt';
import type { Socket as TcpSocket } from 'node:net';
import {
  closeLive,
  connectLive,
  connectMqtt,
  endMqtt,
  getJson,
  LiveClient,
  sleep,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { PulseHandle } from '../src/app/pulse';
import { usePulse } from './support/pulse';

/** engine.io-client's polling transport, reached into to stop and restart polling (a stalled client). */
interface PollingTransport {
  name: string;
  readyState: string;
  pause(onPause: () => void): void;
  _poll(): void;
}

/** engine.io-client's websocket transport in Node: a `ws` WebSocket over a TCP socket. */
interface WebSocketTransport {
  ws: { _socket: TcpSocket };
}

/**
 * Publishes readings of `deviceId` numbered n = 0, 1, 2, … (metric `n`, ts = t0 + n, so
 * every reading has its own timestamp in history), `perMessage` readings per message every
 * 4 ms, each with `filler` extra metrics to make the frames big.
 */
function firehose(device: MqttClient, deviceId: string, perMessage: number, filler: number) {
  const t0 = Date.now();
  let n = 0;
  const extra: Record<string, number> = {};
  for (let i = 0; i < filler; i++) extra[`filler_metric_${i}`] = i + 0.5;
  const timer = setInterval(() => {
    const batch = [];
    for (let i = 0; i < perMessage; i++, n++) batch.push({ ts: t0 + n, values: { n, ...extra } });
    device.publish(telemetryTopic(deviceId), JSON.stringify(batch));
  }, 4);
  return {
    t0,
    published: () => n,
    stop: () => clearInterval(timer),
  };
}

/** Readings received, and where the `lagged` notices fell among them. */
function record(socket: LiveClient) {
  const state = {
    readings: [] as Reading[],
    lagged: [] as { since: number; atCount: number }[],
  };
  socket.on('readings', (batch) => state.readings.push(...batch));
  socket.on('lagged', (info) =>
    state.lagged.push({ since: info.since, atCount: state.readings.length }),
  );
  return state;
}

/** Re-subscribe as a client does after `lagged`: history from the newest reading held. */
async function refill(socket: LiveClient, deviceId: string, readings: Reading[]) {
  const since = readings[readings.length - 1].ts;
  const ack = await subscribe(socket, {
    devices: [deviceId],
    since,
    maxPoints: 100_000,
  });
  if (!ack.ok) throw new Error(ack.error);
  const series = ack.history.find((s) => s.metric === 'n');
  return series?.v ?? [];
}

/** Every n from the first received to the newest one is present in live readings or the refill. */
function holes(live: Reading[], refilled: number[]): number[] {
  const seen = new Set<number>(refilled);
  for (const r of live) seen.add(r.values['n']);
  const first = live[0].values['n'];
  const last = Math.max(...seen);
  const missing: number[] = [];
  for (let n = first; n <= last && missing.length < 10; n++) if (!seen.has(n)) missing.push(n);
  return missing;
}

const lagPauses = async (pulse: PulseHandle) =>
  (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.live.lagPauses;

// Real: embedded broker, ingest, hub, history, Socket.IO; the client stops reading so its
// backlog piles up on the server, like a client on a congested link or a frozen tab.
describe('a client that stops reading', () => {
  const backend = usePulse({ env: { FLUSH_MS: '5', HISTORY_MAX_POINTS: '500000' } });

  it('over websocket: is paused once its socket buffers are full, told `lagged` behind its backlog, and refills the gap by re-subscribing', async () => {
    const socket = await connectLive(backend.pulse.httpUrl, ['websocket']);
    await subscribe(socket, { devices: ['firehose-ws'], history: false });
    const got = record(socket);
    const device = await connectMqtt(backend.pulse.mqttUrl);
    const pausesBefore = await lagPauses(backend.pulse);
    // ~10,000 readings/s of ~0.6 KB each: MBs of frames a second, enough to fill the
    // kernel's socket buffers (MBs on loopback) within seconds.
    const pump = firehose(device, 'firehose-ws', 40, 24);
    try {
      await waitFor(() => got.readings.length > 0, { message: 'first readings' });
      const tcp = (socket.io.engine.transport as unknown as WebSocketTransport).ws._socket;
      tcp.pause();
      await waitFor(async () => (await lagPauses(backend.pulse)) > pausesBefore, {
        timeoutMs: 30_000,
        intervalMs: 200,
        message: 'the gateway pauses the stalled socket',
      });
      await sleep(500);
      tcp.resume();

      await waitFor(() => got.lagged.length > 0, {
        timeoutMs: 20_000,
        message: '`lagged` after the backlog',
      });
      const notice = got.lagged[0];
      expect(notice.since).toBeLessThanOrEqual(Date.now());
      expect(notice.atCount).toBeGreaterThan(0);
      // Paused: no readings after the notice while the client has not re-subscribed.
      await sleep(300);
      expect(got.readings.length).toBe(notice.atCount);
      expect(pump.published() - got.readings.length).toBeGreaterThan(1000);

      const refilled = await refill(socket, 'firehose-ws', got.readings.slice(0, notice.atCount));
      expect(refilled.length).toBeGreaterThan(1000);
      // Live again after the re-subscribe, and nothing missing between live and history.
      const resumedAt = got.readings.length;
      await waitFor(() => got.readings.length > resumedAt + 100, {
        message: 'live readings after the re-subscribe',
      });
      expect(holes(got.readings, refilled)).toEqual([]);
      expect(got.lagged).toHaveLength(1);
    } finally {
      pump.stop();
      await endMqtt(device);
      await closeLive(socket);
    }
  }, 60_000);

  it('over long-polling: is paused once its engine.io queue grows, told `lagged` when it polls again, and refills the gap', async () => {
    const socket = await connectLive(backend.pulse.httpUrl, ['polling']);
    await subscribe(socket, { devices: ['firehose-poll'], history: false });
    const got = record(socket);
    const device = await connectMqtt(backend.pulse.mqttUrl);
    const pump = firehose(device, 'firehose-poll', 1, 0);
    try {
      await waitFor(() => got.readings.length > 0, { message: 'first readings' });
      const transport = socket.io.engine.transport as unknown as PollingTransport;
      let paused = false;
      transport.pause(() => (paused = true));
      await waitFor(() => paused, { message: 'polling paused' });

      // ~1 packet per flush piles up; the gateway's once-a-second check pauses the socket.
      await sleep(3000);
      transport.readyState = 'open';
      transport._poll();

      await waitFor(() => got.lagged.length > 0, { message: '`lagged` after the backlog' });
      const notice = got.lagged[0];
      await sleep(300);
      expect(got.readings.length).toBe(notice.atCount);
      const refilled = await refill(socket, 'firehose-poll', got.readings.slice(0, notice.atCount));
      const resumedAt = got.readings.length;
      await waitFor(() => got.readings.length > resumedAt + 5, {
        message: 'live readings after the re-subscribe',
      });
      expect(refilled.length).toBeGreaterThan(10);
      expect(holes(got.readings, refilled)).toEqual([]);
    } finally {
      pump.stop();
      await endMqtt(device);
      await closeLive(socket);
    }
  }, 30_000);
});

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

/** Readings received (live and merged), `throttle` notices and `lagged` notices, in order. */
function record(socket: LiveClient) {
  const state = {
    readings: [] as Reading[],
    throttles: [] as { intervalMs: number; atCount: number }[],
    lagged: 0,
  };
  socket.on('readings', (batch) => state.readings.push(...batch));
  socket.on('throttle', (info) =>
    state.throttles.push({ intervalMs: info.intervalMs, atCount: state.readings.length }),
  );
  socket.on('lagged', () => state.lagged++);
  return state;
}

/**
 * The `n`s each reading stands for, in arrival order: one for a live reading, `range.n` for a
 * merged one (whose `merged` count must match it: `n` only grows, so a range of k values that
 * merged k readings lost none). Returns the first place where they do not follow on from each
 * other (a hole, a duplicate, a reading out of order), or null when every n from the first
 * received to the last is there exactly once.
 */
function firstBreak(readings: Reading[]): string | null {
  let next: number | null = null;
  for (const [i, r] of readings.entries()) {
    const [low, high] = r.range?.['n'] ?? [r.values['n'], r.values['n']];
    if (high - low + 1 !== (r.merged ?? 1))
      return `reading ${i}: range ${low}..${high} but merged ${r.merged}`;
    if (next !== null && low !== next) return `reading ${i}: ${low}..${high} after ${next - 1}`;
    next = high + 1;
  }
  return null;
}

const liveStats = async (pulse: PulseHandle) =>
  (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.live;

// Real: embedded broker, ingest, hub, history, Socket.IO; the client stops reading so its
// backlog piles up on the server, like a client on a congested link or a frozen tab.
describe('a client that stops reading', () => {
  const backend = usePulse({ env: { FLUSH_MS: '5', HISTORY_MAX_POINTS: '500000' } });

  /** Throttled, then back to every reading: what the client saw, checked whole. */
  async function expectThrottledAndBack(
    got: ReturnType<typeof record>,
    before: { entered: number; lagDisconnects: number },
    socket: LiveClient,
  ) {
    await waitFor(() => got.throttles.at(-1)?.intervalMs === 0, {
      timeoutMs: 30_000,
      message: '`throttle` 0: every reading again',
    });
    const backAt = got.readings.length;
    await waitFor(() => got.readings.length > backAt + 20, {
      message: 'live readings after the throttle',
    });
    const stats = await liveStats(backend.pulse);
    expect(stats.conflation?.entered ?? 0).toBeGreaterThan(before.entered);
    expect(stats.lagDisconnects).toBe(before.lagDisconnects);
    expect(got.throttles[0].intervalMs).toBeGreaterThan(0);
    // Merged readings while throttled (each standing for many), single ones after.
    const merged = got.readings.slice(got.throttles[0].atCount, got.throttles.at(-1)?.atCount);
    expect(merged.some((r) => (r.merged ?? 1) > 1)).toBe(true);
    expect(got.readings.slice(backAt).every((r) => r.merged === undefined)).toBe(true);
    // Nothing lost, nothing twice, nothing out of order, no spike hidden: and no `lagged`, no
    // refill, no disconnect.
    expect(firstBreak(got.readings)).toBeNull();
    expect(got.lagged).toBe(0);
    expect(socket.connected).toBe(true);
  }

  it('over websocket: is throttled to merged readings once its socket buffers are full, and gets every reading again once it reads', async () => {
    const socket = await connectLive(backend.pulse.httpUrl, ['websocket']);
    await subscribe(socket, { devices: ['firehose-ws'], history: false });
    const got = record(socket);
    const device = await connectMqtt(backend.pulse.mqttUrl);
    const before = await liveStats(backend.pulse);
    const entered = () => before.conflation?.entered ?? 0;
    // ~10,000 readings/s of ~0.6 KB each: MBs of frames a second, enough to fill the
    // kernel's socket buffers (MBs on loopback) within seconds.
    const pump = firehose(device, 'firehose-ws', 40, 24);
    try {
      await waitFor(() => got.readings.length > 0, { message: 'first readings' });
      const tcp = (socket.io.engine.transport as unknown as WebSocketTransport).ws._socket;
      tcp.pause();
      await waitFor(
        async () => ((await liveStats(backend.pulse)).conflation?.entered ?? 0) > entered(),
        { timeoutMs: 30_000, intervalMs: 200, message: 'the gateway throttles the stalled socket' },
      );
      await sleep(500);
      tcp.resume();
      await expectThrottledAndBack(
        got,
        { entered: entered(), lagDisconnects: before.lagDisconnects },
        socket,
      );
    } finally {
      pump.stop();
      await endMqtt(device);
      await closeLive(socket);
    }
  }, 60_000);

  it('over long-polling: is throttled once its engine.io queue grows, and gets every reading again once it polls', async () => {
    const socket = await connectLive(backend.pulse.httpUrl, ['polling']);
    await subscribe(socket, { devices: ['firehose-poll'], history: false });
    const got = record(socket);
    const device = await connectMqtt(backend.pulse.mqttUrl);
    const before = await liveStats(backend.pulse);
    const pump = firehose(device, 'firehose-poll', 1, 0);
    try {
      await waitFor(() => got.readings.length > 0, { message: 'first readings' });
      const transport = socket.io.engine.transport as unknown as PollingTransport;
      let paused = false;
      transport.pause(() => (paused = true));
      await waitFor(() => paused, { message: 'polling paused' });
      // ~1 packet per flush piles up in engine.io: throttled as the queue reaches its bound.
      await sleep(3000);
      transport.readyState = 'open';
      transport._poll();
      await expectThrottledAndBack(
        got,
        { entered: before.conflation?.entered ?? 0, lagDisconnects: before.lagDisconnects },
        socket,
      );
    } finally {
      pump.stop();
      await endMqtt(device);
      await closeLive(socket);
    }
  }, 60_000);
});

import { IngestStats, Reading, telemetryTopic } from '@pulse/protocol';
import { connectLive, getJson, sleep, subscribe, waitFor } from '@pulse/test-support';
import {
  CALM_SAMPLES,
  LOAD_SAMPLE_MS,
  OVERLOAD_MIN_CLIENTS,
  OVERLOAD_SAMPLES,
} from '../src/app/live/gateway-load';
import { usePulse } from './support/pulse';

// Real: the gateway in this process, its embedded broker, a stock socket.io-client. The overload
// is real too: the process's event loop is kept ~95 % busy with synchronous work for a few
// seconds (what a gateway whose CPU cannot keep up looks like from inside), while a device
// publishes. Issue 12: under overload clients get merged readings at a lower rate and are told
// so; the rate recovers when the pressure does; nothing is lost from the merged stream. The floor
// is for an audience (OVERLOAD_MIN_CLIENTS connections or more): a few screens on a gateway
// saturated by something else keep every reading.

/** Keep the event loop busy `share` of the time for `ms` (busy slices with short yields). */
async function saturate(ms: number, share = 0.95): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const sliceEnd = Date.now() + 100 * share;
    while (Date.now() < sliceEnd) {
      /* the CPU the gateway does not have */
    }
    await sleep(100 * (1 - share));
  }
}

describe('a gateway that cannot keep up', () => {
  // The test support turns the overload throttle off for everyone else; on here, at its default.
  const backend = usePulse({
    env: {
      FLUSH_MS: '20',
      OVERLOAD_ELU: '0.9',
      LIVE_MAX_CONNECTIONS_PER_IP: String(OVERLOAD_MIN_CLIENTS * 2),
    },
    device: true,
  });

  /** A screen on busy-1: the throttle notices it is told and the readings it gets. */
  async function watchBusy(): Promise<{ throttles: number[]; readings: Reading[] }> {
    const socket = backend.track(await connectLive(backend.pulse.httpUrl, ['websocket']));
    const throttles: number[] = [];
    const readings: Reading[] = [];
    socket.on('throttle', (info: { intervalMs: number }) => throttles.push(info.intervalMs));
    socket.on('readings', (batch: Reading[]) => readings.push(...batch));
    expect(await subscribe(socket, { devices: ['busy-1'], history: false })).toMatchObject({
      ok: true,
    });
    return { throttles, readings };
  }

  /** Publishes `n` to busy-1 every 20 ms while `during` runs; the last n sent. */
  async function publishing(during: () => Promise<void>): Promise<number> {
    let n = 0;
    const timer = setInterval(
      () =>
        backend.device.publish(
          telemetryTopic('busy-1'),
          JSON.stringify({ ts: Date.now(), values: { n: n++ } }),
        ),
      20,
    );
    try {
      await during();
    } finally {
      clearInterval(timer);
    }
    return n - 1;
  }

  it('keeps sending every reading to a few screens when what saturates it is not sending to them', async () => {
    const { throttles, readings } = await watchBusy();
    const before = (await getJson<IngestStats>(backend.api('/stats'))).body.live.gatewayLoad;
    const last = await publishing(async () => {
      await sleep(300);
      await saturate((OVERLOAD_SAMPLES + 1.5) * LOAD_SAMPLE_MS);
    });
    await waitFor(() => readings.some((r) => r.values['n'] === last), {
      timeoutMs: 3000,
      message: `the last reading (${last})`,
    });
    const load = (await getJson<IngestStats>(backend.api('/stats'))).body.live.gatewayLoad;
    expect(load?.fewClientsSeconds ?? 0).toBeGreaterThan(before?.fewClientsSeconds ?? 0);
    expect(load?.raised).toBe(before?.raised);
    expect(throttles).toEqual([]);
    // Every reading, one by one: none merged, none missing.
    expect(readings.every((r) => (r.merged ?? 1) === 1)).toBe(true);
    const seen = new Set(readings.map((r) => r.values['n']));
    const first = Math.min(...seen);
    expect(seen.size).toBe(last - first + 1);
  }, 30_000);

  it('throttles every client to merged readings, tells them, and gives them every reading again once it has room', async () => {
    const { throttles, readings } = await watchBusy();
    // The rest of an audience the floor is for: the wall screens of a control room (a few more
    // than the least, so one slow to connect does not decide the test).
    for (let i = 0; i < OVERLOAD_MIN_CLIENTS + 10; i++)
      backend.track(await connectLive(backend.pulse.httpUrl, ['websocket']));
    const { clients } = (await getJson<IngestStats>(backend.api('/stats'))).body.live;
    expect(clients).toBeGreaterThanOrEqual(OVERLOAD_MIN_CLIENTS);
    const last = await publishing(async () => {
      await sleep(300);
      await saturate((OVERLOAD_SAMPLES + 1.5) * LOAD_SAMPLE_MS);
      await waitFor(() => throttles.some((ms) => ms > 0), {
        timeoutMs: 3000,
        message: `a throttle notice (got ${JSON.stringify(throttles)})`,
      });
      const stats = (await getJson<IngestStats>(backend.api('/stats'))).body.live;
      expect(stats.gatewayLoad?.raised).toBeGreaterThan(0);
      // Calm again: the floor comes down and the client is back to every reading.
      await waitFor(() => throttles.at(-1) === 0, {
        timeoutMs: (CALM_SAMPLES + 6) * LOAD_SAMPLE_MS,
        message: `back to every reading (throttles ${JSON.stringify(throttles)})`,
      });
    });
    await waitFor(() => readings.some((r) => r.values['n'] === last), {
      timeoutMs: 3000,
      message: `the last reading (${last})`,
    });
    // Nothing hidden: every n from the first received is in a reading or a merged one's range.
    const seen = new Set<number>();
    for (const r of readings) {
      const [low, high] = r.range?.['n'] ?? [r.values['n'], r.values['n']];
      for (let v = low; v <= high; v++) seen.add(v);
    }
    const first = Math.min(...seen);
    const missing = Array.from({ length: last - first + 1 }, (_, i) => first + i).filter(
      (v) => !seen.has(v),
    );
    expect(missing).toEqual([]);
    expect(readings.some((r) => (r.merged ?? 1) > 1)).toBe(true);
  }, 40_000);
});

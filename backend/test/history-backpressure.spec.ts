/**
 * When the durable history store cannot keep up, the gateway stops acknowledging MQTT QoS 1
 * messages (the device waits, or the broker keeps them) instead of dropping readings it already
 * acknowledged (issue 13). Real backend and embedded broker; a write queue of 10 values that is
 * flushed every 3 s stands in for a store falling behind.
 */
import type { HistoryResponse, IngestStats } from '@pulse/protocol';
import {
  connectMqtt,
  endMqtt,
  getJson,
  Mosquitto,
  mosquittoAvailable,
  publishTelemetry,
  sleep,
  startMosquitto,
  waitFor,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import type { PulseHandle } from '../src/app/pulse';
import { startTestPulse, usePulse } from './support/pulse';

/** The store's write queue: 10 values, flushed every 3 s. */
const SLOW_STORE = { HISTORY_QUEUE_MAX: '10', HISTORY_FLUSH_MS: '3000' };

/**
 * Right after a flush, so that the next one is a whole HISTORY_FLUSH_MS away: the test's checks
 * that nothing moves while the queue is full must not straddle a flush (the timer's phase is the
 * gateway's boot). Six values of another device (half the queue: written at the next flush, not
 * held) and that flush. Returns the store's flushes so far.
 */
async function afterAFlush(device: MqttClient, flushes: () => Promise<number>): Promise<number> {
  const before = await flushes();
  await publishTelemetry(device, 'flush-marker', {
    ts: Date.now() - 120_000,
    values: { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 },
  });
  return waitFor(async () => ((await flushes()) > before ? flushes() : null), {
    timeoutMs: 10_000,
    message: 'a flush',
  });
}

describe('history store backpressure', () => {
  const fixture = usePulse({
    device: true,
    env: SLOW_STORE,
  });
  const store = async () => (await getJson<IngestStats>(fixture.api('/stats'))).body.history.store;

  it('stops acknowledging further messages while the queue is full, and loses nothing', async () => {
    const flushed = await afterAFlush(fixture.device, async () => (await store())?.flushes ?? 0);
    const t0 = Date.now() - 60_000;
    const first = Array.from({ length: 12 }, (_, i) => ({ ts: t0 + i, values: { a: i } }));
    // The embedded broker hands a QoS 1 message to the ingest, then acknowledges it: this one is
    // journaled and queued in full (over the limit) and acked; the device's next message waits
    // for the store (broker/in-process-delivery.ts).
    await publishTelemetry(fixture.device, 'slow-store-1', first);
    let acked = false;
    const next = publishTelemetry(fixture.device, 'slow-store-1', {
      ts: t0 + 100,
      values: { a: 100 },
    });
    void next.then(() => (acked = true));
    await waitFor(async () => ((await store())?.acksWithheld ?? 0) >= 1, {
      message: 'the acknowledgement withheld',
    });
    await sleep(500);
    expect(acked).toBe(false);
    await next;
    expect((await store())?.flushes).toBeGreaterThanOrEqual(flushed + 1);
    expect(await store()).toMatchObject({ dropped: { queueFull: 0, writeFailed: 0 } });
    const { body } = await getJson<HistoryResponse>(
      fixture.api(`/devices/slow-store-1/history?from=${t0}`),
    );
    expect(body.series[0].v).toEqual([...first.map((r) => r.values.a), 100]);
  });
});

// External broker: the gateway's PUBACK to mosquitto is held, so mqtt.js reads nothing further
// (mosquitto keeps the rest in its queue for the gateway's session) until the store has room.
(mosquittoAvailable() ? describe : describe.skip)(
  'history store backpressure on an external broker',
  () => {
    let mosquitto: Mosquitto;
    let pulse: PulseHandle;
    beforeAll(async () => {
      mosquitto = await startMosquitto();
      pulse = await startTestPulse({
        MQTT_URL: mosquitto.url,
        ...SLOW_STORE,
      });
    });
    afterAll(async () => {
      await pulse?.close();
      await mosquitto?.stop();
    });

    it('takes the next message only once the store has room, and loses nothing', async () => {
      const stats = async () => (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body;
      const device = await connectMqtt(mosquitto.url);
      try {
        await afterAFlush(device, async () => (await stats()).history.store?.flushes ?? 0);
        const telemetry = (await stats()).messages.telemetry;
        const t0 = Date.now() - 60_000;
        const first = Array.from({ length: 12 }, (_, i) => ({ ts: t0 + i, values: { a: i } }));
        await publishTelemetry(device, 'slow-store-2', first);
        await publishTelemetry(device, 'slow-store-2', { ts: t0 + 100, values: { a: 100 } });
        await waitFor(async () => ((await stats()).history.store?.acksWithheld ?? 0) >= 1, {
          message: 'the acknowledgement withheld',
        });
        await sleep(500);
        expect((await stats()).messages.telemetry).toBe(telemetry + 1);
        await waitFor(async () => (await stats()).messages.telemetry === telemetry + 2, {
          timeoutMs: 15_000,
          message: 'the second message after the flush',
        });
        const { body } = await getJson<HistoryResponse>(
          `${pulse.httpUrl}/api/devices/slow-store-2/history?from=${t0}`,
        );
        expect(body.series[0].v).toEqual([...first.map((r) => r.values.a), 100]);
      } finally {
        await endMqtt(device);
      }
    });
  },
);

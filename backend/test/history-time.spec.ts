/**
 * Time correctness of history (issue 13): readings without `ts` get the receive time with a
 * per-device monotonic tie-break, so none overwrites another; a retry's duplicate keeps one
 * point; late readings land in place. Real backend, real broker, real MQTT client.
 */
import type { HistoryResponse, IngestStats } from '@pulse/protocol';
import { getJson, publishTelemetry, waitFor } from '@pulse/test-support';
import { usePulse } from './support/pulse';

describe('history: time of readings', () => {
  const fixture = usePulse({ device: true });

  const history = async (deviceId: string) =>
    (await getJson<HistoryResponse>(fixture.api(`/devices/${deviceId}/history?from=0`))).body;
  const points = async (deviceId: string, metric = 'a') =>
    (await history(deviceId)).series.find((s) => s.metric === metric)?.t ?? [];

  it('keeps every reading of a batch without ts, in the order sent', async () => {
    await publishTelemetry(
      fixture.device,
      'notime-1',
      [1, 2, 3, 4, 5].map((a) => ({ values: { a } })),
    );
    const t = await waitFor(
      async () => ((await points('notime-1')).length === 5 ? points('notime-1') : null),
      {
        message: '5 points in history',
      },
    );
    const series = (await history('notime-1')).series[0];
    expect(series.v).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(t).size).toBe(5);
    expect(Math.abs(t[0] - Date.now())).toBeLessThan(10_000);
  });

  it('keeps all of 20 fast publishes without ts', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => publishTelemetry(fixture.device, 'notime-2', { a: i })),
    );
    await waitFor(async () => (await points('notime-2')).length === 20, {
      message: '20 points in history',
      timeoutMs: 5000,
    });
    const series = (await history('notime-2')).series[0];
    expect([...series.v].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('keeps one point for a retried reading and stores a late one in place', async () => {
    const t0 = Date.now() - 60_000;
    await publishTelemetry(fixture.device, 'retry-1', { ts: t0 + 2000, values: { a: 2 } });
    await publishTelemetry(fixture.device, 'retry-1', { ts: t0 + 2000, values: { a: 2 } });
    await publishTelemetry(fixture.device, 'retry-1', { ts: t0, values: { a: 0 } });
    await waitFor(async () => (await points('retry-1')).length === 2, { message: 'two points' });
    expect((await history('retry-1')).series[0]).toMatchObject({ t: [t0, t0 + 2000], v: [0, 2] });
    const stats = await waitFor(
      async () => {
        const { body } = await getJson<IngestStats>(fixture.api('/stats'));
        return body.history.store && body.history.store.duplicates >= 1 ? body.history.store : null;
      },
      { message: 'the duplicate counted by the store' },
    );
    expect(stats).toMatchObject({ kind: 'sqlite', dropped: { queueFull: 0, writeFailed: 0 } });
  });
});

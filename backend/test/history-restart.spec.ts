/**
 * Durable history across restarts (issue 13). In process: a backend closed and started again
 * on the same DATA_DIR answers `/api/devices/:id/history` and subscribe acks from the store,
 * joined with new live points without a gap or a duplicate. Built: `node dist/backend/main.js`
 * killed with SIGKILL and started again on the same data still has every reading, once.
 */
import type { HistoryResponse, IngestStats, Reading } from '@pulse/protocol';
import {
  connectLive,
  connectMqtt,
  endMqtt,
  freePort,
  getJson,
  publishTelemetry,
  startBuiltBackend,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPulse } from './support/pulse';

const MIN = 60_000;

/** `count` readings of metric `a` (value = index), one a minute, the last `endsAgo` ms ago. */
function minutes(count: number, endsAgo: number): { ts: number; values: { a: number } }[] {
  const end = Date.now() - endsAgo;
  return Array.from({ length: count }, (_, i) => ({
    ts: end - (count - 1 - i) * MIN,
    values: { a: i },
  }));
}

async function storeWritten(httpUrl: string, values: number): Promise<void> {
  await waitFor(
    async () => {
      const { body } = await getJson<IngestStats>(`${httpUrl}/api/stats`);
      const store = body.history.store;
      return store && store.queued === 0 && store.written >= values;
    },
    { message: `${values} values written to the store`, timeoutMs: 15_000 },
  );
}

const historyOf = async (httpUrl: string, deviceId: string, query: string) =>
  (await getJson<HistoryResponse>(`${httpUrl}/api/devices/${deviceId}/history?${query}`)).body;

describe('history across a restart', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pulse-history-restart-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves the stored past after a restart, joined to new readings without gap or duplicate', async () => {
    // 3 h of readings, one a minute: older than the 1 h recent window, so only the store has them.
    const past = minutes(180, 5 * MIN);
    const first = await startTestPulse({ DATA_DIR: dataDir, HISTORY_FLUSH_MS: '50' });
    const device = await connectMqtt(first.mqttUrl);
    await publishTelemetry(device, 'durable-1', past);
    await storeWritten(first.httpUrl, 180);
    await endMqtt(device);
    await first.close();

    const second = await startTestPulse({ DATA_DIR: dataDir, HISTORY_FLUSH_MS: '50' });
    try {
      const again = await connectMqtt(second.mqttUrl);
      const fresh: Reading['values'][] = [{ a: 1000 }, { a: 1001 }];
      for (const values of fresh) await publishTelemetry(again, 'durable-1', { values });
      await endMqtt(again);
      const from = past[0].ts;
      const body = await waitFor(
        async () => {
          const h = await historyOf(second.httpUrl, 'durable-1', `from=${from}`);
          return h.series[0]?.t.length === 182 ? h : null;
        },
        { message: '180 stored + 2 new points' },
      );
      const [series] = body.series;
      expect(series.v).toEqual([...past.map((r) => r.values.a), 1000, 1001]);
      expect(new Set(series.t).size).toBe(182);
      expect([...series.t].sort((x, y) => x - y)).toEqual(series.t);

      // A 3 h range at 60 points, spread: decimated over the whole range, both extremes kept.
      const small = await historyOf(
        second.httpUrl,
        'durable-1',
        `from=${from}&maxPoints=60&pick=spread`,
      );
      expect(small.series[0].t.length).toBeLessThanOrEqual(60);
      expect(small.series[0].t[0]).toBe(from);
      expect(small.series[0].v).toContain(1001);
      // The default (pick=latest): the newest 60 readings, stored and new.
      const latest = await historyOf(second.httpUrl, 'durable-1', `from=${from}&maxPoints=60`);
      expect(latest.series[0].t).toEqual(series.t.slice(-60));
      expect(latest.series[0].v).toEqual(series.v.slice(-60));

      // A dashboard subscribing for the last 3 h gets the same points in its ack.
      const live = await connectLive(second.httpUrl);
      try {
        const ack = await subscribe(live, { devices: ['durable-1'], since: from });
        expect(ack.ok && ack.history[0].v).toEqual(series.v);
      } finally {
        live.close();
      }
    } finally {
      await second.close();
    }
  });

  it('keeps every reading once when the built gateway is killed with SIGKILL and restarted', async () => {
    const ports = { http: await freePort(), mqtt: await freePort() };
    const env = { DATA_DIR: dataDir, SIMULATOR: 'off', HISTORY_FLUSH_MS: '50' };
    const first = await startBuiltBackend(ports, env);
    const readings = minutes(300, MIN);
    try {
      const device = await connectMqtt(first.mqttUrl);
      // QoS 1, batches like a device catching up; each acknowledged by the broker.
      for (let i = 0; i < readings.length; i += 50)
        await publishTelemetry(device, 'crash-1', readings.slice(i, i + 50));
      await storeWritten(first.httpUrl, readings.length);
      device.end(true);
    } finally {
      await first.kill();
    }

    const second = await startBuiltBackend(ports, env);
    try {
      const device = await connectMqtt(second.mqttUrl);
      await publishTelemetry(device, 'crash-1', { values: { a: 5000 } });
      await endMqtt(device);
      const body = await waitFor(
        async () => {
          const h = await historyOf(
            second.httpUrl,
            'crash-1',
            `from=${readings[0].ts}&maxPoints=1000`,
          );
          return h.series[0]?.t.length === readings.length + 1 ? h : null;
        },
        // Each check is a history read: paced under the gateway's budget (300 per 10 s).
        { message: 'every reading from before the crash, and the new one', intervalMs: 100 },
      );
      expect(body.series[0].t.slice(0, -1)).toEqual(readings.map((r) => r.ts));
      expect(body.series[0].v.slice(0, -1)).toEqual(readings.map((r) => r.values.a));
    } finally {
      await second.kill();
    }
  });
});

import { HistoryResponse, telemetryTopic } from '@pulse/protocol';
import { Backend, freePort, getJson, sleep, startBuiltBackend, waitFor } from '@pulse/test-support';
import mqtt, { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { authEnv } from './support/auth';
import { attr, BrowserSession, describeInBrowser, startBrowserSession } from './support/browser';
import { processesWithEnv } from './support/processes';

/*
 * Issue 13's browser test: a dashboard left open on a device view while the built gateway is
 * killed with SIGKILL in the middle of a QoS 1 stream and started again on the same data and
 * ports. Nothing of the killed gateway may keep running (its simulator child ends with it),
 * the page must reconnect by itself, and its chart must hold every reading published before,
 * during and after the outage — each with its own known timestamp — with no gap. The chart is
 * read through its test hook (`pulseChartData()` on `app-live-chart`). One stack for the file;
 * the second case draws a day of stored history in the 24h window (the README's screenshot).
 */

const DEVICE = 'restart-probe';
const PUBLISH_EVERY_MS = 100;

/** What the chart holds to draw (LiveChartComponent's ChartDataHook). */
async function chartData(page: Page): Promise<{ line: [number, number][] }> {
  return page
    .locator('app-live-chart')
    .first()
    .evaluate((el) =>
      (el as unknown as { pulseChartData(): { line: [number, number][] } }).pulseChartData(),
    );
}

describeInBrowser('a dashboard left open across a gateway crash', () => {
  let ports: { http: number; mqtt: number };
  let backend: Backend;
  let session: BrowserSession;
  let device: MqttClient | undefined;
  const data = authEnv();
  // A small built-in fleet: its simulator child is what could outlive the gateway.
  const env = { ...data.env, SIMULATOR_DEVICES: '2', SIMULATOR_RATE: '1' };
  const phase = (page: Page) => attr(page, '.conn', 'data-phase');

  beforeAll(async () => {
    ports = { http: await freePort(), mqtt: await freePort() };
    backend = await startBuiltBackend(ports, env);
    session = await startBrowserSession(backend.httpUrl);
  });

  afterAll(async () => {
    await device?.endAsync(true).catch(() => undefined);
    await session?.close();
    await backend?.kill();
    data.remove();
  });

  it('reconnects by itself and its chart holds every reading from before, during and after a SIGKILL', async () => {
    // A QoS 1 device with its own session: what the broker did not acknowledge it sends again.
    device = await mqtt.connectAsync(backend.mqttUrl, {
      clientId: DEVICE,
      reconnectPeriod: 200,
      connectTimeout: 2000,
    });
    const client = device;
    const sent: { ts: number; value: number; ackedAt: number | null }[] = [];
    // Evenly spaced stamps (never ahead of the clock: a timer never fires early), so a hole in
    // the chart can only be a lost reading, not a stall of this test's event loop.
    const t0 = Date.now();
    const publishOne = () => {
      const ts = t0 + sent.length * PUBLISH_EVERY_MS;
      const reading = { ts, value: sent.length, ackedAt: null as number | null };
      sent.push(reading);
      client.publish(
        telemetryTopic(DEVICE),
        JSON.stringify({ ts, values: { level: reading.value } }),
        { qos: 1 },
        (error) => {
          if (!error) reading.ackedAt = Date.now();
        },
      );
    };
    publishOne();
    const stream = setInterval(publishOne, PUBLISH_EVERY_MS);
    try {
      const page = await session.open(`/devices/${DEVICE}`);
      await waitFor(async () => (await phase(page)) === 'connected', {
        timeoutMs: 20_000,
        message: 'the page to connect',
      });
      await waitFor(async () => (await chartData(page)).line.length >= 20, {
        timeoutMs: 15_000,
        message: 'live readings in the chart before the crash',
      });

      // A crash of the gateway alone (as the kernel's OOM killer does it), mid-stream.
      const killedAt = Date.now();
      process.kill(backend.pid, 'SIGKILL');
      await waitFor(() => processesWithEnv('DATA_DIR', data.env['DATA_DIR']).length === 0, {
        timeoutMs: 10_000,
        message: 'no process of the killed gateway left (its simulator child ends with it)',
      });
      await waitFor(async () => (await phase(page)) !== 'connected', {
        timeoutMs: 10_000,
        message: 'the page to notice the crash',
      });

      backend = await startBuiltBackend(ports, env);
      const restartedAt = Date.now();
      await waitFor(async () => (await phase(page)) === 'connected', {
        timeoutMs: 30_000,
        message: 'the page to reconnect by itself',
      });
      await sleep(1500); // a stretch of readings after the reconnect
      clearInterval(stream);
      await waitFor(() => sent.every((r) => r.ackedAt !== null), {
        timeoutMs: 15_000,
        message: 'the device to have every reading acknowledged',
      });

      const expected = sent.map((r) => r.ts);
      const missing = async () => {
        const held = new Set((await chartData(page)).line.map(([x]) => x));
        return expected.filter((ts) => !held.has(ts));
      };
      await waitFor(async () => (await missing()).length === 0, {
        timeoutMs: 10_000,
        message: 'every published reading in the chart',
      }).catch(async (error: Error) => {
        const lost = await missing();
        throw new Error(
          `${error.message}: ${lost.length} of ${expected.length} missing, ` +
            `${lost.map((ts) => `${ts - killedAt} ms`).join(', ')} from the kill`,
        );
      });
      const line = (await chartData(page)).line;
      // Each reading once, with its own value, and no hole the gap detector would draw.
      const byTs = new Map(line.map(([x, y]) => [x, y]));
      expect(byTs.size).toBe(line.length);
      for (const r of sent) expect(byTs.get(r.ts)).toBe(r.value);
      expect(await attr(page, 'app-live-chart', 'data-gaps')).toBe('0');
      const during = sent.filter((r) => r.ts > killedAt && r.ts < restartedAt).length;
      expect(during).toBeGreaterThan(0);
      process.stderr.write(
        `[e2e] crash: ${sent.length} readings, ${during} published while the gateway was down, ` +
          `restarted after ${restartedAt - killedAt} ms; all in the chart\n`,
      );
    } finally {
      clearInterval(stream);
    }
  });

  it('draws a day of stored readings in the 24h window, with the live edge at the right', async () => {
    const id = 'day-probe';
    const client = await mqtt.connectAsync(backend.mqttUrl, { clientId: id, reconnectPeriod: 0 });
    // 24 h at one reading per 20 s: a daily load cycle with noise, in batches the contract allows.
    const now = Date.now();
    const day: { ts: number; values: { power: number } }[] = [];
    for (let ts = now - 24 * 3_600_000; ts <= now; ts += 20_000) {
      const hours = (ts - now) / 3_600_000;
      const power =
        400 + 150 * Math.sin((hours / 24) * 2 * Math.PI) + 60 * Math.sin(ts / 7_000) ** 3;
      day.push({ ts, values: { power: Math.round(power * 10) / 10 } });
    }
    for (let i = 0; i < day.length; i += 480)
      await client.publishAsync(telemetryTopic(id), JSON.stringify(day.slice(i, i + 480)), {
        qos: 1,
      });

    // In the store once the writer flushed (every reading of the day, read back raw).
    const from = now - 24 * 3_600_000;
    await waitFor(
      async () => {
        const { body } = await getJson<HistoryResponse>(
          `${backend.httpUrl}/api/devices/${id}/history?from=${from}&maxPoints=100000`,
        );
        return body.series[0]?.t.length === day.length;
      },
      // Each check is a history read from this address, the page's next: paced under the
      // gateway's budget (300 per 10 s), which the page opened next needs too.
      { timeoutMs: 10_000, intervalMs: 250, message: 'the day in the store' },
    );

    const page = await session.open(`/devices/${id}?window=24h`);
    const chart = 'app-live-chart';
    await waitFor(async () => (await attr(page, chart, 'data-range')) === 'loaded', {
      timeoutMs: 15_000,
      message: 'the day loaded from the store',
    });
    await waitFor(async () => Number(await attr(page, chart, 'data-points')) > 300, {
      timeoutMs: 5_000,
      message: 'the day drawn in buckets',
    });
    expect(page.url()).toContain('window=24h');
    expect(await page.locator('[data-window="24h"]').getAttribute('aria-pressed')).toBe('true');
    const { band } = await page
      .locator(chart)
      .evaluate((el) =>
        (
          el as unknown as { pulseChartData(): { band: [number, number, number][] } }
        ).pulseChartData(),
      );
    // Far fewer buckets than readings, each a real range (its lowest below its highest).
    expect(band.length).toBeLessThan(day.length / 2);
    expect(band.filter(([, lo, hi]) => hi > lo).length).toBeGreaterThan(band.length / 2);
    await session.shot(page, 'device-24h.png');
    await client.endAsync();
  });
});

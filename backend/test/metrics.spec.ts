import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { telemetryTopic } from '@pulse/protocol';
import { publish, waitFor } from '@pulse/test-support';
import { usePulse, userToken } from './support/pulse';
import { statLeaves } from '../src/app/stats/metrics.service';

// Real: the gateway with its embedded broker, a device publishing over MQTT, and what a
// Prometheus server would scrape from /api/metrics (text exposition format, parsed here the way
// Prometheus reads it: one `name{labels} value` per line).

/** The value of the first sample of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).some(([k, v]) => !line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

describe('/api/metrics', () => {
  const backend = usePulse({ env: { ANONYMOUS_ROLE: 'none' }, device: true });

  it('gives Prometheus the ingest, rejections by reason, devices and runtime metrics, each with the gateway’s identity', async () => {
    await publish(backend.device, telemetryTopic('m-1'), '{"values":{"t":1}}', 1);
    await publish(backend.device, telemetryTopic('m-1'), '{"values":{"t":"x"}}', 1);
    const token = await userToken(backend.pulse.httpUrl, 'scraper', 'viewer');
    const scrape = async () => {
      const res = await fetch(backend.api('/metrics'), {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      return res.text();
    };
    const text = await waitFor(
      async () => {
        const t = await scrape();
        return (sample(t, 'pulse_readings_accepted_total') ?? 0) >= 1 ? t : null;
      },
      { timeoutMs: 3000, message: 'the accepted reading in the metrics' },
    );
    expect(sample(text, 'pulse_readings_rejected_total', { reason: 'value' })).toBe(1);
    expect(sample(text, 'pulse_devices')).toBe(1);
    expect(sample(text, 'pulse_broker_connected')).toBe(1);
    expect(sample(text, 'pulse_nodejs_heap_size_total_bytes') ?? 0).toBeGreaterThan(0);
    expect(text).toMatch(/# TYPE pulse_readings_accepted_total counter/);
    // Every sample names its gateway.
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples.length).toBeGreaterThan(20);
    expect(samples.every((l) => l.includes('gateway="'))).toBe(true);
  });

  it('names the version it runs as pulse_build_info, one series set to 1', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    const token = await userToken(backend.pulse.httpUrl, 'scraper3', 'viewer');
    const text = await (
      await fetch(backend.api('/metrics'), { headers: { authorization: `Bearer ${token}` } })
    ).text();
    expect(text).toMatch(/# TYPE pulse_build_info gauge/);
    const series = text.split('\n').filter((line) => line.startsWith('pulse_build_info{'));
    expect(series).toEqual([expect.stringMatching(/ 1$/)]);
    expect(sample(text, 'pulse_build_info', { version })).toBe(1);
  });

  it('carries every number of /api/stats', async () => {
    const token = await userToken(backend.pulse.httpUrl, 'scraper2', 'viewer');
    const headers = { authorization: `Bearer ${token}` };
    const stats = (await (await fetch(backend.api('/stats'), { headers })).json()) as object;
    const text = await (await fetch(backend.api('/metrics'), { headers })).text();
    const keys = new Set(
      [...text.matchAll(/^pulse_stats\{[^}]*key="([^"]+)"/gm)].map((match) => match[1]),
    );
    const expected = statLeaves(stats).map(([key]) => key);
    expect(expected.length).toBeGreaterThan(50);
    expect(expected).toContain('history.store.written');
    expect(expected.filter((key) => !keys.has(key))).toEqual([]);
  });

  it('is refused without a token when anonymous viewing is off', async () => {
    const res = await fetch(backend.api('/metrics'));
    expect(res.status).toBe(401);
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative as relativeTo } from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { DS, LIMITS, fromWire, type DeviceSummary, type WireSeries } from '@pulse/protocol';
import {
  connectMqtt,
  endMqtt,
  getJson,
  publish,
  publishTelemetry,
  sendJson,
  waitFor,
} from '@pulse/test-support';
import { API_COMPRESSION_THRESHOLD_BYTES } from '../src/app/http/api-compression';
import { PulseHandle } from '../src/app/pulse';
import { adminAuth, startTestPulse, usePulse } from './support/pulse';

// Real: HTTP API, embedded broker, ingest; a device publishes with mqtt.js.
describe('HTTP API', () => {
  // No hold before the store writes a device's values (default 5 s): a test here waits until the
  // store has an old reading, and holding it is history-writer.service.spec's to check.
  const backend = usePulse({ env: { HISTORY_HOLD_MS: '0' } });
  const t0 = Date.now() - 60_000;

  beforeAll(async () => {
    const device = await connectMqtt(backend.pulse.mqttUrl);
    for (let i = 0; i < 5; i++)
      await publishTelemetry(device, 'api-1', { ts: t0 + i * 1000, values: { a: i, b: -i } });
    // A device in a group (its meta retained, as a device announces itself).
    await publish(device, 'devices/hall-1/meta', JSON.stringify({ group: 'hall-a' }), 1, true);
    await publishTelemetry(device, 'hall-1', { ts: t0 + 2000, values: { c: 7 } });
    // And one two hours old: older than any live window.
    await publishTelemetry(device, 'hall-1', { ts: t0 - 2 * 3_600_000, values: { c: 6 } });
    await endMqtt(device);
    await waitFor(
      async () =>
        (await getJson<{ lastTs: number }>(backend.api('/devices/api-1'))).body.lastTs ===
        t0 + 4000,
    );
    await waitFor(
      async () =>
        (await getJson<{ meta?: { group?: string } }>(backend.api('/devices/hall-1'))).body.meta
          ?.group === 'hall-a',
    );
  });

  const get = <T = Record<string, unknown>>(path: string) =>
    getJson<T>(`${backend.pulse.httpUrl}${path}`);

  it('reports health with the broker state', async () => {
    expect(await get('/api/health')).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ok', broker: 'connected' }),
    });
  });

  it('names the version it runs in health and stats, as the root package.json has it', async () => {
    // What an operator compares across gateways during a rolling upgrade.
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await get('/api/health')).body).toEqual({
      status: 'ok',
      broker: 'connected',
      serverTime: expect.any(Number),
      version,
    });
    expect((await get('/api/stats')).body).toMatchObject({ version });
  });

  it('lists devices and returns one device, 404 for an unknown one', async () => {
    const list = await get<{ devices: { deviceId: string }[] }>('/api/devices');
    expect(list.body.devices.map((d) => d.deviceId).sort()).toEqual(['api-1', 'hall-1']);
    expect((await get('/api/devices/api-1')).body).toMatchObject({
      deviceId: 'api-1',
      metrics: ['a', 'b'],
      lastTs: t0 + 4000,
    });
    expect((await get('/api/devices/nope')).status).toBe(404);
  });

  it('returns history filtered by time, metrics and maxPoints (the most recent points)', async () => {
    const all = await get<{ series: { metric: string; t: number[] }[] }>(
      '/api/devices/api-1/history',
    );
    expect(all.body.series.map((s) => [s.metric, s.t.length])).toEqual([
      ['a', 5],
      ['b', 5],
    ]);
    const some = await get(
      `/api/devices/api-1/history?from=${t0 + 1000}&to=${t0 + 3000}&metrics=b&maxPoints=2`,
    );
    expect(some.body).toEqual({
      deviceId: 'api-1',
      series: [
        {
          deviceId: 'api-1',
          metric: 'b',
          t: [t0 + 2000, t0 + 3000],
          v: [-2, -3],
        },
      ],
    });
  });

  it('spreads the points over the range with pick=spread, as a chart of the window needs them', async () => {
    const spread = await get<{ series: { metric: string; t: number[] }[] }>(
      `/api/devices/api-1/history?from=${t0}&metrics=a&maxPoints=3&pick=spread`,
    );
    const [a] = spread.body.series;
    expect(a.t.length).toBeLessThanOrEqual(3);
    // The first and the last of the range are kept, not only the most recent three.
    expect(a.t[0]).toBe(t0);
    expect(a.t[a.t.length - 1]).toBe(t0 + 4000);
    const latest = await get<{ series: { t: number[] }[] }>(
      `/api/devices/api-1/history?from=${t0}&metrics=a&maxPoints=3&pick=latest`,
    );
    expect(latest.body.series[0].t).toEqual([t0 + 2000, t0 + 3000, t0 + 4000]);
  });

  it('reads the windows of several devices in one answer, spread, with time deltas when asked', async () => {
    type Wire = { deviceId: string; metric: string; t?: number[]; dt?: number[]; v: number[] };
    const deltas = await get<{ series: Wire[] }>(
      `/api/history?devices=api-1,hall-1,nope&from=${t0}&maxPoints=3&timeDeltas=true`,
    );
    expect(deltas.status).toBe(200);
    const ids = deltas.body.series.map((s) => `${s.deviceId}/${s.metric}`);
    expect(ids).toEqual(['api-1/a', 'api-1/b', 'hall-1/c']); // an unknown device has none
    const [a] = deltas.body.series;
    const t = fromWire(a as WireSeries).t;
    expect(a.t).toBeUndefined();
    expect(t.length).toBeLessThanOrEqual(3);
    expect([t[0], t[t.length - 1]]).toEqual([t0, t0 + 4000]); // spread over the range
    const plain = await get<{ series: Wire[] }>(
      `/api/history?devices=api-1&from=${t0}&maxPoints=3`,
    );
    expect(plain.body.series[0]).toEqual({ deviceId: 'api-1', metric: 'a', t, v: a.v });
  });

  it('reads no further back than a live window, whatever `from` asks', async () => {
    type Plain = { series: { t: number[] }[] };
    // The store has the old reading (written at its next flush: no hold here)...
    await waitFor(
      async () =>
        (await get<Plain>('/api/devices/hall-1/history?from=0')).body.series[0]?.t.length === 2,
      { timeoutMs: 15_000 },
    );
    // ...and a windows read from 0 leaves it out.
    const windows = await get<Plain>('/api/history?devices=hall-1&from=0');
    expect(windows.body.series[0].t).toEqual([t0 + 2000]);
  });

  it("gives a group-scoped caller its groups' devices only, as if the others were unknown", async () => {
    const scoped = await sendJson<{ token: string }>(
      `${backend.pulse.httpUrl}/api/auth/tokens`,
      'POST',
      { name: 'hall-a screen', groups: ['hall-a'] },
      await adminAuth(backend.pulse.httpUrl),
    );
    const windows = await getJson<{ series: { deviceId: string }[] }>(
      `${backend.pulse.httpUrl}/api/history?devices=api-1,hall-1&from=${t0}`,
      { authorization: `Bearer ${scoped.body.token}` },
    );
    expect(windows.status).toBe(200);
    expect(windows.body.series.map((s) => s.deviceId)).toEqual(['hall-1']);
  });

  it.each([
    ['devices=', 'devices.0: device ids'],
    ['devices=a,a', 'devices: a device id twice'],
    ['devices=a%2Fb', 'devices.0: device ids'],
    [
      `devices=${Array.from({ length: LIMITS.maxHistoryDevices + 1 }, (_, i) => `d${i}`).join(',')}`,
      'devices: ',
    ],
    ['devices=api-1&maxPoints=0', 'maxPoints: '],
    ['devices=api-1&pick=latest', '(root): '],
  ])('answers a windows read 400 with path: message for ?%s', async (query, expected) => {
    const response = await get<{ statusCode: number; message: string[] }>(`/api/history?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.message.join('\n')).toContain(expected);
  });

  it.each([
    ['maxPoints=abc', 'maxPoints: '],
    ['maxPoints=0', 'maxPoints: '],
    ['from=-5', 'from: '],
    ['bogus=1', '(root): '],
    ['pick=random', 'pick: '],
    ['from=0x10', 'from: a decimal number'],
    ['from=1&from=2', 'from: given more than once'],
    ['from=5&to=1', 'from: must not be after to'],
  ])('answers 400 with path: message for ?%s', async (query, expected) => {
    const response = await get<{ statusCode: number; message: string[] }>(
      `/api/devices/api-1/history?${query}`,
    );
    expect(response.status).toBe(400);
    expect(response.body.message.join('\n')).toContain(expected);
  });

  it('answers unknown API routes with a JSON 404 and serves a placeholder page when the dashboard is not built', async () => {
    expect(await get('/api/nothing-here')).toEqual({
      status: 404,
      body: expect.objectContaining({ statusCode: 404 }),
    });
    const page = await fetch(`${backend.pulse.httpUrl}/devices/api-1`, {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('dashboard is not built');
  });

  it('counts ingest in /api/stats', async () => {
    const stats = await get<{
      readings: { accepted: number };
      devices: { known: number };
      history: { series: number; points: number };
    }>('/api/stats');
    // api-1: 5 readings of a and b; hall-1: 2 of c, the recent window holding the newer one.
    expect(stats.body).toMatchObject({
      readings: { accepted: 7 },
      devices: { known: 2 },
      history: { series: 3, points: 11 },
    });
  });
});

// Real: the gateway's API as a browser's network stack gets it (bytes and headers, nothing
// decoded), with a fleet of 40 devices published over MQTT.
describe('API answers on the wire', () => {
  const backend = usePulse();
  const summary = '/api/fleet/summary?sort=name&order=asc&offset=0&limit=100';
  const json = 'application/json';

  beforeAll(async () => {
    const device = await connectMqtt(backend.pulse.mqttUrl);
    for (let i = 0; i < 40; i++)
      await publishTelemetry(device, `wire-${String(i).padStart(2, '0')}`, {
        values: { temperature: 20 + i / 10, humidity: 40 + i, co2: 600 + i },
      });
    await endMqtt(device);
    await waitFor(
      async () =>
        (await getJson<{ total: number }>(`${backend.pulse.httpUrl}${summary}`)).body.total === 40,
    );
  });

  it('compresses a read for a client that accepts it (Brotli first, then gzip) and sends it as it is otherwise', async () => {
    const url = backend.pulse.httpUrl;
    const plain = await rawFrom(url, summary, undefined, json);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(API_COMPRESSION_THRESHOLD_BYTES);
    // Each device without its `age`, which counts back from the summary's `at` and moves with
    // every push (once a second) between two requests.
    const devicesOf = (body: Buffer) =>
      (JSON.parse(body.toString()) as { devices: DeviceSummary[] }).devices.map((d) =>
        d.filter((_, i) => i !== DS.age),
      );
    const page = { devices: devicesOf(plain.body) };
    expect(page.devices).toHaveLength(40);

    const br = await rawFrom(url, summary, 'gzip, deflate, br, zstd', json); // Chromium's header
    expect(br.status).toBe(200);
    expect(br.headers).toMatchObject({
      'content-encoding': 'br',
      'content-type': expect.stringMatching(/^application\/json/),
      vary: expect.stringContaining('Accept-Encoding'),
    });
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    expect(devicesOf(brotliDecompressSync(br.body))).toEqual(page.devices);

    const gz = await rawFrom(url, summary, 'gzip', json);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(devicesOf(gunzipSync(gz.body))).toEqual(page.devices);

    const identity = await rawFrom(url, summary, 'identity', json);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(devicesOf(identity.body)).toEqual(page.devices);
  });

  it('never compresses the answer to a write, however large', async () => {
    // A 404 that echoes a long path: over the threshold, and input the client chose.
    const path = `/api/nope/${'x'.repeat(2000)}`;
    const post = await rawFrom(backend.pulse.httpUrl, path, 'br, gzip', json, 'POST');
    expect(post.status).toBe(404);
    expect(post.body.length).toBeGreaterThan(API_COMPRESSION_THRESHOLD_BYTES);
    expect(post.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(post.body.toString())).toMatchObject({ statusCode: 404 });
    // The same answer to a read is compressed: only the method kept the write's as it is.
    const get = await rawFrom(backend.pulse.httpUrl, path, 'br, gzip', json);
    expect(get.status).toBe(404);
    expect(get.headers['content-encoding']).toBe('br');
  });

  it('revalidates across encodings: a 304 says Vary, and HEAD gives the length as it is', async () => {
    const url = backend.pulse.httpUrl;
    const br = await rawFrom(url, summary, 'br', json);
    expect(br.headers.etag).toMatch(/^W\//);
    const again = await rawFromWith(url, summary, {
      accept: json,
      'accept-encoding': 'br',
      'if-none-match': br.headers.etag,
    });
    expect(again.status).toBe(304);
    expect(again.headers.vary).toContain('Accept-Encoding');
    const head = await rawFrom(url, summary, 'br', json, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-encoding']).toBeUndefined();
    expect(Number(head.headers['content-length'])).toBeGreaterThan(br.body.length);
  });

  it('sends /api/metrics gzip-compressed to a scraper that asks for it', async () => {
    const metrics = await rawFrom(backend.pulse.httpUrl, '/api/metrics', 'gzip', 'text/plain');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(metrics.body).toString()).toMatch(/^# HELP /m);
  });

  it('sends answers under the threshold as they are', async () => {
    const health = await rawFrom(backend.pulse.httpUrl, '/api/health', 'br, gzip', json);
    expect(health.status).toBe(200);
    expect(health.body.length).toBeLessThan(API_COMPRESSION_THRESHOLD_BYTES);
    expect(health.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(health.body.toString())).toMatchObject({ status: 'ok' });
  });
});

/** The response as a browser's network stack gets it: raw bytes and headers, nothing decoded. */
const rawFromWith = (base: string, path: string, headers: Record<string, string>, method = 'GET') =>
  new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>((done, fail) => {
    request(new URL(path, base), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        done({
          status: res.statusCode ?? 0,
          headers: res.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        }),
      );
    })
      .on('error', fail)
      .end();
  });
const rawFrom = (
  base: string,
  path: string,
  acceptEncoding?: string,
  accept = '*/*',
  method = 'GET',
) =>
  rawFromWith(
    base,
    path,
    { accept, ...(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding }) },
    method,
  );

/** The dashboard build's own precompress step, run on `dir`. */
const precompress = (dir: string) =>
  execFileSync(process.execPath, [join(__dirname, '../../dashboard/scripts/precompress.mjs'), dir]);

// Real: the built gateway serving a dashboard build (a stand-in with Angular's file names),
// precompressed by the dashboard build's own script.
describe('the dashboard files', () => {
  let dir: string;
  let pulse: PulseHandle;
  // Big enough to be worth compressing (the script skips files under 1 KiB).
  const mainJs = Array.from({ length: 200 }, (_, i) => `console.log('tile ${i}');`).join('\n');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-dashboard-'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><script src="main-4RSYYATY.js"></script>',
    );
    writeFileSync(join(dir, 'main-4RSYYATY.js'), mainJs);
    writeFileSync(join(dir, 'styles-NXAYIHH5.css'), 'body{}');
    writeFileSync(join(dir, 'favicon.ico'), 'icon');
    precompress(dir);
    pulse = await startTestPulse({}, { DASHBOARD_DIR: dir });
  });
  afterAll(async () => {
    await pulse?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cacheOf = async (path: string, accept = '*/*') => {
    const response = await fetch(`${pulse.httpUrl}${path}`, { headers: { accept } });
    expect(response.status).toBe(200);
    return response.headers.get('cache-control');
  };

  const raw = (path: string, acceptEncoding?: string) =>
    rawFrom(pulse.httpUrl, path, acceptEncoding);

  it('lets a browser keep the hashed files for good and revalidate the rest', async () => {
    expect(await cacheOf('/main-4RSYYATY.js')).toBe('public, max-age=31536000, immutable');
    expect(await cacheOf('/styles-NXAYIHH5.css')).toBe('public, max-age=31536000, immutable');
    expect(await cacheOf('/')).toBe('public, max-age=0');
    expect(await cacheOf('/favicon.ico')).toBe('public, max-age=0');
    expect(await cacheOf('/devices/some-device', 'text/html')).toBe('no-cache'); // a deep link
  });

  it('sends a file Brotli- or gzip-compressed to a browser that accepts it, as is to one that does not', async () => {
    expect(existsSync(join(dir, 'main-4RSYYATY.js.br'))).toBe(true);
    const br = await raw('/main-4RSYYATY.js', 'gzip, deflate, br, zstd'); // Chromium's header
    expect(br.status).toBe(200);
    expect(br.headers).toMatchObject({
      'content-encoding': 'br',
      'content-type': expect.stringMatching(/^text\/javascript; charset=utf-8$/i),
      'cache-control': 'public, max-age=31536000, immutable',
      vary: expect.stringContaining('Accept-Encoding'),
    });
    expect(br.body.length).toBeLessThan(mainJs.length / 4);
    expect(brotliDecompressSync(br.body).toString()).toBe(mainJs);

    const gz = await raw('/main-4RSYYATY.js', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(mainJs);

    for (const plain of [
      await raw('/main-4RSYYATY.js'),
      await raw('/main-4RSYYATY.js', 'identity'),
    ]) {
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.toString()).toBe(mainJs);
    }
    // Each form has its own validator, so a cache never answers one with the other.
    expect(br.headers.etag).not.toBe(gz.headers.etag);
  });

  it("never sends an encoding the client refused, and honours the client's weights", async () => {
    const file = '/main-4RSYYATY.js';
    const encodingFor = async (acceptEncoding: string) => {
      const got = await raw(file, acceptEncoding);
      expect(got.status).toBe(200);
      expect(got.headers.vary).toContain('Accept-Encoding');
      const encoding = got.headers['content-encoding'] ?? 'identity';
      const body =
        encoding === 'br'
          ? brotliDecompressSync(got.body)
          : encoding === 'gzip'
            ? gunzipSync(got.body)
            : got.body;
      expect(body.toString()).toBe(mainJs);
      return encoding;
    };
    // `q=0` means "not acceptable" (RFC 9110 12.5.3), whatever `*` allows besides.
    expect(await encodingFor('br;q=0, *')).toBe('gzip');
    expect(await encodingFor('br;q=0, gzip;q=0, *')).toBe('identity');
    expect(await encodingFor('*;q=0, identity')).toBe('identity');
    // Nothing acceptable at all: the file as it is (what HTTP recommends over a 406).
    expect(await encodingFor('*;q=0')).toBe('identity');
    expect(await encodingFor('identity;q=0')).toBe('identity');
    expect(await encodingFor('BR')).toBe('br'); // names are case-insensitive
    // Both acceptable: the client's weights decide, ties go to the smaller Brotli.
    expect(await encodingFor('gzip;q=1, br;q=0.1')).toBe('gzip');
    expect(await encodingFor('identity;q=1, br;q=0.5, gzip;q=0.5')).toBe('identity');
    expect(await encodingFor('gzip, br')).toBe('br');
  });

  it('sends the best form a file has: gzip when it has no Brotli sibling', async () => {
    writeFileSync(join(dir, 'chunk-GZONLYAA.js'), mainJs);
    writeFileSync(join(dir, 'chunk-GZONLYAA.js.gz'), gzipSync(mainJs));
    const late = await startTestPulse({}, { DASHBOARD_DIR: dir });
    try {
      for (const [acceptEncoding, expected] of [
        ['gzip, deflate, br, zstd', 'gzip'], // Chromium's header
        ['*', 'gzip'],
        ['br', undefined],
        ['gzip;q=0, *', undefined],
      ] as const) {
        const got = await rawFrom(late.httpUrl, '/chunk-GZONLYAA.js', acceptEncoding);
        expect([acceptEncoding, got.status, got.headers['content-encoding']]).toEqual([
          acceptEncoding,
          200,
          expected,
        ]);
        const body = expected === 'gzip' ? gunzipSync(got.body) : got.body;
        expect(body.toString()).toBe(mainJs);
      }
    } finally {
      await late.close();
    }
  });

  it('sends a file as it is when its sibling is gone since the gateway started (a rebuild under it)', async () => {
    writeFileSync(join(dir, 'chunk-ABCDEFGH.js'), mainJs);
    precompress(dir);
    const late = await startTestPulse({}, { DASHBOARD_DIR: dir });
    try {
      rmSync(join(dir, 'chunk-ABCDEFGH.js.br'));
      rmSync(join(dir, 'chunk-ABCDEFGH.js.gz'));
      const got = await rawFrom(late.httpUrl, '/chunk-ABCDEFGH.js', 'br, gzip', '*/*');
      expect(got.status).toBe(200);
      expect(got.headers['content-encoding']).toBeUndefined();
      expect(got.headers['content-type']).toMatch(/^text\/javascript; charset=utf-8$/i);
      expect(got.body.toString()).toBe(mainJs);
    } finally {
      await late.close();
    }
  });

  it('leaves malformed and API paths to the SPA and to Nest, unlabelled', async () => {
    const api = await rawFrom(pulse.httpUrl, '/api/devices/%E0%A4%A', 'br', 'application/json');
    expect(api.status).toBe(400);
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    expect(api.headers['content-encoding']).toBeUndefined();
    const page = await rawFrom(pulse.httpUrl, '/%', 'br', 'text/html');
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBeUndefined();
    expect(page.body.toString()).toContain('main-4RSYYATY.js');
    const post = await rawFrom(pulse.httpUrl, '/main-4RSYYATY.js', 'br', '*/*', 'POST');
    expect(post.headers['content-encoding']).toBeUndefined();
  });

  it('serves a DASHBOARD_DIR given relative to the working directory, deep links too', async () => {
    const relative = await startTestPulse(
      {},
      { DASHBOARD_DIR: `${relativeTo(process.cwd(), dir)}/` },
    );
    try {
      const link = await rawFrom(relative.httpUrl, '/devices/some-device', 'br', 'text/html');
      expect(link.status).toBe(200);
      expect(link.body.toString()).toContain('main-4RSYYATY.js');
      const js = await rawFrom(relative.httpUrl, '/main-4RSYYATY.js', 'br', '*/*');
      expect(js.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(js.body).toString()).toBe(mainJs);
    } finally {
      await relative.close();
    }
  });

  it('sends small files as they are, and never serves a sibling by its own name as the file', async () => {
    const css = await raw('/styles-NXAYIHH5.css', 'br, gzip');
    expect(css.headers['content-encoding']).toBeUndefined();
    expect(css.body.toString()).toBe('body{}');
    expect(existsSync(join(dir, 'styles-NXAYIHH5.css.br'))).toBe(false);
    // The sibling itself is only bytes (the browser asked for it by name; it is not decoded).
    const sibling = await raw('/main-4RSYYATY.js.br', 'br');
    expect(sibling.headers['content-encoding']).toBeUndefined();
    expect(sibling.body.equals(readFileSync(join(dir, 'main-4RSYYATY.js.br')))).toBe(true);
  });
});

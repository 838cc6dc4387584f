import type { IngestStats } from '@pulse/protocol';
import { LIVE_NAMESPACE, telemetryTopic } from '@pulse/protocol';
import { io } from 'socket.io-client';
import { PulseHandle } from '../src/app/pulse';
import {
  closeLive,
  collectReadings,
  connectLive,
  connectMqtt,
  getJson,
  LiveClient,
  publish,
  subscribe,
  Transport,
  waitFor,
} from '@pulse/test-support';
import { captureLogs } from './support/logs';
import { adminAuth, startTestPulse } from './support/pulse';

// Real: HTTP (helmet, origin and content-type checks, Nest), Socket.IO on both transports,
// socket.io-client sending the Origin a browser on another page would send, the embedded
// broker and an mqtt.js device for the stream a viewer must keep during a flood.
describe('entry points refuse other origins, non-JSON writes and event floods', () => {
  let pulse: PulseHandle;
  const evil = 'http://evil.example:8080';

  beforeAll(async () => {
    pulse = await startTestPulse();
  });

  afterAll(async () => {
    await pulse?.close();
  });

  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.security?.refused ?? {};

  /** Resolves 'connected' or the connect_error message. */
  function handshake(transport: Transport, origin?: string): Promise<string> {
    const socket: LiveClient = io(`${pulse.httpUrl}${LIVE_NAMESPACE}`, {
      transports: [transport],
      reconnection: false,
      forceNew: true,
      extraHeaders: origin ? { origin } : {},
    });
    return new Promise((resolve) => {
      socket.once('connect', () => void closeLive(socket).then(() => resolve('connected')));
      socket.once('connect_error', (error) => {
        socket.close();
        resolve(`refused: ${error.message}`);
      });
    });
  }

  describe.each<Transport>(['websocket', 'polling'])('Socket.IO handshake over %s', (transport) => {
    it('refuses a page on another origin and counts it', async () => {
      const before = (await refused())['origin_socket'] ?? 0;
      expect(await handshake(transport, evil)).toMatch(/^refused/);
      expect(await handshake(transport, 'null')).toMatch(/^refused/);
      expect((await refused())['origin_socket']).toBe(before + 2);
    });

    it('accepts the dashboard on its own origin and clients that send no Origin', async () => {
      expect(await handshake(transport, pulse.httpUrl)).toBe('connected');
      expect(await handshake(transport)).toBe('connected');
    });
  });

  /** `fetch` cannot set Origin/Referer (forbidden headers in browsers, allowed in Node). */
  async function post(path: string, headers: Record<string, string>, body: string) {
    const response = await fetch(`${pulse.httpUrl}/api${path}`, { method: 'POST', headers, body });
    return response.status;
  }
  const rule = JSON.stringify({
    id: 'entry-rule',
    kind: 'threshold',
    metric: 'temperature',
    op: 'above',
    value: 30,
    severity: 'minor',
  });
  const ack = JSON.stringify({ by: 'alice' });

  it('refuses an HTML form POST (urlencoded, multipart, text/plain) with 415 and counts it', async () => {
    const before = (await refused())['content_type'] ?? 0;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(await post('/alerts/some-alert/ack', form, 'by=mallory')).toBe(415);
    expect(await post('/alert-rules', form, 'id=x&metric=t')).toBe(415);
    expect(await post('/alert-rules', { 'content-type': 'text/plain' }, rule)).toBe(415);
    expect(
      await post('/alert-rules', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'),
    ).toBe(415);
    expect((await refused())['content_type']).toBe(before + 4);
  });

  it('refuses a body it cannot read with a 4xx of its own words, counted, never an error line with a stack', async () => {
    const before = (await refused())['http_body'] ?? 0;
    const json = { 'content-type': 'application/json' };
    const send = async (headers: Record<string, string>, body: string) => {
      const response = await fetch(`${pulse.httpUrl}/api/auth/login`, {
        method: 'POST',
        headers: { ...json, ...headers },
        body,
      });
      return { status: response.status, body: (await response.json()) as { message: string } };
    };
    const logs = await captureLogs(async () => {
      const big = await send({}, ' '.repeat(200_000));
      expect(big).toEqual({
        status: 413,
        body: {
          statusCode: 413,
          error: 'Payload Too Large',
          message: 'request bodies are at most 100kb',
        },
      });
      const notGzip = await send({ 'content-encoding': 'gzip' }, '{"username":"a"}');
      expect(notGzip.status).toBe(400);
      expect(notGzip.body.message).toBe('the request body is not JSON this gateway can read');
      expect((await send({}, '{"username":')).status).toBe(400);
      expect((await send({ 'content-encoding': 'br-x' }, '{}')).status).toBe(415);
    });
    expect(logs).not.toMatch(/"level":"error"|ExceptionsHandler|incorrect header check/);
    expect((await refused())['http_body']).toBe(before + 4);
  });

  it('refuses a cross-origin JSON write with 403 (Origin, or Referer without Origin) and counts it', async () => {
    const before = (await refused())['origin_http'] ?? 0;
    const json = { 'content-type': 'application/json' };
    expect(await post('/alerts/some-alert/ack', { ...json, origin: evil }, '{}')).toBe(403);
    expect(await post('/alert-rules', { ...json, origin: evil }, rule)).toBe(403);
    expect(await post('/alert-rules', { ...json, referer: `${evil}/page` }, rule)).toBe(403);
    expect((await refused())['origin_http']).toBe(before + 3);
    const rules = await getJson<{ rules: { id: string }[] }>(`${pulse.httpUrl}/api/alert-rules`);
    expect(rules.body.rules.map((r) => r.id)).not.toContain('entry-rule');
  });

  it('accepts JSON writes from its own origin and from scripts without Origin', async () => {
    const json = { 'content-type': 'application/json', ...(await adminAuth(pulse.httpUrl)) };
    // 404: the write reached the controller (no such alert).
    expect(await post('/alerts/some-alert/ack', { ...json, origin: pulse.httpUrl }, ack)).toBe(404);
    expect(await post('/alerts/some-alert/ack', json, ack)).toBe(404);
    expect(await post('/alert-rules', { ...json, referer: `${pulse.httpUrl}/alerts` }, rule)).toBe(
      201,
    );
  });

  it.each(['/', '/api/health'])('sends the security headers on %s', async (path) => {
    const response = await fetch(`${pulse.httpUrl}${path}`, { headers: { accept: 'text/html' } });
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toContain("script-src-attr 'none'");
    expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+/);
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    expect(response.headers.get('strict-transport-security')).toBeNull(); // plain HTTP
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  describe('per-socket event rate limit on /live', () => {
    it('answers a normal burst of requests in full', async () => {
      const socket = await connectLive(pulse.httpUrl);
      const acks = await Promise.all(
        Array.from({ length: 15 }, (_, i) => subscribe(socket, { devices: [`calm-${i}`] })),
      );
      expect(acks.every((ack) => ack.ok)).toBe(true);
      await closeLive(socket);
    });

    it('refuses a flood with {ok:false} acks, then drops the socket, while a viewer keeps its stream', async () => {
      const before = await refused();
      const viewer = await connectLive(pulse.httpUrl);
      await subscribe(viewer, { devices: ['steady-1'] });
      const received = collectReadings(viewer);
      const device = await connectMqtt(pulse.mqttUrl);

      const flooder = await connectLive(pulse.httpUrl);
      const closed = new Promise<string>((resolve) => flooder.once('disconnect', resolve));
      const answers: unknown[] = [];
      for (let i = 0; i < 500; i++) {
        flooder.emit('unsubscribe', { devices: [`f-${i}`] }, (ack: unknown) => answers.push(ack));
        if (i % 50 === 0)
          await publish(device, telemetryTopic('steady-1'), `{"values":{"n":${i}}}`);
      }
      expect(await closed).toBe('io server disconnect');
      expect(answers).toContainEqual({ ok: false, error: 'rate limited' });

      const readings = await received.waitForCount(10);
      expect(readings.map((r) => r.values['n'])).toEqual(
        Array.from({ length: 10 }, (_, i) => i * 50),
      );
      const after = await waitFor(async () => {
        const now = await refused();
        return now['live_event_flood'] > (before['live_event_flood'] ?? 0) ? now : null;
      });
      expect(after['live_event_rate']).toBeGreaterThan(before['live_event_rate'] ?? 0);
      expect(after['live_event_flood']).toBe((before['live_event_flood'] ?? 0) + 1);
      await device.endAsync();
      await closeLive(viewer);
    });
  });
});

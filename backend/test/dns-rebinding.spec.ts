import type { IngestStats } from '@pulse/protocol';
import { getJson } from '@pulse/test-support';
import { request } from 'node:http';
import WebSocket from 'ws';
import { PulseHandle } from '../src/app/pulse';
import { startTestPulse } from './support/pulse';

/** A request as a browser (or a proxy) sends it: any Host, from `localAddress` on loopback. */
function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
  localAddress = '127.0.0.1',
): Promise<{ status: number; body: string }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method,
        localAddress,
        headers: { ...headers, ...(text ? { 'content-type': 'application/json' } : {}) },
        timeout: 5_000,
      },
      (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const port = (pulse: PulseHandle) => new URL(pulse.httpUrl).port;
const refused = async (pulse: PulseHandle, reason: string): Promise<number> =>
  (await getJson<IngestStats>(`http://127.0.0.1:${port(pulse)}/api/stats`)).body.security
    ?.refused?.[reason] ?? 0;
const admin = { username: 'owner', password: 'owner-password-1' };

// Real: the gateway as `npm start` runs it, bound to 127.0.0.1 with no proxy in front
// (anonymous viewing on, the first admin made from this machine without a code), and requests as
// a browser sends them once a page has rebound its own name to 127.0.0.1 (DNS rebinding): to
// 127.0.0.1, with Host and Origin the page's name.
describe('DNS rebinding: a page that renamed 127.0.0.1 reaches nothing on a loopback gateway', () => {
  let pulse: PulseHandle;
  let url: string;
  let evil: Record<string, string>;

  beforeAll(async () => {
    pulse = await startTestPulse({ PULSE_ADMIN_PASSWORD: '' });
    url = `http://127.0.0.1:${port(pulse)}`;
    evil = { host: `evil.example:${port(pulse)}`, origin: `http://evil.example:${port(pulse)}` };
  });
  afterAll(async () => {
    await pulse?.close();
  });

  it('refuses the first-admin setup, the API and the dashboard under another name, and counts it', async () => {
    const before = await refused(pulse, 'host_http');
    const setup = await send(url, 'POST', '/api/auth/setup', evil, admin);
    expect(setup.status).toBe(403);
    expect(JSON.parse(setup.body)).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: expect.stringContaining('evil.example'),
    });
    expect((await send(url, 'GET', '/api/fleet/summary?limit=1', evil)).status).toBe(403);
    expect((await send(url, 'GET', '/api/auth/me', evil)).status).toBe(403);
    expect((await send(url, 'GET', '/', evil)).status).toBe(403);
    expect(await refused(pulse, 'host_http')).toBe(before + 4);
    // Nobody was made admin: the setup is still open to the owner on this machine.
    const me = JSON.parse((await send(url, 'GET', '/api/auth/me', {})).body) as {
      setupRequired: boolean;
    };
    expect(me.setupRequired).toBe(true);
  });

  it('refuses the Socket.IO handshake under another name on both transports', async () => {
    const before = await refused(pulse, 'host_socket');
    const polling = await send(url, 'GET', '/socket.io/?EIO=4&transport=polling', evil);
    expect(polling.status).toBe(403);
    const ws = new WebSocket(`ws://127.0.0.1:${port(pulse)}/socket.io/?EIO=4&transport=websocket`, {
      headers: evil,
    });
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
      ws.once('error', (error) => resolve(`error ${error.message}`));
    });
    ws.terminate();
    // engine.io answers every refused upgrade 400 (its abortUpgrade), a refused polling GET 403.
    expect(outcome).toBe('refused 400');
    expect(await refused(pulse, 'host_socket')).toBe(before + 2);
  });

  it("serves this machine's own names as before, and lets the owner make the first admin", async () => {
    for (const host of ['localhost', '127.0.0.1', '[::1]', 'pulse.localhost', 'LOCALHOST'])
      expect(
        (await send(url, 'GET', '/api/health', { host: `${host}:${port(pulse)}` })).status,
      ).toBe(200);
    const local = { host: `localhost:${port(pulse)}`, origin: `http://localhost:${port(pulse)}` };
    expect((await send(url, 'POST', '/api/auth/setup', local, admin)).status).toBe(201);
  });
});

// Real: gateways bound beyond loopback, where any name may reach them (no Host is refused), and one
// behind a proxy it trusts. "From this machine" (the first admin without the setup code) must
// still mean a browser on this machine that named it so, through no proxy the gateway does not know.
describe('the first admin without a code: only a request from this machine, to its own name', () => {
  const started: PulseHandle[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.close()));
  });
  const start = async (env: Record<string, string>) => {
    const pulse = await startTestPulse({ PULSE_ADMIN_PASSWORD: '', ...env });
    started.push(pulse);
    return `http://127.0.0.1:${port(pulse)}`;
  };

  it('asks for the code when this machine is reached under another name (HOST=0.0.0.0)', async () => {
    const url = await start({ HOST: '0.0.0.0' });
    const renamed = await send(url, 'POST', '/api/auth/setup', { host: 'evil.example' }, admin);
    expect(renamed.status).toBe(403);
    expect(renamed.body).toContain('setup code required');
    expect((await send(url, 'POST', '/api/auth/setup', { host: 'localhost' }, admin)).status).toBe(
      201,
    );
  });

  it('asks for the code when a local peer that is not the trusted proxy forwards another client', async () => {
    const url = await start({ TRUST_PROXY: '127.0.0.1' });
    const forged = await send(
      url,
      'POST',
      '/api/auth/setup',
      { host: 'localhost', 'x-forwarded-for': '10.1.2.3' },
      admin,
      '127.0.0.2',
    );
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('setup code required');
  });
});

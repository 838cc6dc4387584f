import type { IngestStats } from '@pulse/protocol';
import { LIVE_NAMESPACE } from '@pulse/protocol';
import {
  Backend,
  closeLive,
  E2E_ADMIN_PASSWORD,
  freePort,
  getJson,
  LiveClient,
  Nginx,
  startBuiltBackend,
  startPulseNginx,
  waitFor,
} from '@pulse/test-support';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import type { PulseHandle } from '../src/app/pulse';
import { startTestPulse, TEST_ADMIN_PASSWORD } from './support/pulse';

/** Linux routes all of 127/8 to loopback: two clients with addresses of their own. */
const ALICE = '127.0.0.2';
const BOB = '127.0.0.3';

// Real, natively on loopback: a built gateway behind nginx rendered from deploy/nginx/pulse.conf
// (both upstream entries on the one gateway), clients bound to their own loopback addresses. nginx
// connects from 127.0.0.1, so without TRUST_PROXY every client looked like 127.0.0.1: exempt from
// the per-IP caps (the default exemption), and one login rate key for everybody.
describe('behind a reverse proxy (TRUST_PROXY): each client is held to limits by its own address', () => {
  let gateway: Backend;
  let nginx: Nginx;
  const sockets: LiveClient[] = [];

  beforeAll(async () => {
    gateway = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      {
        SIMULATOR: 'off',
        TRUST_PROXY: '127.0.0.1',
        LIVE_MAX_CONNECTIONS_PER_IP: '2',
        // Chosen here: these specs connect and read anonymously (the default behind a proxy is none).
        ANONYMOUS_ROLE: 'viewer',
      },
    );
    nginx = await startPulseNginx(new URL(gateway.httpUrl).host);
  }, 60_000);

  afterAll(async () => {
    // Closed for good before the gateway goes: a polling client still open then gets nginx's 503,
    // and its engine retries after jest has torn the module registry down (the run exits 1).
    await Promise.all(sockets.map((socket) => closeLive(socket)));
    await gateway?.kill();
    await nginx?.stop();
  });

  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(`${gateway.httpUrl}/api/stats`)).body.security?.refused ?? {};

  /** A `/live` client through nginx from `from`: whether the gateway let it in. */
  function liveFrom(
    from: string,
    headers: Record<string, string> = {},
    transport: 'websocket' | 'polling' = 'websocket',
  ): Promise<boolean> {
    const socket: LiveClient = io(`${nginx.url}${LIVE_NAMESPACE}`, {
      transports: [transport],
      reconnection: false,
      forceNew: true,
      extraHeaders: headers,
      agent: new Agent({ localAddress: from }) as unknown as string,
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('connect_error', () => resolve(false));
    });
  }

  /** POST /api/auth/login through nginx from `from`: the status. */
  function loginFrom(from: string, password: string): Promise<number> {
    const body = JSON.stringify({ username: 'admin', password });
    return new Promise((resolve, reject) => {
      const req = request(
        `${nginx.url}/api/auth/login`,
        {
          method: 'POST',
          localAddress: from,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('names the version the built gateway runs in /api/health, through the proxy', async () => {
    // The bundle carries the root package.json's version (webpack's DefinePlugin), not 'unknown'.
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    const health = await getJson<{ version: string }>(`${nginx.url}/api/health`);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', version } });
  });

  it('caps /live connections per client address, not per proxy, and a forged header does not help', async () => {
    const before = await refused();
    expect(await liveFrom(ALICE)).toBe(true);
    expect(await liveFrom(ALICE)).toBe(true);
    expect(await liveFrom(ALICE)).toBe(false); // her third
    expect(await liveFrom(ALICE, {}, 'polling')).toBe(false); // on either transport
    // nginx appends the address it saw: the one she wrote in front of it is not believed.
    expect(await liveFrom(ALICE, { 'x-forwarded-for': '10.9.9.9' })).toBe(false);
    expect(await liveFrom(BOB)).toBe(true); // someone else behind the same proxy
    expect(await liveFrom(BOB, {}, 'polling')).toBe(true);
    expect(await liveFrom(BOB, {}, 'polling')).toBe(false);
    const after = await refused();
    expect((after['live_connections_ip'] ?? 0) - (before['live_connections_ip'] ?? 0)).toBe(4);
  }, 30_000);

  it("locks one client's login attempts out, not everybody's behind the proxy", async () => {
    let status = 0;
    for (let attempt = 0; attempt < 20 && status !== 429; attempt++)
      status = await loginFrom(ALICE, 'not-the-password');
    expect(status).toBe(429);
    expect(await loginFrom(ALICE, E2E_ADMIN_PASSWORD)).toBe(429);
    expect(await loginFrom(BOB, E2E_ADMIN_PASSWORD)).toBe(200);
    await waitFor(async () => ((await refused())['login_rate'] ?? 0) > 0 || null);
  }, 30_000);
});

// The default behind a proxy: a loopback HOST with TRUST_PROXY is reached by the world through it.
describe('behind a reverse proxy with the default anonymous role', () => {
  let gateway: Backend;
  let nginx: Nginx;

  beforeAll(async () => {
    gateway = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { SIMULATOR: 'off', TRUST_PROXY: '127.0.0.1' },
    );
    nginx = await startPulseNginx(new URL(gateway.httpUrl).host);
  }, 60_000);

  afterAll(async () => {
    await gateway?.kill();
    await nginx?.stop();
  });

  it('lets no one through the proxy watch without signing in', async () => {
    // An operator test drive read the devices through nginx from anywhere (viewer on loopback).
    expect((await fetch(`${nginx.url}/api/devices`)).status).toBe(401);
    const me = await fetch(`${nginx.url}/api/auth/me`);
    expect(((await me.json()) as { anonymousRole: string }).anonymousRole).toBe('none');
  });
});

// Real, in this process: the whole backend with TRUST_PROXY naming 127.0.0.1, the one proxy; a
// client on 127.0.0.1 stands in for a TLS-terminating proxy (nginx in these specs speaks plain
// HTTP, so its $scheme would say http), one bound to 127.0.0.2 for anyone else who reaches the
// gateway. Before: Express's `trust proxy` was never set, so behind TLS at the proxy the session
// cookie went out without Secure and no HSTS was sent.
describe('behind a TLS-terminating proxy (TRUST_PROXY, X-Forwarded-Proto)', () => {
  let pulse: PulseHandle;
  beforeAll(async () => {
    pulse = await startTestPulse({ TRUST_PROXY: '127.0.0.1', ANONYMOUS_ROLE: 'viewer' });
  }, 60_000);
  afterAll(() => pulse?.close());

  /** POST /api/auth/login from `from` with `headers`: the status and the headers of interest. */
  function loginFrom(
    from: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; cookie: string; hsts: string | undefined }> {
    const body = JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    return new Promise((resolve, reject) => {
      const req = request(
        `${pulse.httpUrl}/api/auth/login`,
        {
          method: 'POST',
          localAddress: from,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            ...headers,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              cookie: (res.headers['set-cookie'] ?? []).join('\n'),
              hsts: res.headers['strict-transport-security'],
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('marks the session cookie Secure and sends HSTS when the trusted proxy says the client used HTTPS', async () => {
    const https = await loginFrom('127.0.0.1', {
      'x-forwarded-proto': 'https',
      'x-forwarded-for': ALICE,
    });
    expect(https.status).toBe(200);
    expect(https.cookie).toMatch(/^pulse_session=[^;]+;.*; Secure/);
    expect(https.cookie).toMatch(/; HttpOnly/);
    expect(https.cookie).toMatch(/; SameSite=Strict/);
    expect(https.hsts).toBe('max-age=31536000');

    // Plain HTTP at the proxy, or no word from it: no Secure (the browser would drop the cookie),
    // no HSTS (ignored over HTTP anyway).
    const plainHeaders: Record<string, string>[] = [{ 'x-forwarded-proto': 'http' }, {}];
    for (const headers of plainHeaders) {
      const plain = await loginFrom('127.0.0.1', headers);
      expect(plain.status).toBe(200);
      expect(plain.cookie).toMatch(/^pulse_session=/);
      expect(plain.cookie).not.toMatch(/Secure/);
      expect(plain.hsts).toBeUndefined();
    }
  });

  it('does not take X-Forwarded-Proto from a peer that is not a trusted proxy', async () => {
    const forged = await loginFrom(BOB, { 'x-forwarded-proto': 'https' });
    expect(forged.status).toBe(200);
    expect(forged.cookie).not.toMatch(/Secure/);
    expect(forged.hsts).toBeUndefined();
  });
});

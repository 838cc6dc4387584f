import { LIVE_NAMESPACE } from '@pulse/protocol';
import {
  Backend,
  closeLive,
  E2E_ADMIN_PASSWORD,
  freePort,
  LiveClient,
  Nginx,
  startBuiltBackend,
  startPulseNginx,
  Transport,
} from '@pulse/test-support';
import { request } from 'node:http';
import { io } from 'socket.io-client';

const EVIL = 'http://evil.example:8080';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request to `url` with exactly these headers (node:http sends a Host of our choosing, as a
 * browser that typed another name for the same machine would).
 */
function rawRequest(
  url: string,
  {
    method = 'GET',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers:
          body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// Real, natively on loopback, as docker-compose.yml runs it: a built gateway that trusts its proxy
// (TRUST_PROXY) and sets no ALLOWED_ORIGINS, behind nginx rendered from deploy/nginx/pulse.conf.
// Clients send the headers a browser on the page nginx serves sends: its Origin (nginx's address,
// port included) on the login POST and the websocket upgrade, a Referer on a polling GET.
describe('a browser through the shipped nginx signs in and opens /live on any port', () => {
  let gateway: Backend;
  let nginx: Nginx;
  let port: number;

  beforeAll(async () => {
    gateway = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { SIMULATOR: 'off', TRUST_PROXY: '127.0.0.1', ANONYMOUS_ROLE: 'viewer' },
    );
    nginx = await startPulseNginx(new URL(gateway.httpUrl).host);
    port = Number(new URL(nginx.url).port);
  }, 60_000);

  afterAll(async () => {
    await gateway?.kill();
    await nginx?.stop();
  });

  /** POST /api/auth/login through nginx as a page on `origin` (Host as `host`): the status. */
  async function login(origin: string, host = new URL(nginx.url).host): Promise<number> {
    const response = await rawRequest(`${nginx.url}/api/auth/login`, {
      method: 'POST',
      headers: { host, origin, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: E2E_ADMIN_PASSWORD }),
    });
    return response.status;
  }

  /** A socket.io-client handshake through nginx sending `origin`: 'connected' or the refusal. */
  function handshake(transport: Transport, origin: string): Promise<string> {
    const socket: LiveClient = io(`${nginx.url}${LIVE_NAMESPACE}`, {
      transports: [transport],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin },
    });
    return new Promise((resolve) => {
      socket.once('connect', () => void closeLive(socket).then(() => resolve('connected')));
      socket.once('connect_error', (error) => {
        socket.close();
        resolve(`refused: ${error.message}`);
      });
    });
  }

  /** The first request of a polling session, raw: the status (200 opens a session). */
  async function pollingOpen(headers: Record<string, string>): Promise<number> {
    const response = await rawRequest(`${nginx.url}/socket.io/?EIO=4&transport=polling`, {
      headers,
    });
    return response.status;
  }

  it('signs in from the page nginx serves, whatever name and port it is reached by', async () => {
    expect(await login(nginx.url)).toBe(200);
    // The operator's case: http://localhost:<port> in the address bar.
    expect(await login(`http://localhost:${port}`, `localhost:${port}`)).toBe(200);
  });

  it("serves the dashboard with a CSP that lets it open its websocket on nginx's port", async () => {
    const host = `localhost:${port}`;
    const page = await rawRequest(`${nginx.url}/wall`, { headers: { host } });
    expect(page.status).toBe(200);
    expect(String(page.headers['content-security-policy'])).toContain(`ws://${host} wss://${host}`);
  });

  it.each<Transport>(['websocket', 'polling'])(
    'opens /live over %s from the page nginx serves',
    async (transport) => {
      expect(await handshake(transport, nginx.url)).toBe('connected');
    },
  );

  it('opens a polling session from a page that sends a Referer and no Origin (a same-origin GET)', async () => {
    const host = `localhost:${port}`;
    expect(await pollingOpen({ host, referer: `http://${host}/wall` })).toBe(200);
    expect(await pollingOpen({ host, origin: `http://${host}` })).toBe(200);
  });

  it('still refuses a page on another origin, whatever X-Forwarded-Host it sends', async () => {
    expect(await login(EVIL)).toBe(403);
    for (const transport of ['websocket', 'polling'] as const)
      expect(await handshake(transport, EVIL)).toMatch(/^refused/);
    const forged = { origin: EVIL, 'x-forwarded-host': new URL(EVIL).host };
    expect(await pollingOpen(forged)).toBe(403);
    const response = await rawRequest(`${nginx.url}/api/auth/login`, {
      method: 'POST',
      headers: { ...forged, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(403);
  });
});

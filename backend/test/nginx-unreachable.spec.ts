import { freePort, Nginx, startPulseNginx } from '@pulse/test-support';
import { createHash } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the page's CSP must allow for one inline element: `'sha256-…'` of its text. */
const sourceHash = (text: string) =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The text of every `<tag>…</tag>` in `html`. */
const inline = (html: string, tag: string) =>
  [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]);

// Real nginx rendered from deploy/nginx/pulse.conf with both gateways down (ports nothing listens
// on), as a wall screen sees it when it reloads during an outage.
describe('with every gateway down, a page load through nginx gets a page that retries by itself', () => {
  let nginx: Nginx;

  beforeAll(async () => {
    nginx = await startPulseNginx(`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`);
  }, 30_000);

  afterAll(async () => {
    await nginx?.stop();
  });

  it.each(['/', '/wall', '/devices/line-1'])(
    'answers GET %s with 502 and the retry page, at the URL asked for',
    async (path) => {
      const response = await fetch(`${nginx.url}${path}`, { redirect: 'manual' });
      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('retry-after')).toBe('5');
      const body = await response.text();
      expect(body).toContain('The Pulse dashboard is unreachable');
      // Tries the URL again and reloads once it loads; without JavaScript, a plain refresh.
      expect(body).toMatch(/fetch\(location\.href[\s\S]*location\.reload\(\)/);
      expect(body).toContain('<noscript><meta http-equiv="refresh" content="5" /></noscript>');
    },
  );

  it('answers a conditional reload with the page too, never a 304', async () => {
    const response = await fetch(`${nginx.url}/wall`, {
      headers: { 'if-modified-since': new Date(Date.now() + 86_400_000).toUTCString() },
    });
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('The Pulse dashboard is unreachable');
  });

  it('is self-contained and allows its own inline script and style by hash, nothing else', async () => {
    const response = await fetch(`${nginx.url}/wall`);
    const body = await response.text();
    expect(body).not.toMatch(/\b(src|href)="[^"]/); // no file, image, font or script fetched
    const scripts = inline(body, 'script');
    const styles = inline(body, 'style');
    expect([scripts.length, styles.length]).toEqual([1, 1]);
    const csp = response.headers.get('content-security-policy');
    // On a page edit, the line deploy/nginx/pulse.conf needs:
    expect(csp).toBe(
      `default-src 'none'; script-src ${sourceHash(scripts[0])}; style-src ${sourceHash(styles[0])}; ` +
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  // API clients (the dashboard's fetches, scripts, curl) read JSON: the project's one error body
  // (decision 0056), 503 with Retry-After, where nginx's HTML 502 page used to come. A write
  // (any method but GET and HEAD) may have been made by a gateway that hung after it (nginx's
  // 504): its message says so; a read sent nothing to make, and its message says nothing of a
  // change (the Screens page's list, read while the gateways restart, said "a change sent may or
  // may not have been made").
  const READ = 'no Pulse gateway answered; try again shortly';
  const WRITE =
    'no Pulse gateway answered; try again shortly (a change sent may or may not have been made: look before sending it again)';
  it.each([
    ['GET', '/api/health', READ],
    ['GET', '/api/devices/line-1/history?from=0', READ],
    ['POST', '/api/alerts/al-1/ack', WRITE],
    ['PUT', '/api/alert-rules/r-1', WRITE],
    ['DELETE', '/api/screens/s-1', WRITE],
    ['GET', '/socket.io/?EIO=4&transport=polling', READ],
  ])(
    'answers %s %s with a JSON 503 in the one error body, not the page',
    async (method, path, message) => {
      const response = await fetch(`${nginx.url}${path}`, {
        method,
        ...(method !== 'GET' && { headers: { 'content-type': 'application/json' }, body: '{}' }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message,
      });
    },
  );

  it('answers a HEAD of the API with the same status and headers', async () => {
    const response = await fetch(`${nginx.url}/api/health`, { method: 'HEAD' });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('does not serve the page by its own name', async () => {
    const response = await fetch(`${nginx.url}/pulse-unreachable.html`);
    expect(response.status).toBe(404);
  });
});

// A gateway that answers but is not ready to serve (a 503 of its own on every request), stood in
// for by a plain HTTP server: a page load gets the retry page with that status.
describe('when the gateways answer 503, a page load through nginx gets the retry page', () => {
  let nginx: Nginx;
  let gateway: Server;
  const UNAVAILABLE = JSON.stringify({
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'not_ready',
  });

  beforeAll(async () => {
    gateway = createServer((req, res) =>
      res.writeHead(503, { 'content-type': 'application/json' }).end(UNAVAILABLE),
    );
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    const upstream = `127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    nginx = await startPulseNginx(upstream);
  }, 30_000);

  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => gateway?.close(resolve));
  });

  it("serves the retry page with the gateway's 503 for /wall, and JSON for /api", async () => {
    const page = await fetch(`${nginx.url}/wall`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('The Pulse dashboard is unreachable');
    // The API's error is JSON in the one body: the gateway's own, or nginx's while it counts both
    // gateways failed after the 503s above (max_fails=1, fail_timeout=5s).
    const api = await fetch(`${nginx.url}/api/ready`);
    expect(api.status).toBe(503);
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await api.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
  });

  it("passes the gateway's own 503 on as it is, not nginx's", async () => {
    // A fresh nginx: no gateway counted failed yet, so the first answer is the gateway's.
    const fresh = await startPulseNginx(`127.0.0.1:${(gateway.address() as AddressInfo).port}`);
    try {
      const api = await fetch(`${fresh.url}/api/ready`);
      expect(api.status).toBe(503);
      expect(await api.text()).toBe(UNAVAILABLE);
      expect(api.headers.get('retry-after')).toBeNull();
    } finally {
      await fresh.stop();
    }
  });
});

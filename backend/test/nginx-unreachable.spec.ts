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

  it('answers /api and /socket.io with a plain error, not the page', async () => {
    for (const path of ['/api/health', '/socket.io/?EIO=4&transport=polling']) {
      const response = await fetch(`${nginx.url}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 502 });
      expect(await response.text()).not.toContain('unreachable');
      expect(response.headers.get('retry-after')).toBeNull();
    }
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

  it("serves the retry page with the gateway's 503 for /wall, and no page for /api", async () => {
    const page = await fetch(`${nginx.url}/wall`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('The Pulse dashboard is unreachable');
    // The API's error stays plain: the gateway's own, or nginx's 502 while it counts both
    // gateways failed after the 503s above (max_fails=1, fail_timeout=5s).
    const api = await fetch(`${nginx.url}/api/ready`);
    expect([502, 503]).toContain(api.status);
    expect(await api.text()).not.toContain('unreachable');
  });
});

import {
  Backend,
  freePort,
  Nginx,
  startBuiltBackend,
  startPulseNginx,
  waitFor,
} from '@pulse/test-support';
import { authEnv, E2E_ADMIN_PASSWORD, signIn } from './support/auth';
import {
  BrowserSession,
  describeInBrowser,
  startBrowserSession,
  waitConnected,
} from './support/browser';

/*
 * The dashboard as docker-compose.yml serves it, natively: nginx rendered from
 * deploy/nginx/pulse.conf on a port of its own in front of a built gateway that trusts it
 * (TRUST_PROXY) and sets no ALLOWED_ORIGINS. A screen opened while the gateway is down gets
 * nginx's retry page, which must count down under its own CSP and turn into the dashboard by
 * itself once the gateway is up; then a person signs in and the page goes live, through nginx.
 */
describeInBrowser('a screen through the shipped nginx', () => {
  let nginx: Nginx;
  let backend: Backend | undefined;
  let session: BrowserSession;
  let gatewayPort: number;
  const data = authEnv();

  beforeAll(async () => {
    gatewayPort = await freePort();
    nginx = await startPulseNginx(`127.0.0.1:${gatewayPort}`);
    session = await startBrowserSession(nginx.url);
  });

  afterAll(async () => {
    await session?.close(); // fails on a CSP violation, the retry page's included
    await backend?.kill();
    await nginx?.stop();
    data.remove();
  });

  it('waits on a retry page while the gateway is down, comes back by itself, then signs in and goes live', async () => {
    const page = await session.open('/');
    await page.getByText('The Pulse dashboard is unreachable').waitFor({ timeout: 10_000 });
    const count = page.locator('#count');
    const first = Number(await count.textContent());
    await waitFor(async () => Number(await count.textContent()) < first, {
      timeoutMs: 5_000,
      message: 'the countdown to move',
    });
    // Still there after a failed try: it counts down again rather than navigating away.
    await waitFor(async () => Number(await count.textContent()) > first - 1, {
      timeoutMs: 10_000,
      message: 'a second countdown',
    });
    expect(page.url()).toBe(`${nginx.url}/`);

    backend = await startBuiltBackend(
      { http: gatewayPort, mqtt: await freePort() },
      { ...data.env, SIMULATOR_DEVICES: '2', TRUST_PROXY: '127.0.0.1' },
    );
    // nginx counts the gateway failed for up to 5 s more (fail_timeout), then the page's next
    // try loads and it reloads into the dashboard.
    await page.locator('app-root').waitFor({ state: 'attached', timeout: 30_000 });
    await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
    expect(await waitConnected(page)).toBeTruthy();
  });
});

import { Backend, freePort, sleep, startBuiltBackend } from '@pulse/test-support';
import { authEnv } from './support/auth';
import { BrowserSession, describeInBrowser, startBrowserSession } from './support/browser';

// Real: the built gateway with its helmet CSP (`style-src 'self'`, `script-src 'self'`, no
// inline anything) serving the built dashboard to headless Chromium. Every other browser spec
// also fails on a violation (BrowserSession.close); this one visits each screen on purpose and
// first proves the detector sees a violation at all.
describeInBrowser('the dashboard runs under a CSP without inline styles or scripts', () => {
  let backend: Backend;
  let session: BrowserSession;
  const data = authEnv();

  beforeAll(async () => {
    backend = await startBuiltBackend({ http: await freePort(), mqtt: await freePort() }, data.env);
    session = await startBrowserSession(backend.httpUrl);
  });

  afterAll(async () => {
    await session?.close();
    await backend?.kill();
    data.remove();
  });

  it('sees a violation when a page tries an inline style (the check can fail)', async () => {
    const page = await session.open('/login');
    await page.getByTestId('login-form').waitFor({ timeout: 10_000 });
    await page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent = 'body { outline: 1px solid red }';
      document.head.append(style);
      document.body.setAttribute('style', 'outline: 1px solid red');
    });
    await page.waitForFunction(() => getComputedStyle(document.body).outlineStyle !== 'solid');
    const caught = () => session.cspViolations.filter((v) => v.includes('style-src'));
    for (let i = 0; i < 50 && caught().length < 2; i++) await sleep(100);
    expect(caught()).toHaveLength(2);
    expect(await page.evaluate(() => getComputedStyle(document.body).outlineStyle)).toBe('none');
    session.cspViolations.length = 0; // the refused style was this test's own
  });

  it.each([
    ['the fleet overview', '/', '.tile[data-device-id]'],
    ['a device page', '/devices/sim-001', 'app-live-chart canvas'],
    ['the alerts page', '/alerts', 'h1, h2'],
    ['a wall', '/wall?devices=sim-001,sim-002&window=1m', 'app-live-chart canvas'],
    ['the sign-in page', '/login', '[data-testid=login-form]'],
  ])('draws %s without a CSP violation', async (_what, path, selector) => {
    const page = await session.open(path);
    await page.locator(selector).first().waitFor({ timeout: 20_000 });
    await sleep(1500); // live readings arrive and charts redraw
    expect(session.cspViolations).toEqual([]);
  });
});

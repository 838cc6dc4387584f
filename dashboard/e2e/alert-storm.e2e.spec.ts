import type { ActiveAlertsResponse, AlertEvent } from '@pulse/protocol';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import type { Page } from 'playwright-core';
import {
  BrowserSession,
  describeInBrowser,
  startBrowserSession,
  waitConnected,
} from './support/browser';
import { authEnv, E2E_ADMIN_PASSWORD, signIn } from './support/auth';
import { rulesFile } from './support/rules';

/**
 * An alert storm in a real browser: 5,000 simulated devices (one reading each every 10 s) and two
 * rules that hold for every reading of their metric, so every device raises exactly one alert:
 * `temperature` (env sensors and machines, critical) and `voltage` (power meters, warning). The
 * alerts page must show all 5,000 with their counts, keep the DOM bounded, scroll to the last one,
 * group them by rule, filter them, and acknowledge one. Owns this stack and browser only.
 */
const FLEET = 5000;
/** DOM nodes of the whole page stay under this at any number of alerts. */
const MAX_DOM_NODES = 1500;
const RULES = [
  {
    id: 'storm-temp',
    name: 'Storm: any temperature',
    kind: 'threshold',
    metric: 'temperature',
    op: 'above',
    value: -1000,
    severity: 'critical',
  },
  {
    id: 'storm-volt',
    name: 'Storm: any voltage',
    kind: 'threshold',
    metric: 'voltage',
    op: 'above',
    value: 0,
    severity: 'warning',
  },
];

describeInBrowser('an alert storm of 5,000 active alerts in a real browser', () => {
  let backend: Backend;
  let session: BrowserSession;
  let page: Page;
  let alerts: AlertEvent[] = [];
  const rules = rulesFile(RULES);
  const data = authEnv();
  const domNodes = (p: Page) => p.evaluate(() => document.getElementsByTagName('*').length);
  const rowIds = (p: Page) =>
    p
      .locator('[data-testid=active-list] [data-alert-id]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-alert-id')));
  const stripCount = async (p: Page, what: string) =>
    Number(await p.getByTestId(`strip-${what}`).getAttribute('data-count'));
  const perRule = (ruleId: string) => alerts.filter((a) => a.ruleId === ruleId).length;

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      {
        ...data.env,
        ALERT_RULES_FILE: rules.file,
        SIMULATOR_DEVICES: String(FLEET),
        // One reading per device every 10 s: 500 messages a second, every alert within ~10 s.
        SIMULATOR_RATE: '0.1',
        SIMULATOR_OFFLINE: '0',
      },
    );
    session = await startBrowserSession(backend.httpUrl);
    let bytes = 0;
    alerts = await waitFor(
      async () => {
        const text = await (await fetch(`${backend.httpUrl}/api/alerts`)).text();
        bytes = text.length;
        const body = JSON.parse(text) as ActiveAlertsResponse;
        return body.alerts.length >= FLEET ? body.alerts : null;
      },
      { timeoutMs: 90_000, intervalMs: 1000, message: `${FLEET} active alerts on the gateway` },
    );
    // The same list the `alerts` snapshot carries to every socket on connect.
    process.stderr.write(`[e2e] alert storm: GET /api/alerts is ${bytes} bytes\n`);
  });

  afterAll(async () => {
    await session?.close();
    await backend?.kill();
    rules.remove();
    data.remove();
  });

  it('shows 5,000 active alerts with their counts per severity, the DOM bounded', async () => {
    // In the page: when the app first drew anything, and when the storm's rows were on screen
    // (performance.now(), ms since navigation) — the render time without the machine's page load.
    page = await session.open('/alerts', async (p) => {
      await p.addInitScript(() => {
        const marks: Record<string, number> = {};
        (window as unknown as { stormMarks: Record<string, number> }).stormMarks = marks;
        new MutationObserver(() => {
          const now = performance.now();
          if (document.querySelector('app-alerts-page')) marks['page'] ??= now;
          if (
            document.querySelector('[data-testid=active-total]')?.textContent?.trim() === '5000' &&
            document.querySelector('[data-testid=active-list] [data-alert-id]')
          )
            marks['rows'] ??= now;
        }).observe(document, { subtree: true, childList: true, characterData: true });
      });
    });
    await waitConnected(page);
    await waitFor(
      async () => (await page.getByTestId('active-total').textContent())?.trim() === `${FLEET}`,
      { timeoutMs: 30_000, message: `${FLEET} on the Active tab` },
    );
    await page.locator('[data-testid=active-list] [data-alert-id]').first().waitFor();
    const marks = await page.evaluate(
      () => (window as unknown as { stormMarks: Record<string, number> }).stormMarks,
    );
    expect(await stripCount(page, 'critical')).toBe(perRule('storm-temp'));
    expect(await stripCount(page, 'warning')).toBe(perRule('storm-volt'));
    expect(perRule('storm-temp') + perRule('storm-volt')).toBe(FLEET);
    expect(await stripCount(page, 'major')).toBe(0);
    expect(await stripCount(page, 'unacknowledged')).toBe(FLEET);
    expect(await stripCount(page, 'acknowledged')).toBe(0);
    expect(await page.getByTestId('alert-shown').textContent()).toContain(`${FLEET} / ${FLEET}`);

    const rows = (await rowIds(page)).length;
    const nodes = await domNodes(page);
    process.stderr.write(
      `[e2e] alert storm: ${FLEET} alerts, ${rows} rows and ${nodes} DOM nodes; alerts page drawn ${Math.round(marks['page'])} ms after navigation, its ${FLEET} alerts ${Math.round(marks['rows'] - marks['page'])} ms later\n`,
    );
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(60);
    expect(nodes).toBeLessThan(MAX_DOM_NODES);
    // The first row is the most severe: a critical one.
    expect(
      await page
        .locator('[data-testid=active-list] .alert-row')
        .first()
        .getAttribute('data-severity'),
    ).toBe('critical');
    // The devices of the rows on screen are watched for their display names.
    const first = page.locator('[data-testid=active-list] .alert-row').first();
    const firstId = await first.getAttribute('data-device-id');
    await waitFor(async () => (await first.locator('.alert-device').textContent()) !== firstId, {
      timeoutMs: 10_000,
      message: 'the display name on the first row',
    });
    await session.shot(page, 'alerts-storm.png');
  });

  it('scrolls to the end and reaches the last alert, still with a bounded DOM', async () => {
    // The last alert in the page's order (severity, then newest raised, then id): the oldest
    // warning, as the gateway lists it.
    const last = alerts
      .filter((a) => a.severity === 'warning')
      .sort((a, b) => b.raisedAt - a.raisedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .at(-1)?.id;
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await waitFor(async () => (await rowIds(page)).at(-1) === last, {
      timeoutMs: 10_000,
      message: `the last alert (${last}) at the end of the list`,
    });
    const row = page.locator(`[data-alert-id="${last}"]`);
    expect(await row.isVisible()).toBe(true);
    expect(await domNodes(page)).toBeLessThan(MAX_DOM_NODES);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it('groups by rule: one heading per rule with its count, expanded rows in the same list', async () => {
    await page.getByTestId('group-by-rule').check();
    const headings = page.getByTestId('rule-heading');
    await waitFor(async () => (await headings.count()) === 2, {
      timeoutMs: 5000,
      message: 'two rule headings',
    });
    const temp = page.locator('[data-testid=rule-heading][data-rule-id=storm-temp]');
    const volt = page.locator('[data-testid=rule-heading][data-rule-id=storm-volt]');
    expect(Number(await temp.getAttribute('data-count'))).toBe(perRule('storm-temp'));
    expect(Number(await volt.getAttribute('data-count'))).toBe(perRule('storm-volt'));
    expect(await temp.textContent()).toContain('Storm: any temperature');
    expect(await temp.locator('.sev-pill').textContent()).toBe('critical');
    expect(await volt.locator('.sev-pill').textContent()).toBe('warning');
    expect((await rowIds(page)).length).toBe(0);

    await volt.click();
    await waitFor(async () => (await rowIds(page)).length > 5, {
      timeoutMs: 5000,
      message: 'the voltage alerts under their heading',
    });
    const under = await page
      .locator('[data-testid=active-list] .alert-row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-rule-id')));
    expect(new Set(under)).toEqual(new Set(['storm-volt']));
    expect(await domNodes(page)).toBeLessThan(MAX_DOM_NODES);
    await session.shot(page, 'alerts-storm-grouped.png');
    await volt.click();
    await page.getByTestId('group-by-rule').uncheck();
  });

  it('filters over the whole list: a device, then a severity', async () => {
    const target = alerts.find((a) => a.deviceId === 'sim-4321') ?? alerts[alerts.length - 1];
    await page.getByTestId('filter-device').fill(target.deviceId);
    await waitFor(async () => (await rowIds(page)).join() === target.id, {
      timeoutMs: 5000,
      message: `only ${target.deviceId}'s alert`,
    });
    expect(await page.getByTestId('alert-shown').textContent()).toContain(`1 / ${FLEET}`);
    await page.getByTestId('filter-device').fill('');

    // Timed in the page: the click, the filter over 5,000 and the new rows drawn.
    const filterMs = await page.evaluate(
      (expected) =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          (document.querySelector('[data-testid=strip-warning]') as HTMLElement).click();
          const check = () =>
            document.querySelector('[data-testid=alert-shown]')?.textContent?.includes(expected)
              ? resolve(performance.now() - t0)
              : requestAnimationFrame(check);
          requestAnimationFrame(check);
        }),
      `${perRule('storm-volt')} / ${FLEET}`,
    );
    process.stderr.write(
      `[e2e] alert storm: severity filter over ${FLEET}: ${Math.round(filterMs)} ms to the new rows\n`,
    );
    expect(filterMs).toBeLessThan(1000);
    const severities = await page
      .locator('[data-testid=active-list] .alert-row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-severity')));
    expect(new Set(severities)).toEqual(new Set(['warning']));
    // The counts stay those of the whole list.
    expect(await stripCount(page, 'critical')).toBe(perRule('storm-temp'));
    await page.getByTestId('strip-warning').click();
  });

  it('acknowledges one alert of the storm', async () => {
    await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
    await waitConnected(page);
    const row = page.locator('[data-testid=active-list] .alert-row').first();
    await row.getByTestId('ack').waitFor({ timeout: 10_000 });
    const id = await row.getAttribute('data-alert-id');
    await row.getByTestId('ack').click();
    const acked = page.locator(`[data-alert-id="${id}"]`);
    await waitFor(async () => (await acked.getAttribute('data-state')) === 'acknowledged', {
      timeoutMs: 5000,
      message: 'the row to show acknowledged',
    });
    expect(await acked.textContent()).toContain('acknowledged by admin');
    await waitFor(async () => (await stripCount(page, 'acknowledged')) === 1, {
      timeoutMs: 5000,
      message: 'one acknowledged in the strip',
    });
    expect(await stripCount(page, 'unacknowledged')).toBe(FLEET - 1);
    const body = (await (
      await fetch(`${backend.httpUrl}/api/alerts`)
    ).json()) as ActiveAlertsResponse;
    expect(body.alerts.find((a) => a.id === id)).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'admin',
    });
  });
});

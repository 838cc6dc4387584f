import {
  ActiveAlertsResponse,
  AlertEvent,
  encodeTelemetry,
  metaTopic,
  statusTopic,
  telemetryTopic,
} from '@pulse/protocol';
import mqtt, { MqttClient } from 'mqtt';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import type { Page } from 'playwright-core';
import {
  BrowserSession,
  describeInBrowser,
  startBrowserSession,
  waitConnected,
} from './support/browser';
import { overheatRule, rulesFile } from './support/rules';
import { authEnv, createUser, E2E_ADMIN_PASSWORD, signIn, signOut } from './support/auth';

/**
 * Alerts end to end: a rule that fires at once on the test's own device, a
 * spike published over MQTT, the wall banner, and an acknowledgement in one
 * browser reaching another. The stack runs with its own rules file (the
 * simulated fleet raises nothing, so every alert on screen is ours).
 */
const DEVICE = 'e2e-alert';
const METRIC = 'e2e_temp';
const RULE = overheatRule('e2e-temp-high', DEVICE, METRIC);

describeInBrowser('alerts in a real browser against the real stack', () => {
  let backend: Backend;
  let session: BrowserSession;
  let device: MqttClient;
  let timer: ReturnType<typeof setInterval> | undefined;
  let value = 20;
  let wall: Page;
  const rules = rulesFile([RULE]);
  const data = authEnv();
  const open = (path: string) => session.open(path);
  const shot = (page: Page, name: string) => session.shot(page, name);
  const activeAlerts = async (): Promise<AlertEvent[]> =>
    (
      (await (await fetch(`${backend.httpUrl}/api/alerts`)).json()) as ActiveAlertsResponse
    ).alerts.filter((a) => a.deviceId === DEVICE);
  const publish = (v: number) =>
    device.publishAsync(
      telemetryTopic(DEVICE),
      encodeTelemetry([{ ts: Date.now(), values: { [METRIC]: v } }]),
    );

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { ...data.env, ALERT_RULES_FILE: rules.file, SIMULATOR_DEVICES: '3' },
    );
    session = await startBrowserSession(backend.httpUrl);
    device = await mqtt.connectAsync(backend.mqttUrl, {
      clientId: 'pulse-e2e-alert',
      reconnectPeriod: 0,
    });
    await device.publishAsync(
      metaTopic(DEVICE),
      JSON.stringify({
        name: 'E2E boiler',
        group: 'e2e',
        units: { [METRIC]: '°C' },
        intervalMs: 500,
      }),
      {
        retain: true,
        qos: 1,
      },
    );
    await device.publishAsync(statusTopic(DEVICE), 'online', { retain: true, qos: 1 });
    timer = setInterval(() => void publish(value).catch(() => undefined), 500);
  });

  afterAll(async () => {
    if (timer) clearInterval(timer);
    await device?.endAsync(true).catch(() => undefined);
    await session?.close();
    await backend?.kill();
    rules.remove();
    data.remove();
  });

  it('puts a critical banner on the wall within 2 s of a spike', async () => {
    // fold=8: the banner folds into the header 8 s after the alert came on (60 by default).
    wall = await open(`/wall?devices=${DEVICE},sim-001,sim-002&window=1m&cols=3&fold=8`);
    await waitConnected(wall);
    const tile = `.wall-tile[data-device-id="${DEVICE}"]`;
    await waitFor(async () => (await wall.locator(tile).getAttribute('data-health')) === 'live', {
      timeoutMs: 15_000,
      message: 'our device to be live on the wall',
    });
    await waitFor(
      async () =>
        (await wall.locator(`${tile} app-live-chart`).getAttribute('data-thresholds')) === '2',
      { timeoutMs: 10_000, message: 'the rule levels on the wall chart' },
    );
    expect(await wall.locator('[data-testid=wall-alert-banner]').count()).toBe(0);
    const box = async (selector: string) => {
      const found = await wall.locator(selector).first().boundingBox();
      if (!found) throw new Error(`${selector} is not on screen`);
      return found;
    };
    const headerBefore = await box('header.wall-top');

    value = 80;
    const spikeAt = Date.now();
    await publish(value);
    await wall.waitForSelector('[data-testid=wall-alert-banner][data-level=critical]', {
      timeout: 2000,
    });
    const shownMs = Date.now() - spikeAt;
    process.stderr.write(`[e2e] spike → wall banner: ${shownMs} ms\n`);

    const line = wall.locator('[data-testid=wall-alert-banner] .wall-alert-line').first();
    expect(await line.locator('.wall-alert-device').textContent()).toBe('E2E boiler');
    expect(await line.locator('.wall-alert-message').textContent()).toContain(METRIC);
    // The whole message is on screen, not cut by its box.
    const cut = await line
      .locator('.wall-alert-message')
      .evaluate((el) => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight);
    expect(cut).toBe(false);
    expect(await line.locator('.wall-alert-age').textContent()).toMatch(/now|\d+ s ago/);
    expect(await wall.locator(tile).getAttribute('class')).toContain('alert-critical');
    // The picture: let the chart draw the spike against the threshold line first.
    const points = async () =>
      Number(await wall.locator(`${tile} app-live-chart`).getAttribute('data-points'));
    const before = await points();
    await waitFor(async () => (await points()) >= before + 2, {
      timeoutMs: 5000,
      message: 'the spike on the wall chart',
    });
    await shot(wall, 'wall-alert.png');

    // Unacknowledged, it folds into the header: as loud, and the top row is seen again.
    await wall.waitForSelector('header [data-testid=wall-alert-banner][data-folded=true]', {
      timeout: 12_000,
    });
    expect(await wall.locator('.wall-overlays [data-testid=wall-alert-banner]').count()).toBe(0);
    const header = await box('header.wall-top');
    const folded = await box('header [data-testid=wall-alert-banner]');
    const firstTile = await box('.wall-tile');
    expect(header.height).toBeCloseTo(headerBefore.height, 0); // the grid did not move
    expect(folded.y).toBeGreaterThanOrEqual(header.y);
    expect(folded.y + folded.height).toBeLessThanOrEqual(header.y + header.height);
    expect(firstTile.y).toBeGreaterThanOrEqual(header.y + header.height);
    expect(await wall.getByTestId('wall-clock').isVisible()).toBe(true);
    expect(await wall.locator('header [data-testid=wall-alert-banner]').textContent()).toContain(
      'E2E boiler',
    );
    await shot(wall, 'wall-alert-folded.png');
  });

  it('an acknowledgement on the alerts page reaches the wall within a second', async () => {
    const alert = await waitFor(async () => (await activeAlerts())[0], {
      timeoutMs: 5000,
      message: 'the alert on GET /api/alerts',
    });
    const alerts = await open('/alerts');
    await waitConnected(alerts);
    const row = alerts.locator(`[data-alert-id="${alert.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-state')).toBe('raised');
    expect(await row.getAttribute('data-severity')).toBe('critical');
    // The alert's device is watched (no history) for its display name.
    await waitFor(async () => (await row.locator('.alert-device').textContent()) === 'E2E boiler', {
      timeoutMs: 5000,
      message: 'the device name on the row',
    });
    expect(
      await alerts
        .locator('[data-testid=alert-summary] .sev-pill[data-severity=critical]')
        .textContent(),
    ).toBe('1');

    // Anonymous (viewer): asked to sign in. The admin creates an operator, who acknowledges.
    expect(await row.getByTestId('ack-sign-in').textContent()).toContain('Sign in to acknowledge');
    await signIn(alerts, 'admin', E2E_ADMIN_PASSWORD);
    const password = await createUser(alerts, 'e2e-operator', 'operator');
    await signOut(alerts);
    await row.getByTestId('ack-sign-in').click();
    await signIn(alerts, 'e2e-operator', password);
    expect(new URL(alerts.url()).pathname).toBe('/alerts');
    await waitConnected(alerts);
    await row.getByTestId('ack').waitFor({ timeout: 10_000 });
    expect(await alerts.getByTestId('ack-identity').textContent()).toContain(
      'Acknowledging as e2e-operator',
    );
    await shot(alerts, 'alerts.png');

    const clickedAt = Date.now();
    await row.getByTestId('ack').click();
    await wall.waitForFunction(
      () =>
        !document.querySelector('[data-testid=wall-alert-banner]') &&
        !!document.querySelector('[data-testid=wall-alert-strip]'),
      null,
      { timeout: 1000, polling: 20 },
    );
    const propagationMs = Date.now() - clickedAt;
    process.stderr.write(
      `[e2e] acknowledge on /alerts → wall banner shrinks: ${propagationMs} ms\n`,
    );
    expect(propagationMs).toBeLessThan(1000);
    expect(await wall.getByTestId('wall-alert-strip').textContent()).toContain(
      'ack by e2e-operator',
    );

    await waitFor(async () => (await row.getAttribute('data-state')) === 'acknowledged', {
      timeoutMs: 1000,
      message: 'the row to show acknowledged',
    });
    expect(await row.getByTestId('ack').count()).toBe(0);
    expect(await row.textContent()).toContain('acknowledged by e2e-operator');
    const [acked] = await activeAlerts();
    expect(acked).toMatchObject({
      id: alert.id,
      state: 'acknowledged',
      acknowledgedBy: 'e2e-operator',
    });
  });

  it('lists the lifecycle in the history tab, badges the tile and draws the threshold on the device chart', async () => {
    const alerts = session.pages[1];
    await alerts.getByTestId('tab-history').click();
    await alerts.getByTestId('filter-device').fill(DEVICE);
    const states = async () =>
      alerts
        .locator(`[data-testid=history] [data-device-id="${DEVICE}"]`)
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')));
    await waitFor(
      async () => {
        const seen = await states();
        return seen.includes('raised') && seen.includes('acknowledged');
      },
      { timeoutMs: 5000, message: 'raised and acknowledged events in the history' },
    );
    await alerts.getByTestId('filter-state').selectOption('raised');
    await waitFor(async () => (await states()).every((s) => s === 'raised'), {
      timeoutMs: 5000,
      message: 'the state filter',
    });

    const overview = await open('/');
    await waitConnected(overview);
    const badge = overview.locator(`.tile[data-device-id="${DEVICE}"] [data-testid=alert-badge]`);
    await badge.waitFor({ timeout: 10_000 });
    expect(await badge.getAttribute('data-severity')).toBe('critical');
    // The header summary opens a drawer with the alert (acknowledged by now: no button).
    await overview.getByTestId('alert-summary').click();
    const drawerRow = overview.locator(`[data-testid=alert-drawer] [data-device-id="${DEVICE}"]`);
    await drawerRow.waitFor({ timeout: 5000 });
    expect(await drawerRow.getAttribute('data-state')).toBe('acknowledged');
    await overview.getByTestId('alert-summary').click();

    const devicePage = await open(`/devices/${DEVICE}`);
    const chart = devicePage.locator(`[data-metric="${METRIC}"] app-live-chart`);
    // The rule's raise level (50) and its clear level (40, dashed).
    await waitFor(async () => (await chart.getAttribute('data-thresholds')) === '2', {
      timeoutMs: 10_000,
      message: 'threshold lines on the chart',
    });
    expect(
      await devicePage
        .locator('.device-head [data-testid=alert-badge]')
        .getAttribute('data-severity'),
    ).toBe('critical');
    await shot(devicePage, 'device-threshold.png');
  });

  it('a spike that clears before anyone acknowledges it leaves no critical pill: "✓ 1" to acknowledge, muted on the wall', async () => {
    // The acknowledged alert clears and leaves the list; a new spike is raised, then clears unacknowledged.
    value = 20;
    await waitFor(async () => (await activeAlerts()).length === 0, {
      timeoutMs: 5000,
      message: 'the acknowledged alert to clear and leave the list',
    });
    value = 80;
    await publish(value);
    const raised = await waitFor(
      async () => (await activeAlerts()).find((a) => a.state === 'raised'),
      { timeoutMs: 5000, message: 'a new raised alert' },
    );
    value = 20;
    await publish(value);
    await waitFor(
      async () => (await activeAlerts()).some((a) => a.id === raised.id && a.clearedAt !== null),
      { timeoutMs: 5000, message: 'the new alert to clear, unacknowledged' },
    );

    const overview =
      session.pages.find((p) => new URL(p.url()).pathname === '/') ?? (await open('/'));
    const summary = overview.getByTestId('alert-summary');
    await waitFor(async () => (await summary.getByTestId('to-acknowledge').count()) === 1, {
      timeoutMs: 5000,
      message: 'the header to show the cleared alert apart',
    });
    expect(await summary.locator('.sev-pill[data-severity]').count()).toBe(0);
    expect(await summary.getByTestId('to-acknowledge').textContent()).toBe('✓ 1');
    expect([
      await summary.getAttribute('data-total'),
      await summary.getAttribute('data-on'),
    ]).toEqual(['1', '0']);

    await wall.waitForSelector('[data-testid=wall-alert-strip].muted', { timeout: 5000 });
    expect(await wall.locator('[data-testid=wall-alert-banner]').count()).toBe(0);
    expect(
      await wall.locator(`.wall-tile[data-device-id="${DEVICE}"]`).getAttribute('class'),
    ).not.toContain('alert-');
  });
});

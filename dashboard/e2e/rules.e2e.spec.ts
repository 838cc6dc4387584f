import {
  ActiveAlertsResponse,
  AlertEvent,
  AlertRule,
  encodeTelemetry,
  telemetryTopic,
} from '@pulse/protocol';
import mqtt, { MqttClient } from 'mqtt';
import { Backend, freePort, startBuiltBackend, waitFor } from '@pulse/test-support';
import type { Page } from 'playwright-core';
import { BrowserSession, describeInBrowser, startBrowserSession } from './support/browser';
import { rulesFile } from './support/rules';
import { authEnv, E2E_ADMIN_PASSWORD, signIn } from './support/auth';

/**
 * The alert rules page end to end: an admin creates a threshold rule in the editor, a device
 * publishing over MQTT above it raises an alert named by the rule, disabling the rule from the
 * table clears that alert, an invalid rule shows the gateway's own message, a save made on a
 * version another admin changed meanwhile is refused and said in words with their version shown,
 * and the rule is deleted. The stack starts with no rules (its own empty rules file) and no simulator, so every
 * alert is ours; the table must fit a 390 px phone in its own scrolling box.
 */
const DEVICE = 'e2e-rules-dev';
const METRIC = 'e2e_level';
const RULE = {
  id: 'e2e-level-high',
  name: 'E2E level high',
  kind: 'threshold',
  metric: METRIC,
  op: 'above',
  value: 50,
  clear: 40,
  severity: 'critical',
  scope: { device: DEVICE },
};

describeInBrowser('alert rules edited on the rules page of a real browser', () => {
  let backend: Backend;
  let session: BrowserSession;
  let device: MqttClient;
  let timer: ReturnType<typeof setInterval> | undefined;
  let value = 20;
  let admin: Page;
  const rules = rulesFile([]);
  const data = authEnv();
  const row = () => admin.locator(`tr[data-rule-id="${RULE.id}"]`);
  const ourAlerts = async (): Promise<AlertEvent[]> =>
    (
      (await (await fetch(`${backend.httpUrl}/api/alerts`)).json()) as ActiveAlertsResponse
    ).alerts.filter((a) => a.ruleId === RULE.id);
  /** Another admin's script: signed in with its own session, outside the browser. */
  const otherAdmin = async () => {
    const login = await fetch(`${backend.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: E2E_ADMIN_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]);
    return (method: string, path: string, body?: unknown) =>
      fetch(`${backend.httpUrl}${path}`, {
        method,
        headers: { cookie: cookie.join('; '), 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
  };
  const publish = () =>
    device.publishAsync(
      telemetryTopic(DEVICE),
      encodeTelemetry([{ ts: Date.now(), values: { [METRIC]: value } }]),
    );

  beforeAll(async () => {
    backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { ...data.env, ALERT_RULES_FILE: rules.file, SIMULATOR: 'off' },
    );
    session = await startBrowserSession(backend.httpUrl);
    device = await mqtt.connectAsync(backend.mqttUrl, {
      clientId: 'pulse-e2e-rules',
      reconnectPeriod: 0,
    });
    timer = setInterval(() => void publish().catch(() => undefined), 300);
  });

  afterAll(async () => {
    if (timer) clearInterval(timer);
    await device?.endAsync(true).catch(() => undefined);
    await session?.close();
    await backend?.kill();
    rules.remove();
    data.remove();
  });

  it('creates a rule in the editor, which raises an alert named by it', async () => {
    admin = await session.open('/login');
    await signIn(admin, 'admin', E2E_ADMIN_PASSWORD);
    await admin.getByTestId('nav-rules').click();
    await admin.getByTestId('rules-empty').waitFor({ timeout: 10_000 });

    await admin.getByTestId('rule-new').click();
    const template = JSON.parse(await admin.getByTestId('rule-json').inputValue());
    expect(template).toMatchObject({ id: 'threshold-1', kind: 'threshold' });
    await admin.getByTestId('rule-json').fill(JSON.stringify(RULE, null, 2));
    await admin.getByTestId('rule-save').click();
    await row().waitFor({ timeout: 5_000 });
    expect(await row().getByTestId('rule-condition').textContent()).toBe(
      `${METRIC} above 50, clears below 40`,
    );
    expect(await row().getByTestId('rule-scope').textContent()).toBe(`device ${DEVICE}`);
    expect(await admin.getByTestId('rule-editor').count()).toBe(0);

    // Sent again (a double click, a retry whose answer was lost): the gateway says it is the
    // rule it holds (412 rule_exists, same: true), and the page takes it as created.
    await admin.getByTestId('rule-new').click();
    await admin.getByTestId('rule-json').fill(JSON.stringify(RULE, null, 2));
    await admin.getByTestId('rule-save').click();
    await admin.getByTestId('rule-editor').waitFor({ state: 'detached', timeout: 5_000 });
    expect(await admin.getByTestId('rules-notice').textContent()).toBe(`Rule ${RULE.id} created.`);

    value = 80;
    const alert = await waitFor(async () => (await ourAlerts()).find((a) => !a.clearedAt), {
      timeoutMs: 5_000,
      message: 'an alert of the new rule on GET /api/alerts',
    });
    expect(alert).toMatchObject({ deviceId: DEVICE, ruleName: RULE.name, severity: 'critical' });
  });

  it('disables the rule from its row: the rule is muted and its open alert clears', async () => {
    await row().getByTestId('rule-toggle').click();
    await waitFor(async () => (await row().getAttribute('data-enabled')) === 'false', {
      timeoutMs: 5_000,
      message: 'the row to show the rule disabled',
    });
    expect(await row().getAttribute('class')).toContain('rule-off');
    expect((await row().getByTestId('rule-toggle').textContent())?.trim()).toBe('Disabled');
    await waitFor(async () => (await ourAlerts()).every((a) => a.clearedAt !== null), {
      timeoutMs: 5_000,
      message: 'the disabled rule’s alert to clear',
    });

    // The same text created again is no longer this rule: it left `enabled` out (on, by
    // default) and the stored one is off. Every field the text has matches, yet it is a
    // conflict: the gateway compares the rule as it parses it (same: false), not the page.
    await admin.getByTestId('rule-new').click();
    await admin.getByTestId('rule-json').fill(JSON.stringify(RULE, null, 2));
    await admin.getByTestId('rule-save').click();
    await admin.getByTestId('rule-problem').waitFor({ timeout: 5_000 });
    expect(await admin.getByTestId('rule-problem').textContent()).toContain('exists already');
    await admin.getByTestId('rule-cancel').click();
    expect(await row().getAttribute('data-enabled')).toBe('false');
  });

  it('shows the gateway’s message for an invalid rule, keeping the text', async () => {
    await row().getByTestId('rule-edit').click();
    const invalid = JSON.stringify({ ...RULE, op: 'outside', value: undefined }, null, 2);
    await admin.getByTestId('rule-json').fill(invalid);
    await admin.getByTestId('rule-save').click();
    const issues = admin.getByTestId('rule-issues');
    await issues.waitFor({ timeout: 5_000 });
    expect(await issues.textContent()).toContain('required with op "outside"');
    expect(await admin.getByTestId('rule-json').inputValue()).toBe(invalid);
    await session.shot(admin, 'rules.png');
  });

  it('refuses a save over a change made meanwhile, says so, shows their version and keeps the text', async () => {
    await admin.getByTestId('rule-cancel').click();
    await row().getByTestId('rule-edit').click();
    const opened = JSON.parse(await admin.getByTestId('rule-json').inputValue()) as AlertRule;
    expect(opened).toMatchObject({ id: RULE.id, value: 50, enabled: false });

    // Another admin raises the level behind the page's back (a script: no If-Match).
    const other = await otherAdmin();
    const theirs = { ...opened, value: 60 };
    expect((await other('PUT', `/api/alert-rules/${RULE.id}`, theirs)).status).toBe(200);

    const mine = JSON.stringify({ ...opened, severity: 'major' }, null, 2);
    await admin.getByTestId('rule-json').fill(mine);
    await admin.getByTestId('rule-save').click();
    const problem = admin.getByTestId('rule-problem');
    await problem.waitFor({ timeout: 5_000 });
    expect(await problem.textContent()).toContain(
      `Someone else changed the rule "${RULE.id}" after it was read here, so nothing was changed.`,
    );
    expect(await admin.getByTestId('rule-json').inputValue()).toBe(mine);
    const current = JSON.parse(
      (await admin.getByTestId('rule-current').locator('pre').textContent()) ?? '',
    );
    expect(current).toMatchObject({ id: RULE.id, value: 60, severity: 'critical' });
    // The table behind the editor shows their version; the gateway kept it.
    await waitFor(
      async () =>
        (await row().getByTestId('rule-condition').textContent())?.includes('above 60') ||
        undefined,
      { timeoutMs: 5_000, message: 'the row to show the other admin’s level' },
    );
    const stored = (await (
      await fetch(`${backend.httpUrl}/api/alert-rules/${RULE.id}`)
    ).json()) as AlertRule;
    expect(stored).toMatchObject({ value: 60, severity: 'critical' });
    await session.shot(admin, 'rules-conflict.png');

    // Saved again, knowingly, over their version.
    await admin.getByTestId('rule-save').click();
    await admin.getByTestId('rule-editor').waitFor({ state: 'detached', timeout: 5_000 });
    const saved = (await (
      await fetch(`${backend.httpUrl}/api/alert-rules/${RULE.id}`)
    ).json()) as AlertRule;
    expect(saved).toMatchObject({ value: 50, severity: 'major' });
  });

  it('deletes the rule after a second click, and the table fits a phone', async () => {
    await row().getByTestId('rule-edit').click();
    await admin.getByTestId('rule-delete').click();
    expect(await row().count()).toBe(1);
    await admin.getByTestId('rule-delete-confirm').click();
    await row().waitFor({ state: 'detached', timeout: 5_000 });
    const left = await (await fetch(`${backend.httpUrl}/api/alert-rules`)).json();
    expect(left).toEqual({ rules: [], etags: {} });

    // Back to a table of the gateway's rules, on a phone: the page never scrolls sideways.
    await admin.getByTestId('rule-new').click();
    await admin.getByTestId('rule-save').click();
    await admin.locator('tr[data-rule-id="threshold-1"]').waitFor({ timeout: 5_000 });
    await admin.setViewportSize({ width: 390, height: 844 });
    const widths = await admin.evaluate(() => {
      const box = document.querySelector('[data-testid=rules-box]') as HTMLElement;
      return {
        page: document.documentElement.scrollWidth,
        box: box.clientWidth,
        table: box.scrollWidth,
      };
    });
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.box).toBeLessThanOrEqual(390);
    await session.shot(admin, 'rules-phone.png');
  });
});

import {
  AckResponse,
  ActiveAlertsResponse,
  AlertEvent,
  AlertHistoryResponse,
  AlertRule,
  AlertRulesResponse,
  IngestStats,
  metaTopic,
} from '@pulse/protocol';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAlertRules } from '../src/app/alerts/alert-rules.loader';
import { StartupError } from '../src/app/config/config';
import {
  collectAlerts,
  getJson,
  publish,
  publishTelemetry,
  sendJson,
  sleep,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { adminAuth, startTestPulse, usePulse, userToken } from './support/pulse';

const RULES_YAML = `# test rules: raise at once (no forMs) so the latency is the pipeline's
rules:
  - id: hot
    name: Too hot
    kind: threshold
    metric: temperature
    op: above
    value: 30
    clear: 25
    severity: major
`;

// Real: the whole backend (embedded Aedes, ingest, alert engine, Socket.IO, HTTP) with its
// rules from ALERT_RULES_FILE; devices publish with mqtt.js, clients use socket.io-client.
describe('alerts end to end', () => {
  let dir: string;
  let rulesFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-alerts-'));
    rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, RULES_YAML);
  });
  const backend = usePulse({ env: () => ({ ALERT_RULES_FILE: rulesFile }), device: true });
  // After usePulse's afterAll (jest runs them in order): the backend is closed by then.
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const { live, api } = backend;
  // Acknowledging needs an operator and rule writes an admin: each test acts as one.
  const tokens: Record<'admin' | 'alice' | 'bob', string> = { admin: '', alice: '', bob: '' };
  beforeAll(async () => {
    const url = backend.pulse.httpUrl;
    tokens.admin = (await adminAuth(url)).authorization.slice('Bearer '.length);
    tokens.alice = await userToken(url, 'alice', 'operator');
    tokens.bob = await userToken(url, 'bob', 'operator');
  });
  const as =
    (who: keyof typeof tokens) =>
    <T = unknown>(url: string, method: string, body?: unknown) =>
      sendJson<T>(url, method, body, { authorization: `Bearer ${tokens[who]}` });
  const liveAs = (who: keyof typeof tokens) =>
    live(undefined, (socket) => (socket.auth = { token: tokens[who] }));
  const temperature = (id: string, value: number) =>
    publishTelemetry(backend.device, id, { values: { temperature: value } });

  it('raises an alert on every socket within a second of the reading, once per socket', async () => {
    const watcher = await live();
    await subscribe(watcher, { devices: ['al-1'], history: false });
    const watched = collectAlerts(watcher);
    // Alerts go to every client of /live, whatever it watches: still one event each.
    const both = await live();
    await subscribe(both, { fleet: true, devices: ['al-1'], history: false });
    const twice = collectAlerts(both);

    await temperature('al-1', 20); // normal: nothing
    const sentAt = Date.now();
    await temperature('al-1', 35);
    const raised = await watched.waitForEvent(
      (e) => e.deviceId === 'al-1' && e.state === 'raised',
      'al-1 raised',
      1000,
    );
    const latencyMs = Date.now() - sentAt;
    expect(latencyMs).toBeLessThan(1000);
    expect(raised).toMatchObject({
      ruleId: 'hot',
      kind: 'threshold',
      ruleName: 'Too hot',
      deviceId: 'al-1',
      metric: 'temperature',
      severity: 'major',
      state: 'raised',
      value: 35,
      threshold: 30,
      count: 1,
      active: true,
      flapping: false,
      acknowledgedBy: null,
      clearedAt: null,
    });
    expect(raised.message).toBe('Too hot: temperature 35 above 30');

    await twice.waitForEvent((e) => e.id === raised.id, 'fleet + device');
    await temperature('al-1', 36); // still raised: no second alert
    await sleep(100);
    expect(twice.events.filter((e) => e.id === raised.id)).toHaveLength(1);
    expect(watched.events).toHaveLength(1);
    console.log(`alert latency (reading published → alert received): ${latencyMs} ms`);
  });

  it('pushes an HTTP acknowledgement to other clients; refuses a second one, unknown ids and bad bodies', async () => {
    const other = await live();
    await subscribe(other, { fleet: true, history: false });
    const seen = collectAlerts(other);
    const active = await getJson<ActiveAlertsResponse>(api('/alerts'));
    const alert = active.body.alerts.find((a) => a.deviceId === 'al-1');
    if (!alert) throw new Error('al-1 has no active alert');

    // `by` in the body is ignored: the acknowledgement is recorded under the signed-in user.
    const ack = await as('alice')<AckResponse>(api(`/alerts/${alert.id}/ack`), 'POST', {
      by: 'mallory',
      note: 'on it',
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({
      ok: true,
      alert: { id: alert.id, state: 'acknowledged', acknowledgedBy: 'alice' },
    });
    const pushed = await seen.waitForEvent(
      (e) => e.id === alert.id && e.state === 'acknowledged',
      'acknowledged by alice',
    );
    expect(pushed).toMatchObject({
      acknowledgedBy: 'alice',
      ackNote: 'on it',
      active: true,
    });
    expect(pushed.acknowledgedAt).toEqual(expect.any(Number));

    const again = await as('bob')<AckResponse>(api(`/alerts/${alert.id}/ack`), 'POST', {
      by: 'bob',
    });
    expect(again).toMatchObject({
      status: 409,
      body: { ok: false, error: 'already_acknowledged' },
    });
    expect(await as('bob')(api('/alerts/al-nope/ack'), 'POST', { by: 'bob' })).toMatchObject({
      status: 404,
      body: { ok: false, error: 'not_found' },
    });
    const bad = await as('bob')<{ message: string[] }>(api(`/alerts/${alert.id}/ack`), 'POST', {
      by: '',
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^by: /),
        expect.stringMatching(/^\(root\): Unrecognized key/),
      ]),
    );
  });

  it('acknowledges over the socket `ack` event, pushed to the other clients; bad input gets ok:false', async () => {
    const operator = await liveAs('bob');
    await subscribe(operator, { devices: ['al-2'], history: false });
    const mine = collectAlerts(operator);
    const other = await live();
    await subscribe(other, { fleet: true, history: false });
    const theirs = collectAlerts(other);

    await temperature('al-2', 40);
    const raised = await mine.waitForEvent(
      (e) => e.deviceId === 'al-2' && e.state === 'raised',
      'al-2 raised',
    );
    const response = await operator
      .timeout(5000)
      .emitWithAck('ack', { id: raised.id, by: 'mallory' });
    expect(response).toMatchObject({
      ok: true,
      alert: { id: raised.id, state: 'acknowledged', acknowledgedBy: 'bob' },
    });
    await theirs.waitForEvent(
      (e) => e.id === raised.id && e.state === 'acknowledged' && e.acknowledgedBy === 'bob',
      'acknowledged by bob',
    );

    expect(
      await operator.timeout(5000).emitWithAck('ack', { id: raised.id, by: 'carol' }),
    ).toMatchObject({ ok: false, error: 'already_acknowledged' });
    const invalid = await operator
      .timeout(5000)
      // @ts-expect-error untrusted input: `id` missing
      .emitWithAck('ack', { by: 'bob' });
    expect(invalid).toMatchObject({ ok: false, error: 'invalid' });
    expect((invalid as { message: string }).message).toMatch(/^id: /);
  });

  it('clears the alert only when the value falls below the clear level (not in the dead band)', async () => {
    const watcher = await live();
    await subscribe(watcher, { devices: ['al-1'], history: false });
    const seen = collectAlerts(watcher);

    await temperature('al-1', 27); // between clear (25) and value (30): stays raised
    await temperature('al-1', 20);
    const cleared = await seen.waitForEvent(
      (e) => e.deviceId === 'al-1' && e.state === 'cleared',
      'al-1 cleared',
    );
    expect(seen.events.map((e) => e.state)).toEqual(['cleared']);
    expect(cleared).toMatchObject({
      value: 20,
      acknowledgedBy: 'alice',
      active: false, // acknowledged and cleared: off the active list
    });
    expect(cleared.clearedAt).toEqual(expect.any(Number));
    const active = await getJson<ActiveAlertsResponse>(api('/alerts'));
    expect(active.body.alerts.map((a) => a.deviceId)).toEqual(['al-2']);

    const history = await getJson<AlertHistoryResponse>(
      api('/alerts/history?deviceId=al-1&limit=10'),
    );
    expect(history.body.events.map((e) => e.state)).toEqual(['cleared', 'acknowledged', 'raised']);
    const raisedOnly = await getJson<AlertHistoryResponse>(
      api('/alerts/history?state=raised&severity=major'),
    );
    expect(raisedOnly.body.events.map((e) => e.deviceId)).toEqual(['al-2', 'al-1']);
    const bad = await getJson<{ message: string[] }>(api('/alerts/history?limit=0&state=nope'));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual([
      expect.stringMatching(/^state: /),
      expect.stringMatching(/^limit: /),
    ]);
  });

  it('sends the active alerts to a new client as its `alerts` snapshot on connect', async () => {
    let snapshot: AlertEvent[] | null = null;
    await live(['websocket'], (socket) => socket.once('alerts', (alerts) => (snapshot = alerts)));
    const received = await waitFor(() => snapshot, { timeoutMs: 5000, intervalMs: 5 });
    expect(received).toEqual([
      expect.objectContaining({
        deviceId: 'al-2',
        state: 'acknowledged',
        acknowledgedBy: 'bob',
        active: true,
      }),
    ]);
  });

  it('creates, reads, replaces and deletes rules over HTTP with `path: message` errors, writing them to ALERT_RULES_FILE', async () => {
    const list = await getJson<AlertRulesResponse>(api('/alert-rules'));
    expect(list.body.rules.map((r) => r.id)).toEqual(['hot']);

    const missing = await as('admin')<{ message: string[] }>(api('/alert-rules'), 'POST', {
      id: 'cold',
      kind: 'threshold',
      metric: 'temperature',
      op: 'below',
      severity: 'urgent',
    });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toEqual([expect.stringMatching(/^severity: Invalid option/)]);
    const noValue = await as('admin')<{ message: string[] }>(api('/alert-rules'), 'POST', {
      id: 'cold',
      kind: 'threshold',
      metric: 'temperature',
      op: 'below',
      severity: 'minor',
      forMs: -1,
    });
    expect(noValue.status).toBe(400);
    expect(noValue.body.message).toEqual(
      expect.arrayContaining([expect.stringMatching(/^forMs: /)]),
    );
    const outside = await as('admin')<{ message: string[] }>(api('/alert-rules'), 'POST', {
      id: 'band',
      kind: 'threshold',
      metric: 't',
      op: 'outside',
      value: 3,
      severity: 'minor',
    });
    expect(outside.body.message).toEqual([
      'value: not used with op "outside": use low/high and clearLow/clearHigh',
      'low: required with op "outside"',
      'high: required with op "outside"',
    ]);

    const cold = {
      id: 'cold',
      kind: 'threshold',
      metric: 'temperature',
      op: 'below',
      value: 5,
      severity: 'minor',
    };
    const created = await as('admin')<AlertRule>(api('/alert-rules'), 'POST', cold);
    expect(created).toEqual({
      status: 201,
      body: {
        ...cold,
        scope: { all: true },
        enabled: true,
        forMs: 0,
        clearForMs: 0,
      },
    });
    expect((await as('admin')(api('/alert-rules'), 'POST', cold)).status).toBe(409);
    expect(await getJson(api('/alert-rules/cold'))).toMatchObject({
      status: 200,
      body: { id: 'cold', value: 5 },
    });

    const mismatch = await as('admin')<{ message: string[] }>(api('/alert-rules/cold'), 'PUT', {
      ...cold,
      id: 'warm',
    });
    expect(mismatch).toMatchObject({
      status: 400,
      body: { message: ['id: must match the path ("cold"), got "warm"'] },
    });
    const replaced = await as('admin')<AlertRule>(api('/alert-rules/cold'), 'PUT', {
      ...cold,
      value: 2,
      forMs: 30_000,
    });
    expect(replaced).toMatchObject({
      status: 200,
      body: { id: 'cold', value: 2, forMs: 30_000 },
    });
    // Written back: a restart would load the same rules.
    const onDisk = parseAlertRules(readFileSync(rulesFile, 'utf8'), 'yaml');
    expect(onDisk.map((r) => [r.id, 'value' in r ? r.value : null])).toEqual([
      ['hot', 30],
      ['cold', 2],
    ]);

    expect((await as('admin')(api('/alert-rules/cold'), 'DELETE')).status).toBe(204);
    expect((await getJson(api('/alert-rules/cold'))).status).toBe(404);
    expect((await as('admin')(api('/alert-rules/cold'), 'DELETE')).status).toBe(404);
    expect(parseAlertRules(readFileSync(rulesFile, 'utf8'), 'yaml').map((r) => r.id)).toEqual([
      'hot',
    ]);

    const stats = (await getJson<IngestStats>(api('/stats'))).body;
    expect(stats.alerts).toMatchObject({
      rules: 1,
      enabledRules: 1,
      active: 1,
      rulesSaved: 3,
      refusedStates: 0,
    });
    expect(stats.alerts.events).toBeGreaterThanOrEqual(5);
    expect(stats.live).toMatchObject({
      lagPauses: 0,
      lagDisconnects: 0,
      droppedOverflow: 0,
    });
    expect(stats.live.alertsSent).toBe(stats.alerts.events);
  });
  it('takes an HTTP acknowledgement without a body (the note is optional), as curl sends it', async () => {
    await temperature('al-nobody', 35);
    let alert: AlertEvent | undefined;
    await waitFor(async () => {
      alert = (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts.find(
        (a) => a.deviceId === 'al-nobody',
      );
      return alert !== undefined;
    });
    // `curl -X POST -H 'Authorization: Bearer …' …/ack`: no body, no content type.
    const res = await fetch(api(`/alerts/${alert?.id}/ack`), {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      alert: { state: 'acknowledged', acknowledgedBy: 'alice', ackNote: null },
    });
    // Cleared too, it leaves the list (the tests after this one count it).
    await temperature('al-nobody', 20);
    await waitFor(
      async () =>
        !(await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts.some(
          (a) => a.deviceId === 'al-nobody',
        ),
    );
  });
  it('filters the history by part of a device id or display name, as the Active tab does', async () => {
    await publish(
      backend.device,
      metaTopic('al-2'),
      JSON.stringify({ name: 'Boiler room east', units: { temperature: '°C' } }),
      1,
    );
    const devices = async (query: string) =>
      (await getJson<AlertHistoryResponse>(api(`/alerts/history?${query}`))).body.events.map(
        (e) => e.deviceId,
      );
    await waitFor(async () => ((await devices('device=ROOM%20e')).length > 0 ? true : null), {
      timeoutMs: 5000,
      message: "al-2's name known",
    });
    // al-10, whose id contains al-1's.
    await temperature('al-10', 50);
    await waitFor(async () => ((await devices('device=al-10')).length > 0 ? true : null), {
      timeoutMs: 5000,
      message: 'al-10 raised',
    });
    // The name (any case), part of an id, and nothing for a stranger.
    expect(new Set(await devices('device=ROOM%20e'))).toEqual(new Set(['al-2']));
    expect(new Set(await devices('device=AL-1'))).toEqual(new Set(['al-1', 'al-10']));
    expect(await devices('device=zz-none')).toEqual([]);
    // A device's exact id (the device page's link to its alerts) names that device alone, not
    // the longer ids that contain it: the gateway knows every device, whatever a browser holds.
    expect(new Set(await devices('device=al-1'))).toEqual(new Set(['al-1']));
    expect(new Set(await devices('device=al-1&state=cleared'))).toEqual(new Set(['al-1']));
    const long = await getJson<{ message: string[] }>(
      api(`/alerts/history?device=${'d'.repeat(129)}`),
    );
    expect(long.status).toBe(400);
    expect(long.body.message).toEqual([expect.stringMatching(/^device: /)]);
  });
  it("finds a device heard once and never again at the rule's unknownPaceMs, not at its floor", async () => {
    // The built-in rule's shape with its times shortened: 3 × the pace, at least 1 s, and 3 s
    // for a device whose pace is unknown (2 h unless told).
    const rule = {
      id: 'once',
      kind: 'nodata',
      cadenceMultiple: 3,
      silenceMs: 1000,
      unknownPaceMs: 3000,
      scope: { device: 'nd-once' },
      severity: 'minor',
    };
    expect((await as('admin')(api('/alert-rules'), 'POST', rule)).status).toBe(201);
    const watcher = await live();
    const alerts = collectAlerts(watcher);
    await publishTelemetry(backend.device, 'nd-once', { values: { battery: 97 } });
    const sentAt = Date.now();
    const raised = await alerts.waitForEvent(
      (e) => e.ruleId === 'once' && e.state === 'raised',
      'once raised',
      6000,
    );
    // The engine's 1 s timer sees the 3 s: between 3 and 4 s after the reading, with slack.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(2900);
    expect(raised).toMatchObject({ deviceId: 'nd-once', metric: null, threshold: 3000 });
    expect(raised.value).toBeGreaterThanOrEqual(3000);
    expect((await as('admin')(api('/alert-rules/once'), 'DELETE')).status).toBe(204);
  });
});

describe('alert rules file at startup', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-bad-rules-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to start with a bad ALERT_RULES_FILE, listing every bad rule as path: message', async () => {
    const file = join(dir, 'rules.json');
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          {
            id: 'a',
            kind: 'threshold',
            metric: 't',
            op: 'above',
            value: 'hot',
            severity: 'major',
          },
          { id: 'b', kind: 'offline', severity: 'urgent' },
          { id: 'c', kind: 'nodata', severity: 'info' },
        ],
      }),
    );
    const attempt = startTestPulse({ ALERT_RULES_FILE: file });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
    const message = await attempt.then(
      () => '',
      (error: Error) => error.message,
    );
    expect(message.split('\n')).toEqual([
      `ALERT_RULES_FILE: invalid alert rules in ${file}:`,
      '  rules.0.value: Invalid input: expected number, received string',
      expect.stringMatching(/^ {2}rules\.1\.severity: Invalid option/),
      '  rules.2.silenceMs: set silenceMs, cadenceMultiple or both',
    ]);
  });

  it('names a YAML syntax error by line, and a missing file', async () => {
    const yaml = join(dir, 'rules.yaml');
    writeFileSync(yaml, 'rules:\n  - id: a\n   kind: [\n');
    await expect(startTestPulse({ ALERT_RULES_FILE: yaml })).rejects.toThrow(
      /ALERT_RULES_FILE: invalid alert rules in .*rules\.yaml:\n {2}line \d+, column \d+: /,
    );
    await expect(startTestPulse({ ALERT_RULES_FILE: join(dir, 'nope.yaml') })).rejects.toThrow(
      /\(root\): cannot read the file \(ENOENT\)/,
    );
  });
});

import type {
  ActiveAlertsResponse,
  AlertHistoryResponse,
  DeviceInfo,
  DeviceListResponse,
  FleetSummaryPage,
  IngestStats,
  SummaryEvent,
} from '@pulse/protocol';
import type { HistoryResponse } from '@pulse/protocol';
import { decodeSummaryEvent, DS, metaTopic } from '@pulse/protocol';
import {
  connectMqtt,
  endMqtt,
  getJson,
  LiveClient,
  postgresAvailable,
  PostgresCluster,
  publish,
  publishTelemetry,
  sendJson,
  startPostgres,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PulseHandle } from '../src/app/pulse';
import {
  adminAuth,
  startTestPulse,
  tokenFor,
  TEST_ADMIN_PASSWORD,
  usePulse,
  userToken,
} from './support/pulse';

/** Raises a `major` alert on any device whose `temp` goes above 30. */
const HOT_RULE = {
  id: 'hot',
  kind: 'threshold',
  metric: 'temp',
  op: 'above',
  value: 30,
  severity: 'major',
};

/** Every `summary` event a socket receives, decoded from the wire form. */
function collectSummaries(socket: LiveClient): SummaryEvent[] {
  const events: SummaryEvent[] = [];
  socket.on('summary', (wire) => {
    const event = decodeSummaryEvent(wire);
    if (!event) throw new Error(`a summary event that does not decode: ${JSON.stringify(wire)}`);
    events.push(event);
  });
  return events;
}

// Real: the whole backend (embedded broker, ingest, registry with its SQLite store, alert engine,
// fleet summary, Socket.IO, REST), mqtt.js as the devices, socket.io-client as a screen.
describe('DELETE /api/devices/:id', () => {
  const backend = usePulse({ device: true });
  const { api, live } = backend;
  let admin: { authorization: string };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const known = async (id: string) => (await getJson(api(`/devices/${id}`))).status === 200;
  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(api('/stats'))).body.security?.refused ?? {};
  const remove = (id: string, headers: Record<string, string> = admin) =>
    sendJson(api(`/devices/${id}`), 'DELETE', undefined, headers);
  /** A device of `group` that has spoken, known to the registry and the fleet summary. */
  const device = async (id: string, group: string, temp = 20) => {
    await publish(backend.device, metaTopic(id), JSON.stringify({ name: id, group }), 1, true);
    await publishTelemetry(backend.device, id, { values: { temp } });
    await waitFor(
      async () =>
        (await getJson<FleetSummaryPage>(api(`/fleet/summary?q=${id}`))).body.devices.some(
          (d) => d[DS.id] === id,
        ),
      { message: `${id} in the fleet summary` },
    );
  };

  beforeAll(async () => {
    admin = await adminAuth(backend.pulse.httpUrl);
    expect((await sendJson(api('/alert-rules'), 'POST', HOT_RULE, admin)).status).toBe(201);
  });

  it('removes the device, ends its open alert with "device removed" and tells the screens', async () => {
    await device('rm-1', 'hall-a', 35);
    await device('rm-keep', 'hall-a');
    const raised = await waitFor(
      async () =>
        (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts.find(
          (a) => a.deviceId === 'rm-1',
        ),
      { message: 'the alert of rm-1 raised' },
    );
    // Read once: the page the next one would be served from until the next push.
    expect((await getJson<FleetSummaryPage>(api('/fleet/summary'))).body.total).toBe(2);
    const screen = await live();
    const summaries = collectSummaries(screen);
    expect(await subscribe(screen, { summary: true, history: false })).toMatchObject({ ok: true });

    const response = await remove('rm-1');
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();

    // The registry: gone from the device, the list and the stats; the other device stays.
    expect(await known('rm-1')).toBe(false);
    const listed = (await getJson<DeviceListResponse>(api('/devices'))).body.devices;
    expect(listed.map((d) => d.deviceId)).not.toContain('rm-1');
    expect(listed.map((d) => d.deviceId)).toContain('rm-keep');
    expect((await getJson<IngestStats>(api('/stats'))).body.devices).toMatchObject({ removed: 1 });
    // The overview's next page leaves it out at once; every screen following the summary is
    // told within a push.
    const page = (await getJson<FleetSummaryPage>(api('/fleet/summary'))).body;
    expect(page.devices.map((d) => d[DS.id])).toEqual(['rm-keep']);
    await waitFor(() => summaries.some((e) => e.removed.includes('rm-1')), {
      message: 'rm-1 sent as a removal',
    });
    // The open alert ended, honestly: cleared with the reason, off the active list, in history.
    const active = (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts;
    expect(active.find((a) => a.deviceId === 'rm-1')).toBeUndefined();
    const history = (await getJson<AlertHistoryResponse>(api('/alerts/history?deviceId=rm-1'))).body
      .events;
    expect(history[0]).toMatchObject({
      id: raised.id,
      state: 'cleared',
      active: false,
      message: expect.stringContaining('(device removed)'),
    });
  });

  it('answers 404 with the one error body for an unknown device, and for a second removal', async () => {
    await device('rm-twice', 'hall-a');
    expect((await remove('rm-twice')).status).toBe(204);
    for (const id of ['rm-twice', 'never-heard']) {
      const response = await remove(id);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: `device "${id}" is not known`,
      });
    }
  });

  it('is for admins only: anonymous 401, viewer and operator 403, each refusal counted', async () => {
    await device('rm-guarded', 'hall-a');
    const viewer = await userToken(backend.pulse.httpUrl, 'rm-val', 'viewer');
    const operator = await userToken(backend.pulse.httpUrl, 'rm-otto', 'operator');
    const before = await refused();
    expect((await remove('rm-guarded', {})).status).toBe(401);
    expect((await remove('rm-guarded', bearer(viewer))).status).toBe(403);
    expect((await remove('rm-guarded', bearer(operator))).status).toBe(403);
    const after = await refused();
    expect(after['http_unauthorized']).toBe((before['http_unauthorized'] ?? 0) + 1);
    expect(after['http_forbidden']).toBe((before['http_forbidden'] ?? 0) + 2);
    expect(await known('rm-guarded')).toBe(true);
  });

  it('refuses a removal sent by a page of another origin (the writes’ origin check)', async () => {
    await device('rm-origin', 'hall-a');
    const before = await refused();
    const response = await remove('rm-origin', { ...admin, origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect((await refused())['origin_http']).toBe((before['origin_http'] ?? 0) + 1);
    expect(await known('rm-origin')).toBe(true);
  });

  it('lets a group-scoped admin token remove devices of its groups only (others are 404)', async () => {
    await device('rm-a', 'hall-a');
    await device('rm-b', 'hall-b');
    const { token } = await tokenFor(backend.pulse.httpUrl, 'admin', TEST_ADMIN_PASSWORD, {
      groups: ['hall-b'],
    });
    expect((await remove('rm-a', bearer(token))).status).toBe(404);
    expect(await known('rm-a')).toBe(true);
    expect((await remove('rm-b', bearer(token))).status).toBe(204);
    expect(await known('rm-b')).toBe(false);
  });

  it('brings a device that publishes again back as a new device', async () => {
    await device('rm-back', 'hall-a');
    expect((await remove('rm-back')).status).toBe(204);
    await publishTelemetry(backend.device, 'rm-back', { values: { hum: 41 } });
    const back = await waitFor(
      async () => {
        const { status, body } = await getJson<DeviceInfo>(api('/devices/rm-back'));
        return status === 200 ? body : undefined;
      },
      { message: 'rm-back known again' },
    );
    // New: what it said before (its meta, its metric `temp`) went with the removal.
    expect(back).toMatchObject({ deviceId: 'rm-back', meta: null, metrics: ['hum'] });
  });
});

// Real: the backend in process, twice on the same stored state (SQLite file, or one PostgreSQL
// database with a fresh DATA_DIR each run), mqtt.js as the devices.
describe.each([
  ['the SQLite file', false, true],
  ['PostgreSQL (DATABASE_URL)', true, postgresAvailable()],
])('a removed device after a restart on %s', (_name, withPostgres, available) => {
  const run = available ? it : it.skip;
  let cluster: PostgresCluster | undefined;
  const dirs: string[] = [];
  const started: PulseHandle[] = [];

  beforeAll(async () => {
    if (withPostgres && available) cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const pulse of started) await pulse.close();
    await cluster?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  run('stays removed, its alert ended in the history, its stored readings kept', async () => {
    const database = cluster?.createDatabase('pulse_device_removal');
    const sharedDir = mkdtempSync(join(tmpdir(), 'pulse-removal-restart-'));
    dirs.push(sharedDir);
    const env = () => {
      const dir = database ? mkdtempSync(join(tmpdir(), 'pulse-removal-restart-')) : sharedDir;
      if (dir !== sharedDir) dirs.push(dir);
      return {
        DATA_DIR: dir,
        HISTORY_FLUSH_MS: '50',
        ...(database ? { DATABASE_URL: database } : {}),
      };
    };
    const start = async () => {
      const pulse = await startTestPulse(env());
      started.push(pulse);
      const api = (path: string) => `${pulse.httpUrl}/api${path}`;
      return { pulse, api, admin: await adminAuth(pulse.httpUrl) };
    };

    const first = await start();
    expect((await sendJson(first.api('/alert-rules'), 'POST', HOT_RULE, first.admin)).status).toBe(
      201,
    );
    const device = await connectMqtt(first.pulse.mqttUrl);
    const readingTs = Date.now() - 5_000;
    for (const id of ['rr-gone', 'rr-kept']) {
      await publish(device, metaTopic(id), JSON.stringify({ name: id, group: 'g' }), 1, true);
      await publishTelemetry(device, id, { ts: readingTs, values: { temp: 35 } }, 1);
    }
    await endMqtt(device);
    const alertOf = async (api: (path: string) => string, id: string) =>
      (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts.find(
        (a) => a.deviceId === id,
      );
    const raised = await waitFor(() => alertOf(first.api, 'rr-gone'), { message: 'raised' });
    expect(
      (await sendJson(first.api('/devices/rr-gone'), 'DELETE', undefined, first.admin)).status,
    ).toBe(204);
    await first.pulse.close();
    started.pop();

    const second = await start();
    expect((await getJson(second.api('/devices/rr-gone'))).status).toBe(404);
    expect((await getJson(second.api('/devices/rr-kept'))).status).toBe(200);
    expect(await alertOf(second.api, 'rr-gone')).toBeUndefined();
    expect(await alertOf(second.api, 'rr-kept')).toBeDefined();
    const history = (
      await getJson<AlertHistoryResponse>(second.api('/alerts/history?deviceId=rr-gone'))
    ).body.events;
    expect(history[0]).toMatchObject({
      id: raised.id,
      state: 'cleared',
      message: expect.stringContaining('(device removed)'),
    });
    const summary = (await getJson<FleetSummaryPage>(second.api('/fleet/summary'))).body;
    expect(summary.devices.map((d) => d[DS.id])).toEqual(['rr-kept']);

    // It speaks again: a new device, and the readings stored before the removal are its past.
    const again = await connectMqtt(second.pulse.mqttUrl);
    await publishTelemetry(again, 'rr-gone', { values: { temp: 21 } }, 1);
    await endMqtt(again);
    const past = await waitFor(
      async () => {
        const { status, body } = await getJson<HistoryResponse>(
          second.api(`/devices/rr-gone/history?from=${readingTs - 1000}`),
        );
        return status === 200 ? body.series.find((s) => s.metric === 'temp') : undefined;
      },
      { message: 'rr-gone back with its history' },
    );
    expect(past.t[0]).toBe(readingTs);
    expect(past.v[0]).toBe(35);
  });
});

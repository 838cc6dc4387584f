import type {
  ActiveAlertsResponse,
  AlertEvent,
  AlertHistoryResponse,
  DeviceInfo,
  DeviceListResponse,
  FleetSummary,
} from '@pulse/protocol';
import {
  Backend,
  connectMqtt,
  E2E_ADMIN_PASSWORD,
  endMqtt,
  freePort,
  getJson,
  PostgresCluster,
  publish,
  publishTelemetry,
  sendJson,
  sleep,
  startBuiltBackend,
  startPostgres,
  waitFor,
} from '@pulse/test-support';
import BetterSqlite3 from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { DATABASE_FILE } from '../src/app/store/database';
import { tokenFor } from './support/pulse';
import { simulatorPids } from './support/simulator-processes';

/** Where the gateway keeps its state, and what a second run is started with. */
interface Storage {
  setup(): Promise<void>;
  /** Environment of run 0 (before the crash) and run 1 (after it). */
  env(run: 0 | 1): Record<string, string>;
  /** Take `kind` out of the stored alert events (as a gateway from before AlertEvent.kind wrote). */
  dropAlertKinds(): Promise<void>;
  teardown(): Promise<void>;
}

const DROP_ALERT_KINDS = {
  sqlite: `UPDATE alert_open SET event = json_remove(event, '$.kind');
    UPDATE alert_events SET event = json_remove(event, '$.kind');`,
  pg: `UPDATE alert_open SET event = event - 'kind';
    UPDATE alert_events SET event = event - 'kind';`,
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pulse-restart-'));
}

/** The embedded default: both runs on the same DATA_DIR (pulse.db). */
function sqliteFile(): Storage {
  let dataDir = '';
  return {
    setup: async () => void (dataDir = tempDir()),
    env: () => ({ DATA_DIR: dataDir }),
    dropAlertKinds: async () => {
      const db = new BetterSqlite3(join(dataDir, DATABASE_FILE));
      db.exec(DROP_ALERT_KINDS.sqlite);
      db.close();
    },
    teardown: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/**
 * DATABASE_URL: a throwaway cluster started here; both runs on the same database but each on a
 * fresh DATA_DIR, so nothing the second run shows can come from the SQLite file (which keeps
 * only users and tokens then).
 */
function postgres(): Storage {
  let cluster: PostgresCluster | undefined;
  let url = '';
  const dataDirs = [tempDir(), tempDir()];
  return {
    setup: async () => {
      cluster = await startPostgres();
      url = cluster.createDatabase('pulse_restart');
    },
    env: (run) => ({ DATA_DIR: dataDirs[run], DATABASE_URL: url }),
    dropAlertKinds: async () => {
      const pool = new Pool({ connectionString: url });
      await pool.query(DROP_ALERT_KINDS.pg).finally(() => pool.end());
    },
    teardown: async () => {
      await cluster?.stop();
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Real: the built gateway (dist/backend) with its simulator, a device of the test publishing
// QoS 1 over MQTT, killed with SIGKILL mid-stream and started again on the same state and
// ports (issue 13: the registry and the alert lifecycle used to live in memory only), once on
// each store.
describe.each([
  ['the SQLite file', sqliteFile],
  ['PostgreSQL (DATABASE_URL)', postgres],
])('a gateway killed with SIGKILL comes back as it was, on %s', (_name, storage) => {
  const store = storage();
  let ports: { http: number; mqtt: number };
  const started: Backend[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    await store.setup();
    ports = { http: await freePort(), mqtt: await freePort() };
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.end(true);
    for (const backend of started) {
      try {
        process.kill(-backend.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await store.teardown();
  });

  async function start(run: 0 | 1): Promise<{ backend: Backend; auth: { authorization: string } }> {
    const backend = await startBuiltBackend(ports, store.env(run));
    started.push(backend);
    const { token } = await tokenFor(backend.httpUrl, 'admin', E2E_ADMIN_PASSWORD);
    return { backend, auth: { authorization: `Bearer ${token}` } };
  }

  async function probe(backend: Backend): Promise<MqttClient> {
    const client = await connectMqtt(backend.mqttUrl, { clientId: 'probe-1' });
    clients.push(client);
    return client;
  }

  const byId = (devices: DeviceInfo[]) =>
    Object.fromEntries(devices.map((d) => [d.deviceId, d])) as Record<string, DeviceInfo>;

  it('keeps the overview, the alert list and its acknowledgement; no second raise', async () => {
    // ── first run: a device of ours, an alert rule made over HTTP, an alert acknowledged ──
    const first = await start(0);
    const api = (path: string) => `${first.backend.httpUrl}/api${path}`;
    const rule = {
      id: 'probe-hot',
      kind: 'threshold',
      metric: 'temp',
      op: 'above',
      value: 50,
      clear: 45,
      severity: 'major',
      scope: { device: 'probe-1' },
    };
    expect((await sendJson(api('/alert-rules'), 'POST', rule, first.auth)).status).toBe(201);
    const device = await probe(first.backend);
    const meta = { name: 'Probe one', group: 'lab', units: { temp: '°C' } };
    await publish(device, 'devices/probe-1/meta', JSON.stringify(meta), 1, true);
    await publish(device, 'devices/probe-1/status', 'online', 1, true);
    // Mid-stream: a reading every 100 ms until the crash, over the threshold.
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        await publishTelemetry(device, 'probe-1', { values: { temp: 60 } }).catch(() => undefined);
        await sleep(100);
      }
    })();
    const raised = await waitFor(
      async () =>
        (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts.find(
          (a) => a.ruleId === 'probe-hot',
        ),
      { message: 'the probe alert to be raised' },
    );
    const ack = await sendJson(
      api(`/alerts/${raised.id}/ack`),
      'POST',
      { note: 'on it' },
      first.auth,
    );
    expect(ack.status).toBe(200);
    // The simulator's fleet is known with its metrics (a reading each) before the crash.
    await waitFor(
      async () =>
        (await getJson<DeviceListResponse>(api('/devices'))).body.devices.filter(
          (d) => d.deviceId.startsWith('sim-') && d.metrics.length > 0,
        ).length === 6,
      { message: 'the six simulated devices with their metrics' },
    );
    await sleep(1500); // one registry write (1 s) after the last change that matters here
    const devicesBefore = byId((await getJson<DeviceListResponse>(api('/devices'))).body.devices);
    const alertsBefore = (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts;
    expect(alertsBefore.find((a) => a.id === raised.id)).toMatchObject({
      kind: 'threshold',
      state: 'acknowledged',
      acknowledgedBy: 'admin',
      ackNote: 'on it',
    });

    // ── crash ──
    process.kill(first.backend.pid, 'SIGKILL');
    streaming = false;
    await stream;
    device.end(true);
    // Nothing of it is left running (its simulator child ends with it).
    await waitFor(() => simulatorPids(first.backend.mqttUrl).length === 0, {
      timeoutMs: 8000,
      intervalMs: 200,
      message: 'no simulator of the killed gateway',
    });

    // The alerts as a gateway from before AlertEvent.kind stored them: restored with their kind.
    await store.dropAlertKinds();

    // ── second run on the same data and ports ──
    const second = await start(1);
    const devicesAfter = byId((await getJson<DeviceListResponse>(api('/devices'))).body.devices);
    expect(Object.keys(devicesAfter).sort()).toEqual(Object.keys(devicesBefore).sort());
    const probeBefore = devicesBefore['probe-1'];
    expect(devicesAfter['probe-1']).toMatchObject({
      meta,
      metrics: ['temp'],
      // Heard less than a flush before the crash at most.
      lastSeen: expect.any(Number),
    });
    // Written once a second: at most that much older than what was seen just before the crash.
    expect(devicesAfter['probe-1'].lastSeen).toBeGreaterThan((probeBefore.lastSeen ?? 0) - 2000);
    // Was online; nobody listened while the gateway was down: unknown until it speaks.
    expect(devicesAfter['probe-1'].status).toBe('unknown');
    for (const [id, before] of Object.entries(devicesBefore)) {
      expect({ id, meta: devicesAfter[id].meta, metrics: devicesAfter[id].metrics }).toEqual({
        id,
        meta: before.meta,
        metrics: before.metrics,
      });
    }
    // The alert list is the one before the crash, acknowledgement and kind and all (the simulated
    // fleet may have raised one more between the look and the kill: the list only ever grows here).
    const alertsAfter = (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts;
    const ours = (alerts: AlertEvent[]) => alerts.filter((a) => a.ruleId === 'probe-hot');
    expect(ours(alertsAfter)).toEqual(ours(alertsBefore));
    expect(alertsAfter.map((a) => a.id)).toEqual(
      expect.arrayContaining(alertsBefore.map((a) => a.id)),
    );
    // The overview (fleet summary) shows the device's active alert at once.
    const summary = (await getJson<FleetSummary>(api('/fleet/summary'))).body;
    const probeRow = summary.devices.find((row) => row[0] === 'probe-1');
    expect(probeRow?.[1]).toBe('Probe one');
    expect(probeRow?.[6]).toEqual(['major', 1]);

    // The simulated fleet speaks again: online, as before the crash.
    await waitFor(
      async () =>
        (await getJson<DeviceListResponse>(api('/devices'))).body.devices.filter(
          (d) => d.deviceId.startsWith('sim-') && d.status === 'online',
        ).length === 6,
      { message: 'the simulated devices online again' },
    );

    // Still over the threshold: the same episode, not a second alert.
    const again = await probe(second.backend);
    for (let i = 0; i < 5; i++) await publishTelemetry(again, 'probe-1', { values: { temp: 65 } });
    await sleep(1200);
    const events = async (): Promise<AlertEvent[]> =>
      (await getJson<AlertHistoryResponse>(api('/alerts/history?ruleId=probe-hot&limit=100'))).body
        .events;
    expect((await events()).filter((e) => e.state === 'raised')).toHaveLength(1);
    expect(ours((await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts)).toEqual(
      ours(alertsBefore),
    );

    // Back under the clear level: the restored alert clears and, acknowledged, leaves the list.
    await publishTelemetry(again, 'probe-1', { values: { temp: 20 } });
    await waitFor(async () => (await events())[0]?.state === 'cleared', {
      message: 'the restored alert to clear',
    });
    expect((await events())[0]).toMatchObject({ id: raised.id, count: 1, active: false });
    const active = (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts;
    expect(active.find((a) => a.id === raised.id)).toBeUndefined();
    await endMqtt(again);
  }, 90_000);
});

import type { AlertEvent, AlertRule } from '@pulse/protocol';
import { PostgresCluster, startPostgres } from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { parseAlertRules } from '../src/app/alerts/alert-rules.loader';
import type { AlertStore } from '../src/app/alerts/alert-store';
import { PgAlertStore } from '../src/app/alerts/pg-alert.store';
import { SqliteAlertStore } from '../src/app/alerts/sqlite-alert.store';
import { AlertsService } from '../src/app/alerts/alerts.service';
import { DeviceRegistryService } from '../src/app/devices/device-registry.service';
import type { StoredAlertEvent } from '../src/app/alerts/stored-alert-event';
import type { DeviceStore, StoredDevice } from '../src/app/devices/device-store';
import { PgDeviceStore } from '../src/app/devices/pg-device.store';
import { SqliteDeviceStore } from '../src/app/devices/sqlite-device.store';
import { Database } from '../src/app/store/database';

// Real: the same contract on both adapters of each port, the embedded SQLite file in a temp
// DATA_DIR and a throwaway PostgreSQL cluster started by this file. A "restart" is a second
// store opened on the same data.
interface Backend {
  devices(): Promise<DeviceStore>;
  alerts(): Promise<AlertStore>;
}

let postgres: PostgresCluster | undefined;
const pools: Pool[] = [];
const databases: Database[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);

afterAll(async () => {
  for (const pool of pools) await pool.end();
  await postgres?.stop();
  for (const database of databases) database.onApplicationShutdown();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh database per test, opened as often as the test restarts. */
function sqlite(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-stores-'));
  dirs.push(dir);
  const open = () => {
    const database = new Database({ DATA_DIR: dir });
    databases.push(database);
    return database;
  };
  return {
    devices: async () => new SqliteDeviceStore(open()),
    alerts: async () => new SqliteAlertStore(open()),
  };
}

let pgDatabases = 0;
async function pg(): Promise<Backend> {
  const url = (postgres as PostgresCluster).createDatabase(`pulse_${++pgDatabases}`);
  const open = () => {
    const pool = new Pool({ connectionString: url });
    pools.push(pool);
    return pool;
  };
  return {
    devices: () => PgDeviceStore.open(open()),
    alerts: () => PgAlertStore.open(open()),
  };
}

const device = (deviceId: string, lastSeen: number, extra: Partial<StoredDevice> = {}) =>
  ({
    deviceId,
    status: 'online',
    lastSeen,
    lastTs: lastSeen - 5,
    meta: null,
    metrics: ['t'],
    cadenceMs: null,
    ...extra,
  }) as StoredDevice;

const alert = (id: string, updatedAt: number, active = true) =>
  ({
    id,
    ruleId: 'hot',
    kind: 'threshold',
    deviceId: 'd1',
    metric: 't',
    severity: 'major',
    state: active ? 'raised' : 'cleared',
    message: `t is ${updatedAt}`,
    value: updatedAt,
    raisedAt: 1,
    acknowledgedAt: null,
    acknowledgedBy: null,
    clearedAt: active ? null : updatedAt,
    ruleName: 'Hot',
    threshold: 30,
    updatedAt,
    flapping: false,
    count: 1,
    active,
    ackNote: null,
  }) as AlertEvent;

describe.each([
  ['SQLite', async () => sqlite()],
  ['PostgreSQL', pg],
])('durable stores on %s', (_name, backend: () => Promise<Backend>) => {
  it('device store: every device back after a restart, least recently seen first', async () => {
    const data = await backend();
    const first = await data.devices();
    const meta = { name: 'Boiler', group: 'plant', units: { t: '°C' } };
    await first.save([device('b', 2000, { meta }), device('a', 1000), device('c', 3000)], []);
    // The pace it reports at, once learned (no-data judges it by that after a restart).
    const a = device('a', 4000, { status: 'offline', metrics: ['t', 'p'], cadenceMs: 300_000 });
    await first.save([a], ['c']);
    // Another gateway that knows `a` only from a peer's share (no pace learned) keeps its pace.
    await first.save([{ ...a, metrics: ['t', 'p', 'q'], cadenceMs: null }], []);
    const restarted = await data.devices();
    expect(await restarted.load()).toEqual([
      device('b', 2000, { meta }),
      { ...a, metrics: ['t', 'p', 'q'] },
    ]);
  });

  it('alert store: rules, the active list and the bounded history back after a restart', async () => {
    const data = await backend();
    const first = await data.alerts();
    expect(await first.loadRules()).toBeNull();
    const rules: AlertRule[] = parseAlertRules(
      '{"rules":[{"id":"hot","kind":"threshold","metric":"t","op":"above","value":30,"severity":"major"}]}',
      'json',
    );
    await first.saveRules(rules);
    await first.saveEvents([alert('x', 1), alert('y', 2)], [alert('x', 1), alert('y', 2)], 3);
    await first.saveEvents(
      [alert('x', 3, false), alert('z', 4)],
      [alert('x', 3, false), alert('z', 4)],
      3,
    );

    const restarted = await data.alerts();
    expect(await restarted.loadRules()).toEqual(rules);
    const open = await restarted.loadOpen();
    expect(open.sort((a, b) => a.id.localeCompare(b.id))).toEqual([alert('y', 2), alert('z', 4)]);
    // The newest three, oldest first.
    expect((await restarted.loadHistory(10)).map((e) => e.updatedAt)).toEqual([2, 3, 4]);
    expect((await restarted.loadHistory(2)).map((e) => e.updatedAt)).toEqual([3, 4]);
  });

  it('alert store: a gateway starts on a saved rule its schema refuses, and writes it back as saved', async () => {
    // As an older version saved it (its schema took `loud`): several gateways share this store,
    // and each must start after the upgrade, not stop (and loop under `restart: unless-stopped`).
    const stale = { id: 'stale', kind: 'offline', severity: 'loud', scope: { all: true } };
    const [hot] = parseAlertRules(
      '{"rules":[{"id":"hot","kind":"threshold","metric":"t","op":"above","value":30,"severity":"major"}]}',
      'json',
    );
    const data = await backend();
    await (await data.alerts()).saveRules([hot, stale]);
    const gateway = new AlertsService(
      {},
      [],
      new DeviceRegistryService({ MAX_DEVICES: 10 }),
      { publishAlert: () => undefined },
      await data.alerts(),
    );
    await gateway.onModuleInit();
    expect(gateway.rules()).toEqual([hot]);
    expect(gateway.refusedStoredRules()).toEqual([{ id: 'stale', issues: [expect.any(String)] }]);
    const cold = { ...hot, id: 'cold', op: 'below', value: 0 } as AlertRule;
    await gateway.createRule(cold);
    expect(await (await data.alerts()).loadRules()).toEqual([hot, cold, stale]);
    await gateway.close();
  });

  it('alert store: events stored before they carried their kind come back with it', async () => {
    const data = await backend();
    const first = await data.alerts();
    // As a gateway from before AlertEvent.kind wrote them: the same JSON without `kind`.
    const old = (event: AlertEvent): AlertEvent => {
      const stored: StoredAlertEvent = { ...event };
      delete stored.kind;
      return stored as AlertEvent;
    };
    const quiet = {
      ...alert('q', 1),
      ruleId: 'quiet',
      kind: 'nodata',
      ruleName: 'Quiet',
      message: 'Quiet: no t for 12 s',
      value: 12_000,
      threshold: 10_000,
    } satisfies AlertEvent;
    const gone = {
      ...alert('g', 2),
      ruleId: 'gone',
      kind: 'offline',
      ruleName: 'Gone',
      metric: null,
      message: 'Gone: device offline (rule changed or removed while the gateway was down)',
      value: null,
      threshold: null,
    } satisfies AlertEvent;
    await first.saveEvents([old(quiet), old(gone)], [old(quiet), old(gone)], 10);

    const restarted = await data.alerts();
    const open = await restarted.loadOpen();
    expect(open.sort((a, b) => a.id.localeCompare(b.id))).toEqual([gone, quiet]);
    expect(await restarted.loadHistory(10)).toEqual([quiet, gone]);
  });
});

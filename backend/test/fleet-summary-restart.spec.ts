/**
 * The fleet summary after a restart: every device the gateway knew comes back with its latest
 * value per metric from the history store, before it speaks again (issue: the overview's tiles
 * showed "–" and sorting by a metric put the device last until its next reading, an hour away for
 * a battery sensor), then the live path updates it as before. Real: the backend in process on
 * the same data, mqtt.js as the devices, HTTP and a socket.io-client subscribed to the summary;
 * once on each store.
 */
import type { FleetSummary, FleetSummaryPage } from '@pulse/protocol';
import { decodeFleetSummary, DS } from '@pulse/protocol';
import {
  connectLive,
  connectMqtt,
  endMqtt,
  getJson,
  postgresAvailable,
  PostgresCluster,
  publishTelemetry,
  startPostgres,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PulseHandle } from '../src/app/pulse';
import { startTestPulse } from './support/pulse';

const MIN = 60_000;

/** Each device's values by metric name, as a summary carries them. */
function valuesOf(summary: FleetSummary): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const device of summary.devices) {
    const values: Record<string, number> = {};
    device[DS.values].forEach((value, i) => {
      if (value !== null) values[summary.metrics[i]] = value;
    });
    out[device[DS.id]] = values;
  }
  return out;
}

const ids = (devices: readonly (readonly unknown[])[]) => devices.map((d) => d[DS.id] as string);

describe.each([
  ['the SQLite file', false, true],
  ['PostgreSQL (DATABASE_URL)', true, postgresAvailable()],
])('the fleet summary after a restart on %s', (_name, withPostgres, available) => {
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

  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-summary-restart-'));
    dirs.push(dir);
    return dir;
  };

  run(
    "shows each device's stored latest values before it speaks, sorts by them, then follows new readings",
    async () => {
      // SQLite: both runs on one DATA_DIR. PostgreSQL: one database, a fresh DATA_DIR each, so
      // nothing the second run shows can come from a local file.
      const database = cluster?.createDatabase('pulse_summary_restart');
      const env = (dir: string) => ({
        DATA_DIR: dir,
        HISTORY_FLUSH_MS: '50',
        ...(database ? { DATABASE_URL: database } : {}),
      });
      const firstDir = dataDir();
      const now = Date.now();

      // ── first run: three slow reporters, each heard a few times ──
      const first = await startTestPulse(env(firstDir));
      started.push(first);
      const device = await connectMqtt(first.mqttUrl);
      // A Tasmota-like plug: every metric in each report, the newest wins.
      await publishTelemetry(device, 'plug-1', [
        { ts: now - 10 * MIN, values: { temp: 17, power: 40 } },
        { ts: now - 5 * MIN, values: { temp: 18.5, power: 42 } },
      ]);
      // A zigbee2mqtt sensor: battery in an older report than its temperature.
      await publishTelemetry(device, 'sensor-1', { ts: now - 30 * MIN, values: { battery: 87 } });
      await publishTelemetry(device, 'sensor-1', { ts: now - 2 * MIN, values: { temp: 24.25 } });
      await publishTelemetry(device, 'sensor-2', { ts: now - 3 * MIN, values: { temp: 9 } });
      await endMqtt(device);
      await waitFor(
        async () => {
          const { body } = await getJson<FleetSummaryPage>(`${first.httpUrl}/api/fleet/summary`);
          return body.devices.filter((d) => d[DS.values].length > 0).length === 3;
        },
        { message: 'the three devices with values in the first run' },
      );
      await first.close();
      started.splice(started.indexOf(first), 1);

      // ── second run on the same data: nobody has spoken yet ──
      const second = await startTestPulse(env(withPostgres ? dataDir() : firstDir));
      started.push(second);
      const api = (path: string) => `${second.httpUrl}/api${path}`;
      const stored = {
        'plug-1': { temp: 18.5, power: 42 },
        'sensor-1': { temp: 24.25, battery: 87 },
        'sensor-2': { temp: 9 },
      };
      const page = (await getJson<FleetSummaryPage>(api('/fleet/summary'))).body;
      expect(valuesOf(page)).toEqual(stored);
      // Status and last seen as the registry kept them (these devices publish no status).
      for (const row of page.devices) {
        expect(row[DS.status]).toBe('unknown');
        expect(row[DS.age]).toEqual(expect.any(Number));
      }
      const byTemp = (await getJson<FleetSummaryPage>(api('/fleet/summary?sort=metric:temp'))).body;
      expect(ids(byTemp.devices)).toEqual(['sensor-1', 'plug-1', 'sensor-2']);
      const byBattery = (
        await getJson<FleetSummaryPage>(api('/fleet/summary?sort=metric:battery&order=asc'))
      ).body;
      expect(ids(byBattery.devices)[0]).toBe('sensor-1');

      // The live summary (the overview's device store, a wall's heat map): the same in the ack.
      const live = await connectLive(second.httpUrl);
      try {
        const ack = await subscribe(live, { summary: true, history: false });
        if (!ack.ok) throw new Error(ack.error);
        const summary = decodeFleetSummary(ack.summary);
        if (!summary) throw new Error('no summary in the acknowledgement');
        expect(valuesOf(summary)).toEqual(stored);
      } finally {
        live.close();
      }

      // ── the live path: a newer reading replaces its metric, a late older one does not ──
      const again = await connectMqtt(second.mqttUrl);
      await publishTelemetry(again, 'sensor-2', { values: { temp: 30 } });
      await publishTelemetry(again, 'plug-1', { ts: now - 20 * MIN, values: { temp: 99 } });
      await endMqtt(again);
      const after = await waitFor(
        async () => {
          const { body } = await getJson<FleetSummaryPage>(api('/fleet/summary?sort=metric:temp'));
          return valuesOf(body)['sensor-2']?.temp === 30 ? body : null;
        },
        { message: "sensor-2's new reading in the summary" },
      );
      expect(valuesOf(after)).toEqual({ ...stored, 'sensor-2': { temp: 30 } });
      expect(ids(after.devices)).toEqual(['sensor-2', 'sensor-1', 'plug-1']);
      // Heard just now; the others still by their last message before the restart.
      const ageOf = (id: string) => after.devices.find((d) => d[DS.id] === id)?.[DS.age] ?? null;
      expect(ageOf('sensor-2')).toBeLessThan(10_000);
      expect(ageOf('sensor-1')).toBeGreaterThan(ageOf('sensor-2') ?? Infinity);
    },
    60_000,
  );
});

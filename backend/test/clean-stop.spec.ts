/**
 * A clean stop (SIGINT, SIGTERM: `app.close()`) keeps the last statuses. The built-in simulator
 * publishes `offline` for each of its devices when the gateway stops it, the first step of the
 * shutdown, and those statuses reached the registry after its last write (issue: after a clean
 * stop the fleet came back `unknown`). Real: the backend in process with the built simulator CLI
 * as its child (as SIMULATOR=on runs it), started again on the same data, once on each store.
 */
import type { DeviceListResponse } from '@pulse/protocol';
import {
  getJson,
  postgresAvailable,
  PostgresCluster,
  SIMULATOR_MAIN,
  startPostgres,
  waitFor,
} from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceCredentialsService } from '../src/app/device-credentials/device-credentials.service';
import { SimulatorRepository } from '../src/app/simulator/simulator.repository';
import { simulatedFleet, SIMULATOR_USERNAME } from '../src/app/simulator/simulator-identity';
import type { PulseHandle } from '../src/app/pulse';
import { startTestPulse } from './support/pulse';

const DEVICES = 3;

const simStatuses = async (pulse: PulseHandle) =>
  (await getJson<DeviceListResponse>(`${pulse.httpUrl}/api/devices`)).body.devices
    .filter((d) => d.deviceId.startsWith('sim-'))
    .map((d) => d.status);

describe.each([
  ['the SQLite file', false, true],
  ['PostgreSQL (DATABASE_URL)', true, postgresAvailable()],
])('a clean stop on %s', (_name, withPostgres, available) => {
  const run = available ? it : it.skip;
  let cluster: PostgresCluster | undefined;
  let dataDir: string;
  const started: PulseHandle[] = [];

  beforeAll(async () => {
    if (withPostgres && available) cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'pulse-clean-stop-'))));
  afterEach(async () => {
    for (const pulse of started.splice(0)) await pulse.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  run(
    'keeps the offline statuses the simulator published as it was stopped',
    async () => {
      const env = {
        DATA_DIR: dataDir,
        ...(cluster ? { DATABASE_URL: cluster.createDatabase(`pulse_stop_${Date.now()}`) } : {}),
      };
      const first = await startTestPulse(env);
      started.push(first);
      // As PulseRuntime starts it with SIMULATOR=on (its own identity, the built CLI), on the
      // gateway's own SimulatorRepository: the shutdown stops it first.
      const password = first.app
        .get(DeviceCredentialsService)
        .registerService(SIMULATOR_USERNAME, simulatedFleet(DEVICES));
      first.app.get(SimulatorRepository).start({
        mqttUrl: first.mqttUrl,
        devices: DEVICES,
        rate: 1,
        script: SIMULATOR_MAIN,
        login: { username: SIMULATOR_USERNAME, password, dir: dataDir },
      });
      await waitFor(
        async () => {
          const statuses = await simStatuses(first);
          return statuses.length === DEVICES && statuses.every((s) => s === 'online');
        },
        { timeoutMs: 15_000, message: `${DEVICES} simulated devices online` },
      );

      await first.close();
      started.pop();

      const second = await startTestPulse(env);
      started.push(second);
      expect(await simStatuses(second)).toEqual(Array(DEVICES).fill('offline'));
    },
    60_000,
  );
});

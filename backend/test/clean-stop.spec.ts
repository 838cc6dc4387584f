/**
 * A clean stop (SIGINT, SIGTERM: `app.close()`) keeps what its last moments changed. The built-in
 * simulator publishes `offline` for each of its devices when the gateway stops it, the first
 * step of the shutdown, and those statuses reached the registry after its last write (issue:
 * after a clean stop the fleet came back `unknown`); an alert raised by what the ingest took in
 * those moments reached the alerts after theirs (it came back as a new episode, or not at all).
 * An offline the gateway caused by stopping its own simulator raises no alert, at the stop or
 * after the restart. Real: the backend in process with the built simulator CLI as its child (as
 * SIMULATOR=on runs it), started again on the same data, once on each store.
 */
import { AlertEvent, AlertRuleInput, DeviceListResponse } from '@pulse/protocol';
import {
  connectMqtt,
  getJson,
  postgresAvailable,
  PostgresCluster,
  publish,
  publishTelemetry,
  SIMULATOR_MAIN,
  startPostgres,
  waitFor,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertsService } from '../src/app/alerts/alerts.service';
import { DeviceCredentialsService } from '../src/app/device-credentials/device-credentials.service';
import { DeviceRegistryService } from '../src/app/devices/device-registry.service';
import { SimulatorRepository } from '../src/app/simulator/simulator.repository';
import { simulatedFleet, SIMULATOR_USERNAME } from '../src/app/simulator/simulator-identity';
import type { PulseHandle } from '../src/app/pulse';
import { startTestPulse } from './support/pulse';

const DEVICES = 3;

const simStatuses = async (pulse: PulseHandle) =>
  (await getJson<DeviceListResponse>(`${pulse.httpUrl}/api/devices`)).body.devices
    .filter((d) => d.deviceId.startsWith('sim-'))
    .map((d) => d.status);

/** Raises the moment a device says `offline`: the strictest rule a stop can set off. */
const GONE_NOW: AlertRuleInput = { id: 'gone-now', kind: 'offline', forMs: 0, severity: 'major' };

describe.each([
  ['the SQLite file', false, true],
  ['PostgreSQL (DATABASE_URL)', true, postgresAvailable()],
])('a clean stop on %s', (_name, withPostgres, available) => {
  const run = available ? it : it.skip;
  let cluster: PostgresCluster | undefined;
  let dataDir: string;
  const started: PulseHandle[] = [];
  const devices: MqttClient[] = [];

  beforeAll(async () => {
    if (withPostgres && available) cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'pulse-clean-stop-'))));
  afterEach(async () => {
    for (const device of devices.splice(0)) device.end(true);
    for (const pulse of started.splice(0)) await pulse.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const storeEnv = (): Record<string, string> => ({
    DATA_DIR: dataDir,
    ...(cluster ? { DATABASE_URL: cluster.createDatabase(`pulse_stop_${Date.now()}`) } : {}),
  });

  /**
   * A gateway with the built simulator as its child, as PulseRuntime starts it with SIMULATOR=on
   * (its own identity, the built CLI), on the gateway's own SimulatorRepository: the shutdown
   * stops it first. Resolves once its devices are online.
   */
  async function startWithSimulator(env: Record<string, string>): Promise<PulseHandle> {
    const pulse = await startTestPulse(env);
    started.push(pulse);
    const password = pulse.app
      .get(DeviceCredentialsService)
      .registerService(SIMULATOR_USERNAME, simulatedFleet(DEVICES));
    pulse.app.get(SimulatorRepository).start({
      mqttUrl: pulse.mqttUrl,
      devices: DEVICES,
      rate: 1,
      script: SIMULATOR_MAIN,
      login: { username: SIMULATOR_USERNAME, password, dir: dataDir },
    });
    await waitFor(
      async () => {
        const statuses = await simStatuses(pulse);
        return statuses.length === DEVICES && statuses.every((s) => s === 'online');
      },
      { timeoutMs: 15_000, message: `${DEVICES} simulated devices online` },
    );
    return pulse;
  }

  const stop = async (pulse: PulseHandle) => {
    await pulse.close();
    started.splice(started.indexOf(pulse), 1);
  };

  run(
    'keeps the offline statuses the simulator published as it was stopped',
    async () => {
      const env = storeEnv();
      await stop(await startWithSimulator(env));

      const second = await startTestPulse(env);
      started.push(second);
      expect(await simStatuses(second)).toEqual(Array(DEVICES).fill('offline'));
    },
    60_000,
  );

  run(
    'keeps the alert a device raised as the gateway stopped, and raises none for the simulated devices it stopped itself',
    async () => {
      const rulesFile = join(dataDir, 'rules.json');
      writeFileSync(rulesFile, JSON.stringify({ rules: [GONE_NOW] }));
      const env = { ...storeEnv(), ALERT_RULES_FILE: rulesFile };
      const first = await startWithSimulator(env);
      const registry = first.app.get(DeviceRegistryService);
      const device = await connectMqtt(first.mqttUrl, { clientId: 'plug-1' });
      devices.push(device);
      await publish(device, 'devices/plug-1/status', 'online', 1, true);
      await publishTelemetry(device, 'plug-1', { values: { power: 12 } });
      await waitFor(() => registry.get('plug-1')?.status === 'online', {
        message: 'plug-1 online',
      });

      // While the gateway stops its simulator (the ingest still running), a device of the
      // operator's goes offline: a real incident, taken after the alerts' old last write.
      const simulator = first.app.get(SimulatorRepository);
      const stopSimulator = simulator.stop.bind(simulator);
      jest.spyOn(simulator, 'stop').mockImplementation(async () => {
        await publish(device, 'devices/plug-1/status', 'offline', 1, true);
        await waitFor(() => registry.get('plug-1')?.status === 'offline', {
          message: 'plug-1 offline',
        });
        await stopSimulator();
      });
      const alerts = first.app.get(AlertsService);
      await stop(first);
      const atStop: AlertEvent[] = alerts.active();

      // Started again as it runs: with its simulator (SIMULATOR=on, the same fleet), which brings
      // those devices back; until they speak, their restored `offline` raises nothing.
      const second = await startTestPulse(env, { SIMULATOR: 'on', SIMULATOR_DEVICES: DEVICES });
      started.push(second);
      const restored = second.app.get(AlertsService);
      // What the store holds is what the alerts were at the end of the stop: the same alert
      // (same id, same raise), not one raised again from the registry's status at boot.
      expect(restored.active()).toEqual(atStop);
      expect(atStop).toEqual([
        expect.objectContaining({ ruleId: 'gone-now', deviceId: 'plug-1', state: 'raised' }),
      ]);
      expect(restored.history({ limit: 100 }).map((e) => `${e.deviceId} ${e.state}`)).toEqual([
        'plug-1 raised',
      ]);
    },
    60_000,
  );
});

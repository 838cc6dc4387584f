// The real simulator CLI, as built by `nx build simulator` (the backend test target depends on
// it), against the real backend: the scenarios are written against the backend's DEFAULT_RULES
// and this is where the two meet. Spawning the bundle keeps backend tests off simulator source.
import type { AlertEvent } from '@pulse/protocol';
import {
  collectAlerts,
  SimulatorProcess,
  startSimulatorCli,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { usePulse } from './support/pulse';

/** When the CLI wrote its banner: it does so just before the fleet (and the scenario clock) starts. */
async function started(sim: SimulatorProcess, what: string): Promise<number> {
  let bannerAt = 0;
  sim.child.stderr?.once('data', () => (bannerAt = Date.now()));
  return waitFor(
    () => {
      if (sim.child.exitCode !== null)
        throw new Error(`exited with ${sim.child.exitCode}:\n${sim.output}`);
      return bannerAt;
    },
    { message: `the ${what} simulator to start` },
  );
}

// Real: backend with its DEFAULT_RULES (no ALERT_RULES_FILE), embedded Aedes, three simulator
// processes running one scenario each over real MQTT connections (Last Will included), a
// socket.io client watching the fleet.
describe('simulator alert scenarios against the backend and its default rules', () => {
  const simulators: SimulatorProcess[] = [];
  // Declared before usePulse (jest runs afterAll hooks in order): the devices leave first.
  afterAll(async () => {
    await Promise.all(simulators.map((sim) => sim.stop()));
  });
  const backend = usePulse();

  it('spike raises vibration-spike after 2 s and vibration-high after its 5 s; offline raises device-offline through the Last Will; flatline raises no-data', async () => {
    const watcher = await backend.live();
    await subscribe(watcher, { fleet: true, history: false });
    const alerts = collectAlerts(watcher);
    // When each alert arrived: the starts are seconds apart, so the awaits below end late.
    const arrivedAt = new Map<string, number>();
    watcher.on('alert', (event) => arrivedAt.set(`${event.id} ${event.state}`, Date.now()));
    const since = (event: AlertEvent, start: number) =>
      (arrivedAt.get(`${event.id} ${event.state}`) ?? Date.now()) - start;
    const online = new Set<string>();
    watcher.on('devices', (list) =>
      list.forEach((info) => info.status === 'online' && online.add(info.deviceId)),
    );
    const run = async (prefix: string, scenario: 'spike' | 'offline' | 'flatline') => {
      const sim = startSimulatorCli([
        ...['--url', backend.pulse.mqttUrl, '--devices', '1', '--rate', '2'],
        ...['--prefix', prefix, '--scenario', scenario],
      ]);
      simulators.push(sim);
      const startedAt = await started(sim, scenario);
      // One start at a time: a cold node process on a busy machine needs its CPU to connect
      // before its episode begins at 2 s, or the readings before it are never sent.
      await waitFor(() => online.has(`${prefix}-001`), { message: `${prefix}-001 online` });
      return startedAt;
    };
    // The episodes overlap, spike last: the test is over before its temperature-high (12 s in).
    const flatStart = await run('sc-flat', 'flatline');
    const offStart = await run('sc-off', 'offline');
    const spikeStart = await run('sc-spike', 'spike');
    const raised = (ruleId: string, deviceId: string) =>
      alerts
        .waitForEvent(
          (e) => e.ruleId === ruleId && e.deviceId === deviceId && e.state === 'raised',
          `${ruleId} on ${deviceId}`,
          15_000,
        )
        .catch((error: Error) => {
          // The CLIs' progress lines tell whether readings were skipped while they connected.
          throw new Error(`${error.message}\n${simulators.map((sim) => sim.output).join('\n')}`);
        });
    const spike = await raised('vibration-spike', 'sc-spike-001');
    const spikeAt = since(spike, spikeStart);
    expect(spike).toMatchObject({ severity: 'minor', metric: 'vibration' });
    expect(spike.value).toBeGreaterThan(5);
    const high = await raised('vibration-high', 'sc-spike-001');
    const highAt = since(high, spikeStart);
    expect(high).toMatchObject({ severity: 'major', value: 10, threshold: 4 });
    const offline = await raised('device-offline', 'sc-off-001');
    const offlineAt = since(offline, offStart);
    expect(offline).toMatchObject({ severity: 'critical', metric: null });
    console.log(
      `scenario alerts after start: vibration-spike ${(spikeAt / 1000).toFixed(1)} s, vibration-high ${(highAt / 1000).toFixed(1)} s, device-offline ${(offlineAt / 1000).toFixed(1)} s`,
    );

    const silent = await raised('no-data', 'sc-flat-001');
    const silentAt = since(silent, flatStart);
    expect(silent).toMatchObject({ severity: 'minor', threshold: 10_000 });
    console.log(`scenario no-data after start: ${(silentAt / 1000).toFixed(1)} s`);

    // The episodes start at 2 s; the rules' durations decide the rest.
    // vibration-spike holds its rate condition 2 s (forMs) before raising.
    expect(spikeAt).toBeGreaterThanOrEqual(3900);
    expect(spikeAt).toBeLessThan(6500);
    expect(highAt).toBeGreaterThanOrEqual(6900);
    expect(highAt).toBeLessThan(9500);
    expect(offlineAt).toBeGreaterThanOrEqual(6900);
    expect(offlineAt).toBeLessThan(10_000);
    // Last reading just before 2 s, then 10 s of silence (no-data's silenceMs), seen by the 1 s tick.
    expect(silentAt).toBeGreaterThanOrEqual(11_000);
    expect(silentAt).toBeLessThan(14_500);
    // Nothing else fired: the scenario devices are quiet outside their episodes.
    const rules = new Set(alerts.events.map((e) => `${e.ruleId} ${e.deviceId}`));
    expect([...rules].sort()).toEqual([
      'device-offline sc-off-001',
      'no-data sc-flat-001',
      'vibration-high sc-spike-001',
      'vibration-spike sc-spike-001',
    ]);
  }, 40_000); // 25 s of scenario and waiting, plus starting three node processes on a loaded machine
});

// The real simulator, driven programmatically against the real backend: the scenarios are
// written against the backend's DEFAULT_RULES and this is where the two meet. Test-only
// cross-project import (apps may otherwise only depend on the contract library).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { DEFAULTS } from '../../simulator/src/app/config';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { runSimulator, Simulator } from '../../simulator/src/app/simulator';
import { PulseHandle } from '../src/app/pulse';
import { closeLive, collectAlerts, connectLive, LiveClient, subscribe } from './support/clients';
import { startTestPulse } from './support/pulse';

// Real: backend with its DEFAULT_RULES (no ALERT_RULES_FILE), embedded Aedes, the simulator's
// scenarios over real MQTT connections (Last Will included), a socket.io client watching the fleet.
describe('simulator alert scenarios against the backend and its default rules', () => {
  let pulse: PulseHandle;
  let watcher: LiveClient;
  const simulators: Simulator[] = [];

  beforeAll(async () => {
    pulse = await startTestPulse();
    watcher = await connectLive(pulse.httpUrl);
    await subscribe(watcher, { fleet: true, history: false });
  });

  afterAll(async () => {
    await Promise.all(simulators.map((sim) => sim.stop()));
    await closeLive(watcher);
    await pulse?.close();
  });

  it('spike raises vibration-spike after 2 s and vibration-high after its 5 s; offline raises device-offline through the Last Will; flatline raises no-data', async () => {
    const alerts = collectAlerts(watcher);
    const startedAt = Date.now();
    const run = (prefix: string, scenario: 'spike' | 'offline' | 'flatline') => {
      const sim = runSimulator({
        ...DEFAULTS,
        url: pulse.mqttUrl,
        devices: 1,
        rate: 2,
        prefix,
        scenario,
        quiet: true,
      });
      simulators.push(sim);
      return sim;
    };
    // Both at once: the offline rule's 5 s and vibration-high's 5 s run side by side.
    run('sc-spike', 'spike');
    run('sc-off', 'offline');
    run('sc-flat', 'flatline');
    const raised = (ruleId: string, deviceId: string) =>
      alerts.waitForEvent(
        (e) => e.ruleId === ruleId && e.deviceId === deviceId && e.state === 'raised',
        `${ruleId} on ${deviceId}`,
        15_000,
      );
    const spike = await raised('vibration-spike', 'sc-spike-001');
    const spikeAt = Date.now() - startedAt;
    expect(spike).toMatchObject({ severity: 'minor', metric: 'vibration' });
    expect(spike.value).toBeGreaterThan(5);
    const high = await raised('vibration-high', 'sc-spike-001');
    const highAt = Date.now() - startedAt;
    expect(high).toMatchObject({ severity: 'major', value: 10, threshold: 4 });
    const offline = await raised('device-offline', 'sc-off-001');
    const offlineAt = Date.now() - startedAt;
    expect(offline).toMatchObject({ severity: 'critical', metric: null });
    console.log(
      `scenario alerts after start: vibration-spike ${(spikeAt / 1000).toFixed(1)} s, vibration-high ${(highAt / 1000).toFixed(1)} s, device-offline ${(offlineAt / 1000).toFixed(1)} s`,
    );

    const silent = await raised('no-data', 'sc-flat-001');
    const silentAt = Date.now() - startedAt;
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
  }, 25_000);
});

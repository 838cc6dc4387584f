import { DeviceModel, DeviceStep } from './device-model';
import { createFleet } from './fleet';
import { mulberry32 } from './random';
import { SCENARIO_NAMES, SCENARIO_TIMELINE, ScenarioName, scenarioEffect } from './scenario';

/** The backend's DEFAULT_RULES levels the scenarios are written against. */
const RULES = {
  temperatureHigh: 68,
  temperatureClear: 66,
  vibrationHigh: 4,
  vibrationClear: 3,
  spikeDelta: 5,
};
const START = Date.UTC(2026, 0, 15, 8, 0, 0);

/** One step per second of a scripted device, from the start of the run. */
function play(name: ScenarioName, seconds: number): Array<{ s: number; step: DeviceStep }> {
  const device = new DeviceModel(
    { id: 'sc-001', kind: 'machine', group: 'hall-a', name: 'x' },
    mulberry32(1),
    undefined,
    { name, startedAt: START },
  );
  return Array.from({ length: seconds + 1 }, (_, s) => ({
    s,
    step: device.step(START + s * 1000),
  }));
}
const valueAt = (steps: ReturnType<typeof play>, s: number, metric: string): number => {
  const step = steps[s].step;
  if (step.type !== 'reading') throw new Error(`no reading at ${s} s: ${step.type}`);
  return step.values[metric];
};

describe('alert scenarios (pure script, fake time)', () => {
  it('every scenario is quiet before 2 s and after its episode: below every clear level', () => {
    for (const name of SCENARIO_NAMES) {
      const { endMs } = SCENARIO_TIMELINE[name];
      for (const ms of [0, 1000, 1999, endMs, endMs + 60_000]) {
        const effect = scenarioEffect(name, ms);
        expect(effect.type).toBe('values');
        if (effect.type !== 'values') continue;
        expect(effect.values['temperature']).toBeLessThan(RULES.temperatureClear);
        expect(effect.values['vibration']).toBeLessThan(RULES.vibrationClear);
      }
    }
  });

  it('spike: temperature and vibration jump above their levels at 2 s, hold for 20 s (longer than forMs 10 s), then return', () => {
    const steps = play('spike', 30);
    expect(valueAt(steps, 1, 'vibration')).toBeLessThan(RULES.vibrationClear);
    for (let s = 2; s < 22; s++) {
      expect(valueAt(steps, s, 'temperature')).toBeGreaterThan(RULES.temperatureHigh);
      expect(valueAt(steps, s, 'vibration')).toBeGreaterThan(RULES.vibrationHigh);
    }
    // The jump trips the rate rule (more than +5 within 5 s).
    expect(valueAt(steps, 2, 'vibration') - valueAt(steps, 1, 'vibration')).toBeGreaterThan(
      RULES.spikeDelta,
    );
    expect(valueAt(steps, 22, 'temperature')).toBeLessThan(RULES.temperatureClear);
    expect(valueAt(steps, 22, 'vibration')).toBeLessThan(RULES.vibrationClear);
    // The machine's other metric keeps its natural model.
    expect(valueAt(steps, 5, 'power')).toBeGreaterThan(0);
  });

  it('drift: crosses 68 °C at 18 s slowly (no rate rule), peaks at 74 °C and falls below 66 °C at 46 s', () => {
    const steps = play('drift', 70);
    const temperature = steps.map((_, s) => valueAt(steps, s, 'temperature'));
    expect(temperature.findIndex((t) => t > RULES.temperatureHigh)).toBe(19);
    expect(Math.max(...temperature)).toBe(74);
    const peak = temperature.indexOf(74);
    expect(temperature.findIndex((t, s) => s > peak && t < RULES.temperatureClear)).toBe(47);
    // Above 68 for 27 s: longer than temperature-high's forMs of 10 s.
    expect(temperature.filter((t) => t > RULES.temperatureHigh).length).toBeGreaterThan(20);
    const steepest = Math.max(
      ...temperature.slice(3, 58).map((t, i) => Math.abs(t - temperature[i + 2])),
    );
    expect(steepest).toBeLessThanOrEqual(0.5 + 1e-9);
  });

  it('flatline: connected but silent from 2 s to 22 s (no-data after 10 s), then readings again', () => {
    const types = play('flatline', 25).map(({ step }) => step.type);
    expect(types.slice(0, 2)).toEqual(['reading', 'reading']);
    expect(types.slice(2, 22)).toEqual(Array(20).fill('silent'));
    expect(types.slice(22)).toEqual(['reading', 'reading', 'reading', 'reading']);
  });

  it('offline: drops its connection at 2 s (Last Will), silent, back online at 22 s, then readings', () => {
    const steps = play('offline', 25);
    expect(steps[2].step).toEqual({ type: 'offline', until: START + 22_000 });
    expect(steps.slice(3, 22).map(({ step }) => step.type)).toEqual(Array(19).fill('silent'));
    expect(steps[22].step.type).toBe('online');
    expect(steps[23].step.type).toBe('reading');
  });

  it('is the same every run: a function of time only', () => {
    expect(play('spike', 25)).toEqual(play('spike', 25));
    expect(play('drift', 25)).toEqual(play('drift', 25));
  });

  it('is played by the first device, always a machine; the other devices are unchanged', () => {
    const plain = createFleet({ count: 6, prefix: 'sim', seed: 42 });
    const scripted = createFleet({
      count: 6,
      prefix: 'sim',
      seed: 42,
      scenario: { name: 'spike', startedAt: START },
    });
    expect(scripted[0].kind).toBe('machine');
    expect(scripted[0].scenario).toEqual({ name: 'spike', startedAt: START });
    expect(scripted.slice(1).map((d) => [d.id, d.kind, d.group, d.scenario])).toEqual(
      plain.slice(1).map((d) => [d.id, d.kind, d.group, null]),
    );
    const at = START + 5000;
    expect(scripted.slice(1).map((d) => d.step(at))).toEqual(plain.slice(1).map((d) => d.step(at)));
  });
});

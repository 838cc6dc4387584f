import { DeviceMeta } from '@pulse/protocol';
import {
  Co2Generator,
  CurrentGenerator,
  EnergyGenerator,
  HumidityGenerator,
  MetricGenerator,
  perInterval,
  PowerGenerator,
  PressureGenerator,
  TemperatureGenerator,
  VibrationGenerator,
  VoltageGenerator,
} from './metrics';
import { chance, RandomSource, uniform } from './random';
import { ScenarioName, scenarioEffect } from './scenario';

export const DEVICE_KINDS = ['env-sensor', 'power-meter', 'machine'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export interface DeviceBehaviour {
  /** Length of the compressed "day" of the temperature sinusoid, in ms. */
  periodMs: number;
  /** Chance that a reading is lost (not sent), 0..1. */
  dropout: number;
  /** Chance per second of going offline, 0..1. */
  offlinePerSecond: number;
  /** How long an outage lasts, in ms: uniform in [min, max]. */
  offlineMs: readonly [number, number];
  /** Chance per vibration sample of a spike. */
  spikeProbability: number;
}

export const DEFAULT_BEHAVIOUR: DeviceBehaviour = {
  periodMs: 10 * 60_000,
  dropout: 0,
  offlinePerSecond: 0,
  offlineMs: [5_000, 30_000],
  spikeProbability: 0.01,
};

/** What a device does at one sample time. */
export type DeviceStep =
  | { type: 'reading'; values: Record<string, number> }
  /** The reading is lost (radio dropout): nothing is sent. */
  | { type: 'dropout' }
  /** The device just went offline until `until`: drop its connection (or publish `offline`). */
  | { type: 'offline'; until: number }
  /** Still offline: nothing is sent. */
  | { type: 'silent' }
  /** Back from an outage: reconnect (or publish `online`); readings resume next step. */
  | { type: 'online' };

/** A scripted alert scenario played by this device (see scenario.ts), timed from `startedAt`. */
export interface DeviceScenario {
  name: ScenarioName;
  startedAt: number;
}

export interface DeviceSpec {
  id: string;
  kind: DeviceKind;
  group: string;
  name: string;
}

/**
 * One simulated device: its metrics and its connectivity. Pure: time comes in
 * as an argument and randomness from its own seeded source, so the same seed
 * and the same sample times give the same readings.
 */
export class DeviceModel {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly group: string;
  readonly name: string;
  readonly generators: readonly MetricGenerator[];
  private offlineUntil: number | null = null;
  private lastStep: number | null = null;

  constructor(
    spec: DeviceSpec,
    private readonly random: RandomSource,
    private readonly behaviour: DeviceBehaviour = DEFAULT_BEHAVIOUR,
    /** Scripted: its episode replaces random dropouts and outages. */
    readonly scenario: DeviceScenario | null = null,
  ) {
    this.id = spec.id;
    this.kind = spec.kind;
    this.group = spec.group;
    this.name = spec.name;
    this.generators = createGenerators(spec.kind, random, behaviour);
  }

  get online(): boolean {
    return this.offlineUntil === null;
  }

  /** Units per metric, for the retained meta. */
  units(): Record<string, string> {
    const units: Record<string, string> = {};
    for (const g of this.generators) units[g.name] = g.unit;
    return units;
  }

  meta(intervalMs: number): DeviceMeta {
    return {
      name: this.name,
      group: this.group,
      units: this.units(),
      intervalMs: Math.max(1, Math.round(intervalMs)),
    };
  }

  /** Sample every metric at `t`, ignoring dropouts and outages (load mode). */
  sample(t: number): Record<string, number> {
    const values: Record<string, number> = {};
    for (const g of this.generators) values[g.name] = g.next(t, values);
    return values;
  }

  /** Advance to sample time `t`: a reading, a dropout, or an outage transition. */
  step(t: number): DeviceStep {
    const dtS = this.lastStep === null ? 0 : Math.max(0, (t - this.lastStep) / 1000);
    this.lastStep = t;
    if (this.offlineUntil !== null) {
      if (t < this.offlineUntil) return { type: 'silent' };
      this.offlineUntil = null;
      return { type: 'online' };
    }
    if (this.scenario) return this.scriptedStep(t, this.scenario);
    if (chance(this.random, perInterval(this.behaviour.offlinePerSecond, dtS))) {
      const [min, max] = this.behaviour.offlineMs;
      this.offlineUntil = t + Math.round(uniform(this.random, min, max));
      return { type: 'offline', until: this.offlineUntil };
    }
    // The physical process goes on whether or not the reading gets through.
    const values = this.sample(t);
    if (chance(this.random, this.behaviour.dropout)) return { type: 'dropout' };
    return { type: 'reading', values };
  }

  private scriptedStep(t: number, scenario: DeviceScenario): DeviceStep {
    const effect = scenarioEffect(scenario.name, t - scenario.startedAt);
    if (effect.type === 'offline') {
      this.offlineUntil = scenario.startedAt + effect.until;
      return { type: 'offline', until: this.offlineUntil };
    }
    const values = this.sample(t);
    if (effect.type === 'silent') return { type: 'silent' };
    for (const metric in effect.values)
      if (metric in values) values[metric] = effect.values[metric];
    return { type: 'reading', values };
  }
}

function createGenerators(
  kind: DeviceKind,
  random: RandomSource,
  b: DeviceBehaviour,
): MetricGenerator[] {
  const phase = random.next();
  switch (kind) {
    case 'env-sensor': {
      const base = uniform(random, 19, 24);
      const temperature = new TemperatureGenerator(
        { base, amplitude: uniform(random, 1.5, 4), periodMs: b.periodMs, phase, noise: 0.08 },
        random,
      );
      return [
        temperature,
        new HumidityGenerator(temperature, uniform(random, 35, 55), random),
        new PressureGenerator(random),
        new Co2Generator(random),
      ];
    }
    case 'power-meter': {
      const scale = uniform(random, 0.5, 2);
      const power = new PowerGenerator(
        random,
        [40, 600, 1800, 3200].map((w) => Math.round(w * scale)),
      );
      return [
        power,
        new VoltageGenerator(random),
        new CurrentGenerator(),
        new EnergyGenerator(power, random),
      ];
    }
    case 'machine':
      return [
        new VibrationGenerator(
          {
            base: uniform(random, 0.6, 1.6),
            noise: 0.25,
            spikeProbability: b.spikeProbability,
            anomalyPerSecond: 1 / 600,
          },
          random,
        ),
        new TemperatureGenerator(
          {
            name: 'temperature',
            base: uniform(random, 45, 65),
            amplitude: 4,
            periodMs: b.periodMs,
            phase,
            noise: 0.3,
          },
          random,
        ),
        new PowerGenerator(random, [150, 2200, 5500, 7500], 1 / 60, 0.05),
      ];
  }
}

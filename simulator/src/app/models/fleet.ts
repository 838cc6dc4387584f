// Which devices a run has: ids, kinds, groups and display names, each seeded from `--seed` and
// its index so a big fleet starts with the same devices as a small one, and the scenario's device.
// Owns the roster only; how a device behaves is DeviceModel's (device-model.ts), when it samples
// and publishes the fleet loop's (simulator.ts).
import {
  DEFAULT_BEHAVIOUR,
  DeviceBehaviour,
  DeviceKind,
  DeviceModel,
  DeviceScenario,
} from './device-model';
import { deriveSeed, mulberry32, pick, RandomSource } from './random';

export interface FleetOptions {
  count: number;
  /** Device ids are `${prefix}-${nnn}`, numbered from 1 and zero-padded to at least 3 digits. */
  prefix: string;
  seed: number;
  behaviour?: Partial<DeviceBehaviour>;
  /** Played by the first device, which is then always a machine (it has temperature and vibration). */
  scenario?: DeviceScenario;
}

/** The built-in fleet's id prefix (`sim-001`…). */
export const DEFAULT_PREFIX = 'sim';

const KIND_LABEL: Record<DeviceKind, string> = {
  'env-sensor': 'Env sensor',
  'power-meter': 'Power meter',
  machine: 'Machine',
};
/** Where each kind of device is installed. */
const KIND_GROUPS: Record<DeviceKind, readonly string[]> = {
  'env-sensor': ['hall-a', 'hall-b', 'lab', 'office'],
  'power-meter': ['hall-a', 'hall-b', 'lab'],
  machine: ['hall-a', 'hall-b'],
};
const GROUP_LABEL: Record<string, string> = {
  'hall-a': 'Hall A',
  'hall-b': 'Hall B',
  lab: 'Lab',
  office: 'Office',
};

export function deviceId(prefix: string, index: number, count: number): string {
  return `${prefix}-${String(index + 1).padStart(Math.max(3, String(count).length), '0')}`;
}

/** Half environment sensors, a quarter power meters, a quarter machines. */
function pickKind(random: RandomSource): DeviceKind {
  const r = random.next();
  return r < 0.5 ? 'env-sensor' : r < 0.75 ? 'power-meter' : 'machine';
}

/**
 * Build a reproducible fleet: device `i` (kind, group, readings) depends only
 * on `seed` and `i`, so the first 12 devices of a 10 000-device fleet behave
 * like the 12 of a 12-device one (only the zero-padding of their ids differs).
 */
export function createFleet(options: FleetOptions): DeviceModel[] {
  const behaviour: DeviceBehaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  const devices: DeviceModel[] = [];
  for (let i = 0; i < options.count; i++) {
    const random = mulberry32(deriveSeed(options.seed, i));
    const picked = pickKind(random); // drawn anyway: the other devices stay the same with or without a scenario
    const scripted = i === 0 && options.scenario !== undefined;
    const kind: DeviceKind = scripted ? 'machine' : picked;
    const group = pick(random, KIND_GROUPS[kind]);
    const id = deviceId(options.prefix, i, options.count);
    // The built-in fleet's are "Power meter 001 · Hall A"; another prefix's keep it in the name
    // ("Power meter lab-001 · Hall A"), or the two fleets' devices would look alike on a screen.
    const number = options.prefix === DEFAULT_PREFIX ? id.slice(options.prefix.length + 1) : id;
    const name = `${KIND_LABEL[kind]} ${number} · ${GROUP_LABEL[group] ?? group}`;
    devices.push(
      new DeviceModel(
        { id, kind, group, name },
        random,
        behaviour,
        scripted ? (options.scenario ?? null) : null,
      ),
    );
  }
  return devices;
}

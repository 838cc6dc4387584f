import { Co2Generator, MetricGenerator, PressureGenerator, VibrationGenerator } from './metrics';
import { mulberry32 } from './random';

/** A fake clock: the simulator's first run starts here and samples once a second. */
const START = Date.UTC(2026, 0, 15, 8, 0, 0);
const SEEDS = [1, 7, 42, 2024, 31_337];
/** When the simulator restarts, after START: early, mid-walk, and hours into the run. */
const RESTARTS_S = [10, 610, 1_357, 3_600, 2 * 3_600 + 45, 5 * 3_600 + 1_234];

interface Jump {
  seed: number;
  restartS: number;
  running: number;
  restarted: number;
}

/**
 * Runs one generator per seed from START, once a second, and builds a fresh one with the same
 * seed at each restart time (what a restarted simulator does): the readings at the restart whose
 * difference exceeds `tolerance`.
 */
function restartJumps(
  make: (seed: number) => MetricGenerator,
  tolerance: number,
  restartsS = RESTARTS_S,
): Jump[] {
  const jumps: Jump[] = [];
  const lastS = Math.max(...restartsS);
  for (const seed of SEEDS) {
    const running = make(seed);
    const at = new Map<number, number>();
    for (let s = 0; s <= lastS; s++) at.set(s, running.next(START + s * 1000, {}));
    for (const restartS of restartsS) {
      const restarted = make(seed).next(START + restartS * 1000, {});
      const before = at.get(restartS) ?? NaN;
      if (!(Math.abs(restarted - before) <= tolerance))
        jumps.push({ seed, restartS, running: before, restarted });
    }
  }
  return jumps;
}

describe('a generator built fresh at a restart reads what the running one reads, up to its noise', () => {
  it('pressure: the weather trend carries on; only the 0.03 hPa sample noise differs', () => {
    // Two independent samples of 0.03 hPa noise differ by more than 0.25 hPa about once in 10^8.
    expect(restartJumps((seed) => new PressureGenerator(mulberry32(seed)), 0.25)).toEqual([]);
  });

  it('co2: occupancy, the air’s response and the sensor drift carry on; only the 3 ppm noise differs', () => {
    // Two independent samples of 3 ppm noise differ by more than 25 ppm about once in 10^9.
    expect(restartJumps((seed) => new Co2Generator(mulberry32(seed)), 25)).toEqual([]);
  });

  it('vibration: an anomaly episode under way goes on after the restart', () => {
    // No noise, no knocks: the reading is the base, or three times it during an episode.
    const quiet = { base: 1, noise: 0, spikeProbability: 0, anomalyPerSecond: 1 / 60 };
    const everyFewSeconds = Array.from({ length: 500 }, (_, i) => 7 * i + 3);
    expect(
      restartJumps((seed) => new VibrationGenerator(quiet, mulberry32(seed)), 0, everyFewSeconds),
    ).toEqual([]);
  });
});

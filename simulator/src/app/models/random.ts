/**
 * Seeded pseudo-random numbers, so a fleet is reproducible from `--seed`.
 * mulberry32: 32-bit state, tiny and fast, good enough for simulated noise
 * (not for anything security related).
 * @see https://gist.github.com/tommyettinger/46a874533244883189143505d203312c
 */
export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
}

// Read once: a global's lookup costs more than the arithmetic here in a vm context (Jest's).
const { imul, sqrt, log, cos, PI } = Math;

export function mulberry32(seed: number): RandomSource {
  return new Mulberry32(seed);
}

/**
 * mulberry32 as a class, whose `reseed` starts another sequence in place: the draws seeded by a
 * time slot or a knot (metrics.ts) take thousands a second, a fresh generator's first sample
 * hundreds at once, and a new closure each was most of their cost (and garbage).
 */
export class Mulberry32 implements RandomSource {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  reseed(seed: number): this {
    this.state = seed >>> 0;
    return this;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/**
 * Mix a seed with a stream number (e.g. a device index) so every device gets
 * its own independent sequence: device 7 reads the same with 10 or 10 000 devices.
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Uniform in [min, max). */
export function uniform(random: RandomSource, min: number, max: number): number {
  return min + (max - min) * random.next();
}

/** Standard normal (Box–Muller). */
export function gaussian(random: RandomSource): number {
  const u = 1 - random.next(); // (0, 1]: log(0) is -Infinity
  const v = random.next();
  return sqrt(-2 * log(u)) * cos(2 * PI * v);
}

/** True with probability `p`. */
export function chance(random: RandomSource, p: number): boolean {
  return p > 0 && random.next() < p;
}

/** One element, uniformly. */
export function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[Math.floor(random.next() * items.length)];
}

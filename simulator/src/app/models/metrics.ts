import { chance, deriveSeed, gaussian, Mulberry32, RandomSource, uniform } from './random';

/**
 * Metric generators: small processes sampled at time `t`.
 * They read time only from the `t` they are given (no clock of their own) and
 * randomness only from the device's seeded source, so a seed replays exactly.
 * Their slow parts (load cycles, weather, occupancy, drift, anomaly episodes) are
 * functions of `t` and keys drawn from that source, not of the samples so far, so
 * a simulator restarted with the same seed carries on where the previous run
 * would be; only the per-sample noise differs. Time-based rates are "per second
 * of simulated time", so a lower `--rate` gives the same curves with fewer points.
 */
export interface MetricGenerator {
  readonly name: string;
  readonly unit: string;
  /** Value at time `t` (ms). `values` holds the metrics already sampled for this reading. */
  next(t: number, values: Readonly<Record<string, number>>): number;
}

const round = (value: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};
const clamp = (value: number, min: number, max: number): number =>
  Math.min(max, Math.max(min, value));

/** Probability that an event with `perSecond` rate happens within `dtS` seconds. */
export const perInterval = (perSecond: number, dtS: number): number =>
  perSecond >= 1 ? 1 : 1 - Math.pow(1 - perSecond, dtS);

export interface TemperatureOptions {
  name?: string;
  base: number;
  amplitude: number;
  /** A "day", compressed: one full sinusoid per period. */
  periodMs: number;
  /** Offset into the period, 0..1, so devices do not all peak together. */
  phase: number;
  noise: number;
}

/** Daily-like sinusoid plus correlated (AR(1)) noise. */
export class TemperatureGenerator implements MetricGenerator {
  readonly name: string;
  readonly unit = '°C';
  /** Latest distance from the base, read by the humidity generator (anti-correlation). */
  deviation = 0;
  private noise = 0;

  constructor(
    private readonly options: TemperatureOptions,
    private readonly random: RandomSource,
  ) {
    this.name = options.name ?? 'temperature';
  }

  next(t: number): number {
    const { base, amplitude, periodMs, phase, noise } = this.options;
    this.noise = 0.8 * this.noise + noise * gaussian(this.random);
    const value = base + amplitude * Math.sin(2 * Math.PI * (t / periodMs + phase)) + this.noise;
    this.deviation = value - base;
    return round(value, 2);
  }
}

/** Relative humidity, falling when the temperature rises. */
export class HumidityGenerator implements MetricGenerator {
  readonly name = 'humidity';
  readonly unit = '%';

  constructor(
    private readonly temperature: TemperatureGenerator,
    private readonly base: number,
    private readonly random: RandomSource,
    /** Percentage points of humidity lost per °C above the base temperature. */
    private readonly coupling = 2.5,
  ) {}

  next(): number {
    const value =
      this.base - this.coupling * this.temperature.deviation + 0.4 * gaussian(this.random);
    return round(clamp(value, 5, 98), 1);
  }
}

/** A key drawn from the device's source, that seeds one generator's time slots or knots. */
const drawKey = (random: RandomSource): number => Math.floor(random.next() * 2 ** 32);

export interface SeededWalkOptions {
  /** Standard deviation around the mean, in the metric's unit. */
  sd: number;
  /** Correlation time: how long the walk takes to forget where it was (1/e), ms. */
  tauMs: number;
  /** Spacing of the knots the walk is read at, ms; joined by straight lines. */
  knotMs: number;
}

/**
 * A mean-reverting random walk (Ornstein–Uhlenbeck, stationary, mean 0) that is a pure function
 * of the time and a key, so a generator built fresh at any time (a simulator restart) reads what
 * a running one reads. The walk steps x[k] = a·x[k-1] + sd·√(1-a²)·z[k] at each knot, with
 * a = e^(-knotMs/tauMs) and z[k] a gaussian seeded by the knot number; unrolled, x[k] is the sum
 * of the knots' innovations, each weighted by how much of it the walk still remembers (a^j),
 * cut where the weight falls below 5 % (what is cut held 0.25 % of the variance): a bounded
 * look-back of ln(20)·tauMs. A fresh walk sums it once (a first sample of 10,000 devices at
 * once: the cut is what keeps that short); a running one slides it along, knot by knot
 * (`slide`), so a sample costs a few operations whatever the look-back. Between knots the value
 * moves in a straight line. Each walk's knots are shifted by its key, so a fleet's walks do not
 * all compute their next knot in the same second.
 */
export class SeededWalk {
  /** a: how much of x[k-1] is left at knot k. */
  private readonly decay: number;
  /** How many past knots x[k] sums: a^terms < 5 %. */
  private readonly terms: number;
  /** sd·√(1-a²): the innovations' weight, so the walk's spread is `sd`. */
  private readonly gain: number;
  /** a^terms: the weight of the innovation that leaves the sum at the next knot. */
  private readonly leaving: number;
  private readonly shiftMs: number;
  /** The knot `t` was last in, and the walk's values at it and at the next one. */
  private knot = NaN;
  private from = 0;
  private to = 0;
  /** The knots' draws, reseeded in place. */
  private readonly draws = new Mulberry32(0);

  constructor(
    private readonly key: number,
    private readonly options: SeededWalkOptions,
  ) {
    const { sd, tauMs, knotMs } = options;
    this.decay = Math.exp(-knotMs / tauMs);
    this.terms = Math.ceil((Math.log(20) * tauMs) / knotMs);
    this.gain = sd * Math.sqrt(1 - this.decay ** 2);
    this.leaving = this.decay ** this.terms;
    this.shiftMs = key % knotMs;
  }

  /** The walk's value at `t` (ms). */
  at(t: number): number {
    const { knotMs } = this.options;
    const shifted = t + this.shiftMs;
    const knot = Math.floor(shifted / knotMs);
    if (knot !== this.knot) {
      if (knot === this.knot + 1) {
        this.from = this.to;
        this.to = this.slide(this.to, knot + 1);
      } else {
        // Fresh (or after a jump): one sum, the next knot slid from it.
        this.from = this.atKnot(knot);
        this.to = this.slide(this.from, knot + 1);
      }
      this.knot = knot;
    }
    return this.from + ((this.to - this.from) * (shifted - knot * knotMs)) / knotMs;
  }

  /** x[k], summed. */
  private atKnot(knot: number): number {
    let sum = 0;
    let weight = 1;
    for (let j = 0; j < this.terms; j++) {
      sum += weight * this.innovation(knot - j);
      weight *= this.decay;
    }
    return this.gain * sum;
  }

  /**
   * x[k] from x[k-1]: the same sum, with z[k] come in and z[k-terms] gone. Rounding errors
   * shrink by a at every knot, so they never add up to anything a reading shows.
   */
  private slide(previous: number, knot: number): number {
    const entering = this.innovation(knot);
    const leaving = this.innovation(knot - this.terms);
    return this.decay * previous + this.gain * (entering - this.leaving * leaving);
  }

  private innovation(knot: number): number {
    return gaussian(this.draws.reseed(deriveSeed(this.key, knot)));
  }
}

/**
 * Barometric pressure: the weather, a mean-reverting random walk read from the wall clock
 * (SeededWalk), so a restarted simulator carries on where the previous run would be; plus the
 * sensor's noise of a few hundredths. The walk moves 0.08 hPa per √s and is pulled back to the
 * mean at 0.2 % per second: a correlation time of 500 s and a spread of 0.08·√(500/2) ≈ 1.3 hPa.
 */
export class PressureGenerator implements MetricGenerator {
  readonly name = 'pressure';
  readonly unit = 'hPa';
  private readonly weather: SeededWalk;

  constructor(
    private readonly random: RandomSource,
    private readonly mean = 1013,
    private readonly min = 985,
    private readonly max = 1040,
  ) {
    const tauS = 1 / 0.002;
    this.weather = new SeededWalk(drawKey(random), {
      sd: 0.08 * Math.sqrt(tauS / 2),
      tauMs: tauS * 1000,
      knotMs: 20_000,
    });
  }

  next(t: number): number {
    const value = this.mean + this.weather.at(t) + 0.03 * gaussian(this.random);
    return round(clamp(value, this.min, this.max), 2);
  }
}

/** Where the room stands after the occupancy steps so far (see Co2Generator). */
interface Room {
  people: number;
  /** How far the air was from the occupancy's CO2 level just after the last step, ppm. */
  airOffset: number;
  /** When the last step happened, ms. */
  since: number;
  /** The first occupancy slot not taken into account yet. */
  nextSlot: number;
}

/**
 * Indoor CO2: occupancy changes in steps (people come and go), the concentration follows with a
 * time constant, and the sensor drifts slowly; plus a few ppm of noise. Everything but the noise
 * is read from the wall clock, so a restarted simulator carries on where the previous run would
 * be (a room does not empty itself when the simulator restarts):
 * - occupancy steps: each 15 s slot holds at most one, seeded by the slot number;
 * - the air after a step relaxes toward the new level in closed form,
 *   air(t) = level + airOffset·e^(-(t - since)/τ), so a sample costs one exponential;
 * - the drift is a SeededWalk.
 * A running generator applies each step as its slot comes; a fresh one rebuilds the room from
 * the slots of the last hour (`rebuild`).
 */
export class Co2Generator implements MetricGenerator {
  readonly name = 'co2';
  readonly unit = 'ppm';
  private static readonly SLOT_MS = 15_000;
  /** How far back a fresh generator replays the occupancy steps: by default 40 τ, about 80 steps. */
  private static readonly LOOKBACK_MS = 3_600_000;
  private readonly occupancyKey: number;
  /** Chance of a step in a slot: the rate times the slot, so the mean rate is the one asked. */
  private readonly stepChance: number;
  private readonly tauMs: number;
  private readonly drift: SeededWalk;
  /** The occupancy slots' draws, reseeded in place. */
  private readonly draws = new Mulberry32(0);
  private room: Room | null = null;
  private lastT = -Infinity;

  constructor(
    private readonly random: RandomSource,
    private readonly maxPeople = 8,
    /** How often occupancy changes, per second. */
    occupancyChangePerSecond = 1 / 45,
    /** Time constant of the room's air, in seconds. */
    tauS = 90,
  ) {
    this.occupancyKey = drawKey(random);
    this.stepChance = Math.min(1, (occupancyChangePerSecond * Co2Generator.SLOT_MS) / 1000);
    this.tauMs = tauS * 1000;
    // Moves about 0.05 ppm per √s (3 ppm an hour), pulled back to 0 over a day: a spread of
    // 10 ppm, held within ±30 below.
    this.drift = new SeededWalk(drawKey(random), {
      sd: 10,
      tauMs: 86_400_000,
      knotMs: 3_600_000,
    });
  }

  next(t: number): number {
    if (this.room === null || t < this.lastT || t - this.lastT > Co2Generator.LOOKBACK_MS)
      this.room = this.rebuild(t);
    else this.advance(t, this.room);
    this.lastT = t;
    const { people, airOffset, since } = this.room;
    const air = this.level(people) + airOffset * Math.exp(-(t - since) / this.tauMs);
    const drift = clamp(this.drift.at(t), -30, 30);
    return Math.round(Math.max(380, air + drift + 3 * gaussian(this.random)));
  }

  /** The CO2 the air settles at with `people` in the room, ppm. */
  private level(people: number): number {
    return 420 + 110 * people;
  }

  /**
   * Applies the occupancy steps of the slots up to `t` to `room`, and to `other` standing at the
   * same slot (a rebuild's two starts draw each slot once).
   */
  private advance(t: number, room: Room, other?: Room): void {
    const lastSlot = Math.floor(t / Co2Generator.SLOT_MS);
    let slot = room.nextSlot;
    for (; slot <= lastSlot; slot++) {
      const random = this.draws.reseed(deriveSeed(this.occupancyKey, slot));
      if (random.next() >= this.stepChance) continue;
      const at = (slot + random.next()) * Co2Generator.SLOT_MS;
      if (at > t) break; // later in this slot: looked at again by the next sample
      const size = 1 + Math.floor(random.next() * 3);
      const step = random.next() < 0.5 ? -size : size;
      this.step(room, step, at);
      if (other) this.step(other, step, at);
    }
    room.nextSlot = slot;
    if (other) other.nextSlot = slot;
  }

  /** `room` after `step` people came (or left) at `at`. */
  private step(room: Room, step: number, at: number): void {
    const people = clamp(room.people + step, 0, this.maxPeople);
    const offsetNow = room.airOffset * Math.exp(-(at - room.since) / this.tauMs);
    room.airOffset = offsetNow + this.level(room.people) - this.level(people);
    room.people = people;
    room.since = at;
  }

  /**
   * The room at `t` from the seeded steps alone. The head count is a walk held between 0 and
   * `maxPeople`, and the bounds make it forget where it started: an empty and a full room given
   * the same steps end up with the same count, half the time within 8 steps, 99 % within 30. So
   * replay the last half hour from both; once they agree (and their air too, within 0.01 ppm) neither
   * start matters and that is the room an uninterrupted run has. In the rare case they still
   * differ, go back twice as far (coupling from the past).
   */
  private rebuild(t: number): Room {
    const slot = Math.floor(t / Co2Generator.SLOT_MS);
    // Half an hour first: enough most of the time, and a first sample of 10,000 rooms at once.
    let lookbackSlots = Co2Generator.LOOKBACK_MS / 2 / Co2Generator.SLOT_MS;
    for (;;) {
      const start = slot - lookbackSlots;
      const empty: Room = {
        people: 0,
        airOffset: 0,
        since: start * Co2Generator.SLOT_MS,
        nextSlot: start,
      };
      const full: Room = { ...empty, people: this.maxPeople };
      this.advance(t, empty, full);
      const agree =
        empty.people === full.people && Math.abs(empty.airOffset - full.airOffset) < 0.01;
      // 16 hours: a bound on the work, never reached in practice.
      if (agree || lookbackSlots >= 16 * (Co2Generator.LOOKBACK_MS / Co2Generator.SLOT_MS))
        return empty;
      lookbackSlots *= 2;
    }
  }
}

/**
 * Electrical load: a duty cycle through the device's load levels (idle, partial, full...),
 * each held for its own seeded duration, in a new shuffled order every cycle, plus noise.
 * The level is a pure function of the wall-clock time, not of the samples so far, so a
 * simulator restarted with the same seed carries on with the same load and the energy register
 * integrates it in closed form (`cumulative`) instead of from the start of the run.
 */
export class PowerGenerator implements MetricGenerator {
  readonly name = 'power';
  readonly unit = 'W';
  /** How long each level is held per cycle, ms. */
  private readonly holdMs: readonly number[];
  private readonly cycleMs: number;
  /** Energy of one whole cycle, W·ms (every cycle holds every level once). */
  private readonly cycleWms: number;
  /** Seeds each cycle's shuffle. */
  private readonly key: number;
  /** The order of the levels in cycle `orderCycle`, kept: a cycle spans many samples. */
  private readonly order: number[];
  private orderCycle = NaN;

  constructor(
    private readonly random: RandomSource,
    private readonly levels: readonly number[],
    /** Level changes per second, on average. */
    switchPerSecond = 1 / 30,
    private readonly noiseFraction = 0.03,
  ) {
    const meanHoldMs = 1000 / switchPerSecond;
    this.holdMs = levels.map(() => Math.round(uniform(random, 0.5, 1.5) * meanHoldMs));
    this.cycleMs = this.holdMs.reduce((sum, ms) => sum + ms, 0);
    this.cycleWms = levels.reduce((sum, w, i) => sum + w * this.holdMs[i], 0);
    this.key = drawKey(random);
    this.order = levels.map((_, i) => i);
  }

  next(t: number): number {
    const nominal = this.levels[this.levelAt(t)];
    return round(
      Math.max(
        0,
        nominal * (1 + this.noiseFraction * gaussian(this.random)) + 2 * gaussian(this.random),
      ),
      1,
    );
  }

  /** Energy of the nominal load from the epoch to `t` (ms), in W·ms: never decreases. */
  cumulative(t: number): number {
    const cycle = Math.floor(t / this.cycleMs);
    let within = t - cycle * this.cycleMs;
    let wms = cycle * this.cycleWms;
    for (const level of this.shuffled(cycle)) {
      const ms = Math.min(within, this.holdMs[level]);
      wms += this.levels[level] * ms;
      within -= ms;
      if (within <= 0) break;
    }
    return wms;
  }

  private levelAt(t: number): number {
    const cycle = Math.floor(t / this.cycleMs);
    let within = t - cycle * this.cycleMs;
    const order = this.shuffled(cycle);
    for (const level of order) {
      if (within < this.holdMs[level]) return level;
      within -= this.holdMs[level];
    }
    return order[order.length - 1];
  }

  /** Fisher–Yates with a source seeded by the cycle number, so any cycle can be rebuilt. */
  private shuffled(cycle: number): readonly number[] {
    if (cycle === this.orderCycle) return this.order;
    const random = new Mulberry32(deriveSeed(this.key, cycle));
    const order = this.order;
    for (let i = 0; i < order.length; i++) order[i] = i;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    this.orderCycle = cycle;
    return order;
  }
}

/** Mains voltage with a small sag under load. */
export class VoltageGenerator implements MetricGenerator {
  readonly name = 'voltage';
  readonly unit = 'V';
  constructor(
    private readonly random: RandomSource,
    private readonly nominal = 230,
  ) {}

  next(_t: number, values: Readonly<Record<string, number>>): number {
    const load = values['power'] ?? 0;
    return round(this.nominal - load / 1000 + 1.2 * gaussian(this.random), 1);
  }
}

/** Current derived from the power and voltage of the same reading. */
export class CurrentGenerator implements MetricGenerator {
  readonly name = 'current';
  readonly unit = 'A';
  next(_t: number, values: Readonly<Record<string, number>>): number {
    const volts = values['voltage'] || 230;
    return round((values['power'] ?? 0) / volts, 3);
  }
}

/** Where every simulated energy register starts counting from its base. */
export const METER_ORIGIN = Date.UTC(2024, 0, 1);

/**
 * Energy meter register: its base plus the integral of the meter's nominal load since
 * METER_ORIGIN, read from the wall clock. It never decreases, also across restarts of the
 * simulator (a restart reads what an uninterrupted run would), with no state kept anywhere;
 * before METER_ORIGIN it holds its base.
 */
export class EnergyGenerator implements MetricGenerator {
  readonly name = 'energy';
  readonly unit = 'kWh';
  private readonly base: number;
  private readonly atOrigin: number;

  constructor(
    private readonly power: PowerGenerator,
    random: RandomSource,
  ) {
    this.base = Math.floor(uniform(random, 1000, 50_000));
    this.atOrigin = power.cumulative(METER_ORIGIN);
  }

  next(t: number): number {
    const wms = this.power.cumulative(Math.max(t, METER_ORIGIN)) - this.atOrigin;
    return round(this.base + wms / 3_600_000_000, 3);
  }
}

export interface VibrationOptions {
  /** Normal RMS velocity, mm/s. */
  base: number;
  noise: number;
  /** Chance per sample of a single spike (a knock). */
  spikeProbability: number;
  /** Rate per second of an anomaly episode (e.g. a failing bearing) lasting 5 to 20 s. */
  anomalyPerSecond: number;
}

/**
 * Machine vibration: noise, occasional spikes (a knock, one sample) and anomaly episodes (a
 * failing bearing). Episodes are read from the wall clock, so one under way when the simulator
 * restarts goes on: each second may start one, seeded by its number, lasting 5 to 20 s.
 */
export class VibrationGenerator implements MetricGenerator {
  readonly name = 'vibration';
  readonly unit = 'mm/s';
  private static readonly SLOT_MS = 1_000;
  /** The longest episode, in slots: an older slot's episode is over. */
  private static readonly LONGEST_SLOTS = 20;
  private readonly key: number;
  private readonly episodeChance: number;
  /** When the latest episode started in the slots before `nextSlot` ends. */
  private anomalyUntil = -Infinity;
  private nextSlot = NaN;
  /** The slots' draws, reseeded in place. */
  private readonly draws = new Mulberry32(0);
  /** Spikes and anomaly samples so far (tests and the progress line can show them). */
  anomalies = 0;

  constructor(
    private readonly options: VibrationOptions,
    private readonly random: RandomSource,
  ) {
    this.key = drawKey(random);
    this.episodeChance = perInterval(options.anomalyPerSecond, VibrationGenerator.SLOT_MS / 1000);
  }

  next(t: number): number {
    const { base, noise, spikeProbability } = this.options;
    const slot = Math.floor(t / VibrationGenerator.SLOT_MS);
    const oldest = slot - VibrationGenerator.LONGEST_SLOTS;
    // Fresh, back in time or after a long gap: look at every slot whose episode may last until t.
    if (!(this.nextSlot >= oldest && this.nextSlot <= slot + 1)) {
      this.nextSlot = oldest;
      this.anomalyUntil = -Infinity;
    }
    for (; this.nextSlot <= slot; this.nextSlot++)
      this.anomalyUntil = Math.max(this.anomalyUntil, this.episodeEnd(this.nextSlot));
    let value = base + Math.abs(noise * gaussian(this.random));
    if (t < this.anomalyUntil) {
      value *= 3;
      this.anomalies++;
    }
    if (chance(this.random, spikeProbability)) {
      value += uniform(this.random, 6, 15);
      this.anomalies++;
    }
    return round(value, 3);
  }

  /** When the episode that starts with `slot` ends, or -Infinity when the slot starts none. */
  private episodeEnd(slot: number): number {
    const random = this.draws.reseed(deriveSeed(this.key, slot));
    if (random.next() >= this.episodeChance) return -Infinity;
    return slot * VibrationGenerator.SLOT_MS + uniform(random, 5_000, 20_000);
  }
}

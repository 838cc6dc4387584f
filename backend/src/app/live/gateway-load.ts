import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { CONFIG, Config } from '../config/config';
import { Conflator } from './conflation';
import { FanOutMeter } from './fan-out-meter';
import { LiveEmitter } from './live-emitter';

/**
 * The gateway's own overload, for conflation (docs/decisions/0019-conflation.md): a socket that
 * cannot keep up is throttled by its queue (the lag monitor), but when the gateway itself cannot
 * keep up every queue looks fine while every reading ages in the gateway. Once a second it reads
 * the event loop's utilisation (the share of the last second spent running, not waiting): at
 * OVERLOAD_ELU or more for OVERLOAD_SAMPLES seconds in a row, every connection is throttled one
 * tier slower (the conflator's floor); at CALM_ELU or less for CALM_SAMPLES seconds, the floor is
 * lowered one tier and connections recover at their own pace. Fewer, merged frames are what gives
 * the loop its room back: fan-out is the work that grows with the audience.
 *
 * Between the two (busy, not overloaded) the floor is also tried one tier lower after
 * PROBE_SAMPLES seconds: a floor raised by a passing storm (a thousand screens reconnecting) on a
 * machine shared with other work would otherwise hold for good, since the loop's utilisation
 * counts time the process waited for a core. A probe that brings the overload back within
 * PROBE_TRIAL_SAMPLES seconds doubles the wait before the next (up to PROBE_MAX_SAMPLES); one
 * that holds, or a calm stretch, resets it.
 *
 * The floor throttles the audience, so it rises only for an audience: with fewer than
 * OVERLOAD_MIN_CLIENTS connections a saturated second is a busy one (counted in
 * `fewClientsSeconds`, logged once per stretch). Sending to a few screens costs the loop little
 * whatever the rate (flushing was ~10 % of a loop saturated by 45k readings/s to 10 screens), so
 * a floor there gave nothing back and only aged their readings, tier after tier; a thousand
 * screens reconnecting at once are what it is for (docs/decisions/0019-conflation.md, session 25).
 *
 * Each sample also reports the share of the loop's busy time spent flushing readings (the hub's
 * flushes and the conflation ticks, {@link FanOutMeter}). It does not decide anything: raising
 * the floor only when that share is large helped screens under an ingest overload and hurt a
 * reconnect storm, where flushing is under a fifth of the loop (decision 0019, session 24).
 *
 * Owns the measurement and the decision to raise or lower the floor; must not throttle a socket
 * itself (the conflator does) nor read sockets' queues (the lag monitor does).
 */

export const LOAD_SAMPLE_MS = 1000;
/** The default of OVERLOAD_ELU. */
export const OVERLOAD_ELU = 0.9;
export const OVERLOAD_SAMPLES = 2;
export const CALM_ELU = 0.6;
export const CALM_SAMPLES = 5;
/** Busy-but-not-overloaded seconds at a floor before it is tried one tier lower. */
export const PROBE_SAMPLES = 10;
export const PROBE_MAX_SAMPLES = 80;
/** A probe is judged failed when the floor is raised again within this many seconds. */
export const PROBE_TRIAL_SAMPLES = 10;
/** Connections below which a saturated loop is not the audience's doing: no floor for them. */
export const OVERLOAD_MIN_CLIENTS = 100;

/**
 * One second of load: `elu`, the event loop's utilisation (0..1); `fanOut`, the share of its
 * busy time spent sending readings (0..1); `clients`, the live connections at its end.
 */
export interface LoadSample {
  elu: number;
  fanOut: number;
  clients: number;
}
/** The load since the previous call (a fake in the unit spec). */
export type LoadSampler = () => LoadSample;
export const LOAD_SAMPLER = Symbol('LOAD_SAMPLER');

function realSampler(meter: FanOutMeter, clients: () => number): LoadSampler {
  let last = performance.eventLoopUtilization();
  let lastSpent = meter.totalMs;
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    const spent = meter.totalMs - lastSpent;
    lastSpent = meter.totalMs;
    return {
      elu: delta.utilization,
      fanOut: delta.active > 0 ? Math.min(1, spent / delta.active) : 0,
      clients: clients(),
    };
  };
}

@Injectable()
export class GatewayLoad implements OnModuleDestroy {
  private readonly logger = new Logger('GatewayLoad');
  private readonly sample: LoadSampler;
  private timer: ReturnType<typeof setInterval> | null = null;
  private overloaded = 0;
  private calm = 0;
  /** Seconds at a floor neither calm nor overloaded; the wait before a probe; since the last probe. */
  private busy = 0;
  private probeWait = PROBE_SAMPLES;
  private sinceProbe = Infinity;
  private last: LoadSample = { elu: 0, fanOut: 0, clients: 0 };
  /** Saturated seconds with too small an audience were said in this stretch (once per stretch). */
  private fewClients = false;
  private readonly counts = {
    raised: 0,
    lowered: 0,
    probes: 0,
    overloadedSeconds: 0,
    fewClientsSeconds: 0,
  };
  /** Utilisation that counts as overloaded; null: never (OVERLOAD_ELU=off). */
  private readonly threshold: number | null;

  constructor(
    @Inject(Conflator)
    private readonly conflator: Pick<
      Conflator,
      'raiseFloor' | 'lowerFloor' | 'applyFloor' | 'stats'
    >,
    @Optional() @Inject(LOAD_SAMPLER) sampler?: LoadSampler,
    @Optional() @Inject(CONFIG) config?: Partial<Pick<Config, 'OVERLOAD_ELU'>>,
    @Optional() meter?: FanOutMeter,
    @Optional() @Inject(LiveEmitter) emitter?: Pick<LiveEmitter, 'clientCount'>,
  ) {
    this.sample =
      sampler ??
      realSampler(
        meter ?? new FanOutMeter(),
        // No emitter to count (a module without the live layer's sockets): every saturation counts.
        () => emitter?.clientCount() ?? Infinity,
      );
    const setting = config?.OVERLOAD_ELU ?? OVERLOAD_ELU;
    this.threshold = setting === 'off' ? null : setting;
  }

  start(): void {
    if (this.timer || this.threshold === null) return;
    this.sample(); // the first window starts now, not with the work of the gateway's start-up
    this.timer = setInterval(() => this.check(), LOAD_SAMPLE_MS);
    this.timer.unref();
  }

  /** One sample (public for the spec). */
  check(): void {
    this.last = this.sample();
    const { elu, fanOut, clients } = this.last;
    const floorMs = this.conflator.stats().floorMs;
    const floored = floorMs > 0;
    this.sinceProbe++;
    const saturated = this.threshold !== null && elu >= this.threshold;
    const audience = clients >= OVERLOAD_MIN_CLIENTS;
    if (saturated) this.counts.overloadedSeconds++;
    if (saturated && !audience) {
      this.counts.fewClientsSeconds++;
      if (!this.fewClients)
        this.logger.warn(
          `event loop ${Math.round(elu * 100)} % busy with ${clients} clients (under ${OVERLOAD_MIN_CLIENTS}): not raising the floor, sending to so few is not what loads it${floored ? ` (the ${floorMs} ms floor is tried lower on the busy schedule)` : ''}`,
        );
      this.fewClients = true;
    } else if (!saturated) this.fewClients = false; // the stretch is over
    if (saturated && audience) {
      this.calm = 0;
      this.busy = 0;
      if (++this.overloaded >= OVERLOAD_SAMPLES) {
        this.overloaded = 0;
        // The last probe let the overload back: wait longer before the next one.
        if (this.sinceProbe <= PROBE_TRIAL_SAMPLES)
          this.probeWait = Math.min(this.probeWait * 2, PROBE_MAX_SAMPLES);
        this.sinceProbe = Infinity;
        this.conflator.raiseFloor();
        this.counts.raised++;
        this.logger.warn(
          `event loop ${Math.round(elu * 100)} % busy (${Math.round(fanOut * 100)} % of it flushing readings): every client throttled to ${this.conflator.stats().floorMs} ms`,
        );
      }
    } else {
      this.overloaded = 0;
      if (this.sinceProbe > PROBE_TRIAL_SAMPLES && this.sinceProbe !== Infinity) {
        this.sinceProbe = Infinity; // the probe held
        this.probeWait = PROBE_SAMPLES;
      }
      if (!floored) {
        this.calm = 0;
        this.busy = 0;
      } else if (elu <= CALM_ELU) {
        this.busy = 0;
        if (++this.calm >= CALM_SAMPLES) {
          this.calm = 0;
          this.probeWait = PROBE_SAMPLES;
          this.lower();
        }
      } else {
        this.calm = 0;
        if (++this.busy >= this.probeWait) {
          this.busy = 0;
          this.counts.probes++;
          this.sinceProbe = 0;
          this.lower();
        }
      }
    }
    // Connections opened since the floor went up are throttled too.
    if (this.conflator.stats().floorMs > 0) this.conflator.applyFloor();
  }

  private lower(): void {
    this.conflator.lowerFloor();
    this.counts.lowered++;
    this.logger.log(
      `event loop ${Math.round(this.last.elu * 100)} % busy: clients may go faster again (floor ${this.conflator.stats().floorMs} ms)`,
    );
  }

  stats(): {
    elu: number;
    fanOut: number;
    raised: number;
    lowered: number;
    probes: number;
    overloadedSeconds: number;
    fewClientsSeconds: number;
  } {
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return { elu: round(this.last.elu), fanOut: round(this.last.fanOut), ...this.counts };
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

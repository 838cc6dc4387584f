import { Inject, Injectable, Optional } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Reading } from '@pulse/protocol';
import { queuedBytes, queuedPackets } from './engine-adapter';
import { FanOutMeter } from './fan-out-meter';
import { LAG_PAUSE_BYTES } from './lag-gate';
import { LiveEmitter } from './live-emitter';
import type { LiveSocket } from './live-io.server';

/**
 * Conflation of connections that cannot keep up (Lightstreamer's frequency throttling with
 * merge-mode conflation; docs/decisions/0019-conflation.md). A throttled connection gets no live
 * frames; once per interval of its tier it gets, per room it is in, one merged reading per
 * device: the newest value of each metric, with the lowest and highest of the readings merged
 * (`range`), so a spike is never hidden. Tiers step down while it stays behind and back up
 * while it keeps up, to every reading again; it is told each change (`throttle`). History keeps
 * every reading; only this connection's live rate changes.
 *
 * The merged readings are kept per room and tier, shared by every throttled member (one encode
 * per room per tick, like live frames), and only while the tier has members. A connection moves
 * between tiers right after a tick sent it everything up to now, and a tier's merge starts at its
 * last tick (or empty when it had no members), so a move never leaves a gap.
 *
 * When the gateway itself falls behind (GatewayLoad), a floor applies to everyone: every connection
 * is throttled to at least the floor's tier, and none recovers faster than it until it is lowered.
 *
 * Owns the tiers, the floor, the merged readings and the throttle ticks; must not pause or
 * disconnect (the lag monitor decides who is throttled and who is beyond help), measure the
 * gateway's load (GatewayLoad does) nor send except through the emitter.
 */

/** The tiers' intervals (ms), fastest first; each a multiple of the first (one timer ticks all). */
export const CONFLATE_TIERS_MS: readonly number[] = [250, 1000, 4000];
/**
 * Queued at a tick at most this much (bytes in user space on a websocket, packets in engine.io
 * for long-polling): the connection kept up with its tier.
 */
export const CONFLATE_KEEPING_UP_BYTES = 64 << 10;
export const CONFLATE_KEEPING_UP_PACKETS = 2;
/**
 * Queued at a tick at least this much (or LAG_PAUSE_BYTES on a websocket): still behind, one tier
 * slower. A long-polling client that has not polled for several ticks.
 */
export const CONFLATE_BEHIND_PACKETS = 16;
/**
 * Kept up at every tick for this long (at least one tick of its tier): the connection moves one
 * tier faster, from the fastest to every reading again. From the slowest tier that is about
 * 4 + 1 + 1 s back to live once the pressure is gone.
 */
export const CONFLATE_RECOVER_MS = 1000;

/** What the conflator reads from a socket: the engine adapter (a fake in the unit spec). */
export interface QueueProbe {
  queuedBytes(socket: LiveSocket): number;
  queuedPackets(socket: LiveSocket): number;
}
/** DI token of the {@link QueueProbe}; the engine adapter's when nothing is bound. */
export const QUEUE_PROBE = Symbol('QUEUE_PROBE');

/** What the conflator needs of the emitter. */
export type ConflationEmitter = Pick<
  LiveEmitter,
  'writeMerged' | 'throttle' | 'socket' | 'sockets'
>;

/** One device's readings merged since its tier's last tick. */
interface Merged {
  ts: number;
  values: Record<string, number>;
  range: Record<string, [number, number]>;
  merged: number;
}

interface RoomMerge {
  except: readonly string[];
  devices: Map<string, Merged>;
}

/** How a throttled connection did since its last tick. */
type Pace = 'behind' | 'catching-up' | 'keeping-up';

interface Throttled {
  tier: number;
  /** Ticks of its tier in a row it kept up. */
  keptUp: number;
}

@Injectable()
export class Conflator {
  private readonly throttled = new Map<string, Throttled>();
  /** Members per tier. */
  private readonly members: number[] = CONFLATE_TIERS_MS.map(() => 0);
  /** Per tier: the merged readings of each room since the tier's last tick. */
  private readonly merges: Map<string, RoomMerge>[] = CONFLATE_TIERS_MS.map(() => new Map());
  private timer: ReturnType<typeof setInterval> | null = null;
  private ticks = 0;
  private readonly counts = { entered: 0, demoted: 0, recovered: 0, frames: 0 };
  /**
   * While the gateway itself cannot keep up (GatewayLoad): the fastest tier anyone may be in, or
   * -1 (none). Every connection is throttled at least to it, whatever its own queue says.
   */
  private floor = -1;
  private readonly probe: QueueProbe;

  constructor(
    @Inject(LiveEmitter) private readonly emitter: ConflationEmitter,
    @Optional() @Inject(QUEUE_PROBE) probe?: QueueProbe,
    /** Told what each tick took, for the overload floor (absent in unit specs). */
    @Optional() private readonly meter?: FanOutMeter,
  ) {
    this.probe = probe ?? { queuedBytes, queuedPackets };
  }

  isThrottled(socketId: string): boolean {
    return this.throttled.has(socketId);
  }

  /** Anyone throttled: the fan-out then hands every room's batch to {@link absorb}. */
  get active(): boolean {
    return this.throttled.size > 0;
  }

  /** The interval a connection gets readings at now (0: every reading). */
  intervalOf(socketId: string): number {
    const state = this.throttled.get(socketId);
    return state ? CONFLATE_TIERS_MS[state.tier] : 0;
  }

  /** Throttle a connection that fell behind: merged readings at the fastest tier from now on. */
  enter(socket: LiveSocket): void {
    if (this.throttled.has(socket.id) || !socket.connected) return;
    this.throttled.set(socket.id, { tier: 0, keptUp: 0 });
    this.members[0]++;
    this.counts.entered++;
    this.emitter.throttle(socket, CONFLATE_TIERS_MS[0]);
    if (!this.timer) {
      this.ticks = 0;
      this.timer = setInterval(() => this.tick(), CONFLATE_TIERS_MS[0]);
      this.timer.unref();
    }
  }

  /** The connection is gone, or taken over by the lag monitor (paused): no longer throttled here. */
  leave(socketId: string): void {
    const state = this.throttled.get(socketId);
    if (!state) return;
    this.throttled.delete(socketId);
    this.setMembers(state.tier, -1);
    if (this.throttled.size === 0) this.stop();
  }

  /** A room's flushed batch (what its live members just got): merged for its throttled members. */
  absorb(room: string, except: readonly string[], batch: readonly Reading[]): void {
    for (let tier = 0; tier < this.merges.length; tier++) {
      if (this.members[tier] === 0) continue;
      let merge = this.merges[tier].get(room);
      if (!merge) this.merges[tier].set(room, (merge = { except, devices: new Map() }));
      for (let i = 0; i < batch.length; i++) mergeInto(merge.devices, batch[i]);
    }
  }

  stats(): { throttled: number; floorMs: number } & Conflator['counts'] {
    const floorMs = this.floor < 0 ? 0 : CONFLATE_TIERS_MS[this.floor];
    return { throttled: this.throttled.size, floorMs, ...this.counts };
  }

  /**
   * The gateway is overloaded: one tier slower for everyone (from every reading to the fastest
   * tier first). Connections reach it at their tiers' next ticks, so none misses a merge.
   */
  raiseFloor(): void {
    if (this.floor < CONFLATE_TIERS_MS.length - 1) this.floor++;
    this.applyFloor();
  }

  /** The gateway has room again: one tier faster allowed; each connection recovers on its own pace. */
  lowerFloor(): void {
    if (this.floor >= 0) this.floor--;
  }

  /** Throttle every connected socket not throttled yet (new ones too), while there is a floor. */
  applyFloor(): void {
    if (this.floor < 0) return;
    for (const socket of this.emitter.sockets()) this.enter(socket);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One tick of the fastest tier; slower tiers on their multiples, fastest first (public for the spec). */
  tick(): void {
    const startedAt = performance.now();
    this.ticks++;
    for (let tier = 0; tier < CONFLATE_TIERS_MS.length; tier++) {
      if (this.ticks % (CONFLATE_TIERS_MS[tier] / CONFLATE_TIERS_MS[0]) === 0) this.tickTier(tier);
    }
    this.meter?.add(performance.now() - startedAt);
  }

  private tickTier(tier: number): void {
    if (this.members[tier] === 0) return;
    // How far behind each member is before this tick's frames: what decides its next tier.
    const behind: [string, Pace][] = [];
    for (const [id, state] of this.throttled) {
      if (state.tier !== tier) continue;
      const socket = this.emitter.socket(id);
      behind.push([id, socket ? this.pace(socket) : 'keeping-up']);
    }
    const take = (id: string) => this.throttled.get(id)?.tier === tier;
    for (const [room, merge] of this.merges[tier]) {
      if (merge.devices.size === 0) continue;
      this.counts.frames += this.emitter.writeMerged(room, merge.except, readingsOf(merge), take);
    }
    this.merges[tier].clear();
    // Moves only now, right after the frames: the new tier's merge covers everything from here.
    for (const [id, pace] of behind) this.move(id, pace);
  }

  private pace(socket: LiveSocket): Pace {
    const bytes = this.probe.queuedBytes(socket);
    const packets = this.probe.queuedPackets(socket);
    if (bytes >= LAG_PAUSE_BYTES || packets >= CONFLATE_BEHIND_PACKETS) return 'behind';
    if (bytes <= CONFLATE_KEEPING_UP_BYTES && packets <= CONFLATE_KEEPING_UP_PACKETS)
      return 'keeping-up';
    return 'catching-up';
  }

  private move(socketId: string, pace: Pace): void {
    const state = this.throttled.get(socketId);
    if (!state) return;
    const socket = this.emitter.socket(socketId);
    // Under the gateway's floor: one tier slower, as if it were behind itself.
    if (pace === 'behind' || state.tier < this.floor) {
      state.keptUp = 0;
      if (state.tier === CONFLATE_TIERS_MS.length - 1) return;
      this.setMembers(state.tier, -1);
      this.setMembers(++state.tier, +1);
      this.counts.demoted++;
      if (socket) this.emitter.throttle(socket, CONFLATE_TIERS_MS[state.tier]);
      return;
    }
    if (pace === 'catching-up') {
      state.keptUp = 0;
      return;
    }
    if (++state.keptUp * CONFLATE_TIERS_MS[state.tier] < CONFLATE_RECOVER_MS) return;
    state.keptUp = 0;
    if (state.tier <= this.floor) return; // kept up, but the gateway has no room for more
    if (state.tier === 0) {
      this.leave(socketId);
      this.counts.recovered++;
      if (socket) this.emitter.throttle(socket, 0);
      return;
    }
    this.setMembers(state.tier, -1);
    this.setMembers(--state.tier, +1);
    if (socket) this.emitter.throttle(socket, CONFLATE_TIERS_MS[state.tier]);
  }

  private setMembers(tier: number, delta: number): void {
    this.members[tier] += delta;
    // A tier nobody is in merges nothing; the next member starts from an empty merge.
    if (this.members[tier] === 0) this.merges[tier].clear();
  }
}

function mergeInto(devices: Map<string, Merged>, reading: Reading): void {
  let merged = devices.get(reading.deviceId);
  if (!merged) {
    merged = { ts: reading.ts, values: {}, range: {}, merged: 0 };
    devices.set(reading.deviceId, merged);
  }
  const newest = reading.ts >= merged.ts;
  if (newest) merged.ts = reading.ts;
  merged.merged += reading.merged ?? 1;
  for (const metric in reading.values) {
    const value = reading.values[metric];
    const [low, high] = reading.range?.[metric] ?? [value, value];
    const range = merged.range[metric];
    if (!range) merged.range[metric] = [low, high];
    else {
      if (low < range[0]) range[0] = low;
      if (high > range[1]) range[1] = high;
    }
    if (newest || !(metric in merged.values)) merged.values[metric] = value;
  }
}

/** The merged readings of a room, one per device; `range` only where more than one was merged. */
function readingsOf(merge: RoomMerge): Reading[] {
  const readings: Reading[] = [];
  for (const [deviceId, m] of merge.devices) {
    readings.push(
      m.merged > 1
        ? { deviceId, ts: m.ts, values: m.values, range: m.range, merged: m.merged }
        : { deviceId, ts: m.ts, values: m.values },
    );
  }
  return readings;
}

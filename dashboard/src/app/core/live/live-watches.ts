import { RESUBSCRIBE_OVERLAP_MS } from '@pulse/protocol/core';
import type { Reading, SubscribeRequest, UnsubscribeRequest } from '@pulse/protocol/core';
import { Refusals } from './refusals';

/*
 * The watches of the live connection: what the views asked to watch (devices, groups or the
 * fleet), shared by identical specs and counted by reference, and per watch the newest reading
 * time held, from which a re-subscribe asks for history. Plain bookkeeping owned by
 * LiveService: it must not touch the socket, the stores, signals or timers.
 */

/** What a view wants to watch, and how much history it needs. */
export interface WatchSpec {
  devices?: string[];
  groups?: string[];
  fleet?: boolean;
  /** History asked for on first subscribe (ms before now); 0 = none. */
  historyMs: number;
  /** Cap on history points per metric in the acknowledgement. */
  maxPoints: number;
  /** Points to keep per series of the watched devices (explicit device lists only). */
  capacity?: number;
  /**
   * The devices' window is read over HTTP when the watch opens (a device page, a wall board;
   * decisions 0050, 0051), not in the subscribe. Explicit device lists only.
   */
  windowOverHttp?: boolean;
}

/** A watch reading its window over HTTP refills over HTTP too after an outage longer than this. */
export const LONG_GAP_MS = 60_000;

export interface WatchHandle {
  release(): void;
}

export interface Watch {
  readonly key: string;
  readonly spec: WatchSpec;
  refs: number;
  /**
   * Newest reading timestamp held for this subscription: re-subscribe `since` it (less the
   * overlap). Readings do not move it while a history is asked and not merged yet
   * ({@link awaiting}): a retry must ask from where the last merged history ended, or the gap
   * (the whole window, or an outage) would stay empty.
   */
  lastTs: number | null;
  /**
   * A watch of a device list: per device, the newest reading time held and how far behind the
   * server's clock it arrived ({@link Held}); a re-subscribe asks from the device furthest
   * behind, not from the newest of all (a device stamping its readings late would lose the ones
   * between). One entry per device of the list from the start (a device not in it is not
   * noted). Null for groups and the fleet (unbounded keys): they keep {@link lastTs} alone.
   */
  held: Map<string, Held> | null;
  /** Server time at the newest reading or history merge noted: what a device's lag counts from. */
  notedAt: number | null;
  /** A subscribe with history was sent and its points are not merged yet. */
  awaiting: boolean;
  /** Refusals in a row: the next retry waits longer, each kind is warned once. */
  refusals: Refusals;
  /** Undo the capacity pins taken for this watch. */
  unpins: Array<() => void>;
  /** Bumped per (re)subscribe so a late acknowledgement of an older one is ignored. */
  generation: number;
}

/**
 * A device's newest reading time held in a watch, and the lag of its latest delivery: how long
 * before its arrival (`at`, server time) the oldest new reading in it was stamped (≥ 0). A
 * device that sends a minute of readings at once has a lag of a minute, not of its newest one.
 */
interface Held {
  ts: number;
  lag: number;
  at: number;
}

export class LiveWatches {
  private readonly byKey = new Map<string, Watch>();

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<Watch> {
    return this.byKey.values();
  }

  /** One more reference to the watch of `spec`; `created` when no identical spec was watched. */
  acquire(spec: WatchSpec): { watch: Watch; created: boolean } {
    const key = JSON.stringify([
      spec.fleet ?? false,
      spec.devices ?? [],
      spec.groups ?? [],
      spec.historyMs,
      spec.maxPoints,
      spec.windowOverHttp ?? false,
    ]);
    let watch = this.byKey.get(key);
    const created = !watch;
    if (!watch) {
      watch = {
        key,
        spec,
        refs: 0,
        lastTs: null,
        held:
          spec.devices?.length && !spec.fleet && !spec.groups?.length
            ? heldFor(spec.devices)
            : null,
        notedAt: null,
        awaiting: false,
        refusals: new Refusals(),
        unpins: [],
        generation: 0,
      };
      this.byKey.set(key, watch);
    }
    watch.refs++;
    return { watch, created };
  }

  /** Drop one reference; true when it was the last one (the watch is then forgotten). */
  release(watch: Watch): boolean {
    if (--watch.refs > 0) return false;
    this.byKey.delete(watch.key);
    for (const unpin of watch.unpins) unpin();
    watch.generation++;
    return true;
  }

  /** Still watched, and `generation` is its latest (re)subscribe. */
  isCurrent(watch: Watch, generation: number): boolean {
    return watch.generation === generation && this.byKey.get(watch.key) === watch;
  }

  /** Newest timestamp held by the watch with this spec (tests, diagnostics). */
  heldSince(spec: WatchSpec): number | null {
    for (const watch of this.byKey.values()) if (watch.spec === spec) return watch.lastTs;
    return null;
  }

  /**
   * The devices whose window this watch reads over HTTP, or null (decisions 0050, 0051): a watch
   * of a device list that asks for it (`windowOverHttp`: a device page, a wall board) and holds
   * no point yet, or whose re-subscribe would resume more than {@link LONG_GAP_MS} back (a
   * refill after a long outage, or for a device far behind, is as big as a window). Over HTTP it comes compressed and on a connection of its
   * own, so the socket's readings do not wait behind it; the subscribe asks only for the newest
   * point ({@link recentRequest}).
   */
  windowOverHttp(watch: Watch, serverNow: number): readonly string[] | null {
    const spec = watch.spec;
    if (!spec.windowOverHttp || spec.historyMs <= 0 || spec.fleet || spec.groups?.length)
      return null;
    if (!spec.devices?.length) return null;
    // From where a re-subscribe would resume: a board with one device far behind (a batch
    // uploader, a clock running late) refills over HTTP too, not as a window on the socket.
    const resume = resumeFrom(watch);
    if (resume !== null && serverNow - resume <= LONG_GAP_MS) return null;
    return spec.devices;
  }

  /**
   * The subscribe a window read over HTTP follows: the watch's rooms and records, and the newest
   * point of each series in its range (one point: whatever the clocks and the device's cadence,
   * a value to show before the window is in, in a frame of a few hundred bytes).
   */
  recentRequest(watch: Watch, serverNow: number): SubscribeRequest {
    return { ...this.request(watch, serverNow), maxPoints: 1 };
  }

  /** A subscribe with history goes out: until its points are merged, readings do not move lastTs. */
  noteAsked(watch: Watch): void {
    if (watch.spec.historyMs > 0) watch.awaiting = true;
  }

  /** The history asked is merged at `serverNow` (then {@link noteHeld} its newest points). */
  noteMerged(watch: Watch, serverNow: number): void {
    watch.awaiting = false;
    watch.notedAt = serverNow;
  }

  /**
   * The (re)subscribe request: history since the newest point held ({@link resumeFrom}) less
   * RESUBSCRIBE_OVERLAP_MS (a reading relayed by another gateway may have been overtaken by a
   * newer one), never before the spec's window; or the spec's window.
   */
  request(watch: Watch, serverNow: number): SubscribeRequest {
    const spec = watch.spec;
    const windowStart = spec.historyMs > 0 ? serverNow - spec.historyMs : undefined;
    const resume = resumeFrom(watch);
    const since =
      resume !== null
        ? Math.max(resume - RESUBSCRIBE_OVERLAP_MS, windowStart ?? -Infinity)
        : windowStart;
    const history = spec.historyMs > 0;
    return {
      ...targets(spec),
      ...(since !== undefined ? { since } : {}),
      maxPoints: spec.maxPoints,
      history,
      // Its timestamps as differences: ~40 % fewer bytes (decision 0048).
      ...(history ? { timeDeltas: true } : {}),
    };
  }

  /** A history point of `deviceId` at `ts` is held (merged from an acknowledgement or a read). */
  noteHeld(watch: Watch, deviceId: string, ts: number): void {
    if (watch.lastTs === null || ts > watch.lastTs) watch.lastTs = ts;
    const held = watch.held?.get(deviceId);
    if (held && ts > held.ts) held.ts = ts;
  }

  /**
   * Advance each watch's newest time held over the readings it covers, arrived at `serverNow`
   * (the server's clock as this client estimates it).
   */
  noteReadings(
    readings: readonly Reading[],
    groupOf: (deviceId: string) => string | null,
    serverNow: number,
  ): void {
    for (const watch of this.byKey.values()) {
      if (watch.awaiting) continue;
      const devices = watch.held;
      for (let i = 0; i < readings.length; i++) {
        const reading = readings[i];
        if (devices) {
          const held = devices.get(reading.deviceId);
          if (!held || reading.ts <= held.ts) continue; // not of the list, or not newer
          const lag = Math.max(0, serverNow - reading.ts);
          held.ts = reading.ts;
          // Within one delivery the oldest new reading sets it; a new delivery starts over.
          held.lag = held.at === serverNow ? Math.max(held.lag, lag) : lag;
          held.at = serverNow;
        } else if (
          (watch.lastTs !== null && reading.ts <= watch.lastTs) ||
          !covers(watch.spec, reading.deviceId, groupOf)
        ) {
          continue;
        }
        if (watch.lastTs === null || reading.ts > watch.lastTs) watch.lastTs = reading.ts;
        watch.notedAt = serverNow;
      }
    }
  }
}

/**
 * Where a re-subscribe of this watch resumes (before the overlap), or null when it holds nothing.
 * A group or fleet watch: its newest point. A device list: the earliest of its devices' own
 * bounds, each the later of its newest point and the newest note less that device's lag. A
 * device whose clock runs behind (or that reaches us late) resumes that much earlier, so its
 * readings that were on the way are asked for; a silent device resumes from the last note (what
 * it sends next is stamped after it), not from its last reading minutes ago, which would refill
 * minutes of every other device on a short reconnect.
 */
function resumeFrom(watch: Watch): number | null {
  if (watch.lastTs === null) return null;
  const noted = watch.notedAt;
  if (!watch.held || noted === null) return watch.lastTs;
  let from = Infinity;
  for (const held of watch.held.values()) {
    const bound = Math.max(held.ts, noted - held.lag);
    if (bound < from) from = bound;
  }
  return from;
}

/** One entry per device of the list, holding nothing yet (lag 0: on time until seen live). */
function heldFor(devices: readonly string[]): Map<string, Held> {
  return new Map(devices.map((id) => [id, { ts: -Infinity, lag: 0, at: -Infinity }]));
}

/** The rooms part of a spec, as `subscribe` and `unsubscribe` take it. */
export function targets(spec: WatchSpec): UnsubscribeRequest {
  const request: UnsubscribeRequest = {};
  if (spec.fleet) request.fleet = true;
  if (spec.devices?.length) request.devices = spec.devices;
  if (spec.groups?.length) request.groups = spec.groups;
  return request;
}

function covers(
  spec: WatchSpec,
  deviceId: string,
  groupOf: (deviceId: string) => string | null,
): boolean {
  if (spec.fleet) return true;
  if (spec.devices?.includes(deviceId)) return true;
  if (spec.groups?.length) {
    const group = groupOf(deviceId);
    return group != null && spec.groups.includes(group);
  }
  return false;
}

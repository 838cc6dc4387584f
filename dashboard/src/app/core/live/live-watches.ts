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
  /** A subscribe with history was sent and its points are not merged yet. */
  awaiting: boolean;
  /** Refusals in a row: the next retry waits longer, each kind is warned once. */
  refusals: Refusals;
  /** Undo the capacity pins taken for this watch. */
  unpins: Array<() => void>;
  /** Bumped per (re)subscribe so a late acknowledgement of an older one is ignored. */
  generation: number;
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
   * no point yet, or whose newest point is more than {@link LONG_GAP_MS} old (a refill after a
   * long outage is as big as a window). Over HTTP it comes compressed and on a connection of its
   * own, so the socket's readings do not wait behind it; the subscribe asks only for the newest
   * point ({@link recentRequest}).
   */
  windowOverHttp(watch: Watch, serverNow: number): readonly string[] | null {
    const spec = watch.spec;
    if (!spec.windowOverHttp || spec.historyMs <= 0 || spec.fleet || spec.groups?.length)
      return null;
    if (!spec.devices?.length) return null;
    if (watch.lastTs !== null && serverNow - watch.lastTs <= LONG_GAP_MS) return null;
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

  /** The history asked is merged (then {@link noteHeld} its newest point). */
  noteMerged(watch: Watch): void {
    watch.awaiting = false;
  }

  /**
   * The (re)subscribe request: history since the newest point held less RESUBSCRIBE_OVERLAP_MS
   * (a reading relayed by another gateway may have been overtaken by a newer one), or the
   * spec's window.
   */
  request(watch: Watch, serverNow: number): SubscribeRequest {
    const spec = watch.spec;
    const since =
      watch.lastTs !== null
        ? watch.lastTs - RESUBSCRIBE_OVERLAP_MS
        : spec.historyMs > 0
          ? serverNow - spec.historyMs
          : undefined;
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

  noteHeld(watch: Watch, ts: number): void {
    if (watch.lastTs === null || ts > watch.lastTs) watch.lastTs = ts;
  }

  /** Advance each watch's newest time held over the readings it covers. */
  noteReadings(readings: readonly Reading[], groupOf: (deviceId: string) => string | null): void {
    for (const watch of this.byKey.values()) {
      if (watch.awaiting) continue;
      for (let i = 0; i < readings.length; i++) {
        const reading = readings[i];
        if (
          (watch.lastTs === null || reading.ts > watch.lastTs) &&
          covers(watch.spec, reading.deviceId, groupOf)
        ) {
          watch.lastTs = reading.ts;
        }
      }
    }
  }
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

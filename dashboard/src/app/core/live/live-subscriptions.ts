import type {
  DeviceInfo,
  Reading,
  SubscribeAck,
  SubscribeRequest,
  WireSeries,
} from '@pulse/protocol/core';
import { FLEET_ROOM, SUMMARY_ROOM, deviceRoom, fromWire, groupRoom } from '@pulse/protocol/core';
import type { WindowsRead } from '../http/devices-api';
import type { DeviceStore } from '../stores/device.store';
import type { SeriesStore } from '../stores/series.store';
import type { LiveSocket } from './live-socket';
import {
  DeviceSetHandle,
  DeviceSetOptions,
  DeviceSets,
  FillRequest,
  RoomRefs,
  deviceOfRoom,
  leaveRequest,
  roomsOf,
} from './live-rooms';
import { LiveWatches, Watch, WatchHandle, WatchSpec } from './live-watches';
import { Refusals } from './refusals';
import { SummaryFeed } from './summary-feed';

/*
 * What the live connection is subscribed to, and the acknowledgements that fill the stores:
 * watches (devices, groups, the fleet, with history), the fleet summary, and device sets (the
 * tiles on screen, diffed in batches), all counted by room so no view unsubscribes another's.
 * Owned by LiveService, which hands it the socket and the connection's state through a
 * {@link LiveLink}; it must not connect, reconnect or read socket.io itself.
 */

const SUBSCRIBE_TIMEOUT_MS = 10_000;
/**
 * Device sets (the tiles on screen) send their diff at most this often (ms): a scroll sends a
 * few small requests a second, well inside the gateway's 20 events a second per socket.
 */
export const DEVICE_SET_BATCH_MS = 150;

/** What the subscriptions need of the connection. */
export interface LiveLink {
  /** The current socket, or null when stopped. */
  socket(): LiveSocket | null;
  connected(): boolean;
  serverNow(): number;
  /** An acknowledgement's `serverTime`, to correct the clock offset. */
  serverTimeIs(serverTime: number): void;
}

/**
 * The devices' points since `from` (every metric, at most `maxPoints` each, spread over the
 * range), and the devices whose points could not be read; `signal` aborts the read.
 */
export type WindowSource = (
  deviceIds: readonly string[],
  from: number,
  maxPoints: number,
  signal: AbortSignal,
) => Promise<WindowsRead>;

export class LiveSubscriptions {
  private readonly watches = new LiveWatches();
  private readonly rooms = new RoomRefs();
  private readonly deviceSets = new DeviceSets(this.rooms);
  private readonly summaryFeed: SummaryFeed;
  /** Windows being read over HTTP, per watch: aborted when it is released or asked again. */
  private readonly windowReads = new Map<Watch, AbortController>();
  /** Every window read over HTTP in flight (watches' and device sets'): aborted on stop. */
  private readonly reads = new Set<AbortController>();
  /** The device sets' reads in flight: a new connection gives them up (it asks again). */
  private readonly setReads = new Set<AbortController>();
  /** Refused device-set batches waiting to be asked again (their own timers, see fill). */
  private readonly setRetries = new Set<ReturnType<typeof setTimeout>>();
  private summaryRefs = 0;
  private readonly summaryRefusals = new Refusals();
  /** Refusals in a row of the device sets' subscribes (all batches count together). */
  private readonly setRefusals = new Refusals();
  /** Bumped per summary (re)subscribe and release: a late acknowledgement is ignored. */
  private summaryGeneration = 0;
  private setFlushTimer: ReturnType<typeof setTimeout> | null = null;
  /** A diff goes out at the end of the current task (see scheduleSetFlush). */
  private setFlushQueued = false;
  private lastSetFlushAt = -Infinity;
  /** Bumped per connection: acknowledgements asked on an earlier one are ignored. */
  private connectionEpoch = 0;
  /** The connection whose device sets have been flushed once (its first screen sent). */
  private setsFlushedEpoch = -1;
  /** Device-set subscribes sent and not yet answered, and who waits for none to be. */
  private fillsInFlight = 0;
  private fillWaiters: { done: () => boolean; resolve: () => void }[] = [];

  constructor(
    private readonly link: LiveLink,
    private readonly devices: DeviceStore,
    private readonly series: SeriesStore,
    /** Devices' windows over HTTP (decisions 0050, 0051); without it every window comes in the subscribe. */
    private readonly windows: WindowSource | null = null,
    /** Spreads retries apart (0 ≤ x < 1). */
    private readonly random: () => number = Math.random,
  ) {
    this.summaryFeed = new SummaryFeed(devices);
  }

  /** LiveService.watch: identical specs share one watch; its rooms are counted. */
  watch(spec: WatchSpec): WatchHandle {
    const { watch, created } = this.watches.acquire(spec);
    if (created) {
      this.rooms.acquire(roomsOf(spec));
      if (spec.capacity)
        for (const id of spec.devices ?? [])
          watch.unpins.push(this.series.pinCapacity(id, spec.capacity));
      if (this.link.connected()) void this.subscribe(watch);
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (!this.watches.release(watch)) return;
        this.windowReads.get(watch)?.abort();
        this.leave(this.rooms.release(roomsOf(watch.spec)));
      },
    };
  }

  /** LiveService.watchSummary: one subscription for every caller, `{summary: true}` left with the last. */
  watchSummary(): WatchHandle {
    if (this.summaryRefs++ === 0) {
      this.rooms.acquire([SUMMARY_ROOM]);
      if (this.link.connected()) void this.subscribeSummary();
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (--this.summaryRefs > 0) return;
        this.summaryGeneration++;
        this.summaryFeed.pause();
        this.leave(this.rooms.release([SUMMARY_ROOM]));
      },
    };
  }

  /** LiveService.watchDevices: `set()` takes references at once; the diff goes out batched. */
  watchDevices(options: DeviceSetOptions): DeviceSetHandle {
    const set = this.deviceSets.create(options);
    let released = false;
    return {
      set: (deviceIds) => {
        if (released) return;
        this.deviceSets.update(set, deviceIds);
        this.scheduleSetFlush();
        this.settleWaiters();
      },
      flush: () => {
        if (released || this.setFlushTimer !== null) return;
        // Within the interval a timer is pending (above); outside it the queued end-of-task
        // flush finds nothing left to send.
        if (Date.now() - this.lastSetFlushAt >= DEVICE_SET_BATCH_MS) this.flushSets();
      },
      answered: () => {
        // Every device asked for on this connection (answered or refused), none in flight; not
        // connected yet, the subscribe the connection sends is waited for.
        const done = () =>
          this.fillsInFlight === 0 &&
          (this.link.connected() ? !this.deviceSets.unasked(set) : !this.deviceSets.holds(set));
        return done()
          ? Promise.resolve()
          : new Promise<void>((resolve) => this.fillWaiters.push({ done, resolve }));
      },
      release: () => {
        if (released) return;
        released = true;
        this.deviceSets.drop(set);
        this.scheduleSetFlush();
        this.settleWaiters();
      },
    };
  }

  heldSince(spec: WatchSpec): number | null {
    return this.watches.heldSince(spec);
  }

  /** A (re)connection: every watch, the summary and every device set are asked again. */
  connected(): void {
    this.connectionEpoch++;
    for (const read of this.setReads) read.abort();
    this.setReads.clear();
    this.rooms.reset();
    for (const watch of this.watches.values()) void this.subscribe(watch);
    if (this.summaryRefs > 0) void this.subscribeSummary();
    this.deviceSets.reconnected();
    this.flushSets();
  }

  /** The gateway paused our readings: re-subscribing refills the gap and resumes them. */
  lagged(): void {
    for (const watch of this.watches.values()) void this.subscribe(watch);
    // The sets' gap is refilled too (the summary's deltas are not paused with readings).
    this.deviceSets.reconnected();
    this.flushSets();
  }

  /** A `summary` event. */
  summary(delta: Parameters<SummaryFeed['delta']>[0]): void {
    this.summaryFeed.delta(delta);
  }

  /** Advance each watch's newest time held (re-subscribes ask for history from there). */
  noteReadings(readings: readonly Reading[]): void {
    if (this.watches.size > 0)
      this.watches.noteReadings(
        readings,
        (id) => this.devices.get(id)?.group ?? null,
        this.link.serverNow(),
      );
  }

  stop(): void {
    // Nothing read now will be drawn.
    for (const read of this.reads) read.abort();
    this.reads.clear();
    this.windowReads.clear();
    if (this.setFlushTimer !== null) clearTimeout(this.setFlushTimer);
    this.setFlushTimer = null;
    for (const timer of this.setRetries) clearTimeout(timer);
    this.setRetries.clear();
    // Nothing more will be asked: nobody waits for it.
    for (const waiter of this.fillWaiters.splice(0)) waiter.resolve();
  }

  /** LiveService.isWatched: a room that brings this device's readings is held. */
  isWatched(deviceId: string): boolean {
    return this.rooms.count(deviceRoom(deviceId)) > 0 || this.coveredByFleetOrGroup(deviceId);
  }

  /** A fleet watch, or a watch of the device's group, brings its readings (whatever its own room). */
  private coveredByFleetOrGroup(deviceId: string): boolean {
    if (this.rooms.count(FLEET_ROOM) > 0) return true;
    const group = this.devices.get(deviceId)?.group;
    return group != null && this.rooms.count(groupRoom(group)) > 0;
  }

  /** A device's record went from the store: a set showing it again asks for its history again. */
  forgetDevice(deviceId: string): void {
    this.deviceSets.forget(deviceId);
  }

  /** Resolve the answered() waiters whose condition now holds. */
  private settleWaiters(): void {
    const waiting = this.fillWaiters;
    this.fillWaiters = [];
    for (const waiter of waiting) {
      if (waiter.done()) waiter.resolve();
      else this.fillWaiters.push(waiter);
    }
  }

  /**
   * Subscribe a watch: one request, with history since the newest point held (or the window).
   * A device page or a wall board opening asks the subscribe for the newest point of each
   * series, then reads its window over HTTP ({@link LiveWatches.windowOverHttp}), over the
   * socket for the devices whose window cannot be read (all of them, or those of a refused
   * request of several).
   */
  private async subscribe(watch: Watch): Promise<void> {
    const socket = this.link.socket();
    if (!socket) return;
    const generation = ++watch.generation;
    this.windowReads.get(watch)?.abort(); // an earlier read is for an earlier subscribe
    this.rooms.markJoined(roomsOf(watch.spec));
    this.watches.noteAsked(watch);
    const overHttp = this.windows
      ? this.watches.windowOverHttp(watch, this.link.serverNow())
      : null;
    let unread: readonly string[] | null = null;
    if (overHttp !== null) {
      const recent = this.watches.recentRequest(watch, this.link.serverNow());
      const first = await this.ask(socket, watch, generation, recent);
      if (!first) return;
      this.applySnapshot(null, first.serverTime, first.devices, first.history);
      // The room is joined now: the window read from here holds every reading before the join,
      // the socket every one after it (merged by time), whatever the clocks say.
      const window = this.watches.request(watch, this.link.serverNow());
      const read = await this.readWindow(watch, overHttp, window);
      if (!this.watches.isCurrent(watch, generation)) return;
      if (read.unread.length === 0) {
        this.applySnapshot(watch, null, [], read.series);
        return;
      }
      // Drawn now; the watch's history is merged once the subscribe below brings the rest (until
      // then a retry asks for the whole window again).
      this.applySnapshot(null, null, [], read.series);
      if (!this.link.connected()) return; // the next connect asks again
      unread = read.unread;
    }
    const request = this.watches.request(watch, this.link.serverNow());
    const ack = await this.ask(
      socket,
      watch,
      generation,
      unread ? { ...request, devices: [...unread] } : request,
    );
    if (!ack) return;
    this.applySnapshot(watch, ack.serverTime, ack.devices, ack.history);
  }

  /**
   * A watch's window over HTTP, given up after SUBSCRIBE_TIMEOUT_MS or when the watch is
   * subscribed again or released (the download stops).
   */
  private async readWindow(
    watch: Watch,
    deviceIds: readonly string[],
    request: SubscribeRequest,
  ): Promise<WindowsRead> {
    if (request.since === undefined) return { series: [], unread: [...deviceIds] };
    const abort = new AbortController();
    this.windowReads.set(watch, abort);
    try {
      return await this.readWindows(deviceIds, request.since, request.maxPoints ?? 1, abort);
    } finally {
      if (this.windowReads.get(watch) === abort) this.windowReads.delete(watch);
    }
  }

  /**
   * Devices' windows over HTTP through `abort` (also given up after SUBSCRIBE_TIMEOUT_MS and
   * when the live service stops).
   */
  private async readWindows(
    deviceIds: readonly string[],
    since: number,
    maxPoints: number,
    abort: AbortController,
  ): Promise<WindowsRead> {
    const none = { series: [], unread: [...deviceIds] };
    if (!this.windows) return none;
    this.reads.add(abort);
    const timer = setTimeout(() => abort.abort(), SUBSCRIBE_TIMEOUT_MS);
    try {
      return await this.windows(deviceIds, since, maxPoints, abort.signal);
    } catch {
      return none;
    } finally {
      clearTimeout(timer);
      this.reads.delete(abort);
    }
  }

  /**
   * One subscribe of a watch: its acknowledgement, or null when it is refused, timed out (asked
   * again from the start while the connection lives) or no longer wanted.
   */
  private async ask(
    socket: LiveSocket,
    watch: Watch,
    generation: number,
    request: SubscribeRequest,
  ): Promise<Extract<SubscribeAck, { ok: true }> | null> {
    let ack: SubscribeAck;
    try {
      ack = await socket.subscribe(request, SUBSCRIBE_TIMEOUT_MS);
    } catch (error) {
      // Timed out. If the connection is dying the next connect re-subscribes;
      // if it is merely slow, ask again rather than stay silently unsubscribed.
      console.warn('[live] subscribe timed out', error);
      if (this.watches.isCurrent(watch, generation) && this.link.connected())
        void this.subscribe(watch);
      return null;
    }
    if (!this.watches.isCurrent(watch, generation)) return null;
    if (!ack.ok) {
      // Busy, rate limited, or not (yet) allowed (a device not known yet is `forbidden` to a
      // scoped screen): asked again later, backing off (a room joined without its window would
      // otherwise stay so until the next reconnect). Warned once per kind of refusal.
      const { delayMs, warn } = watch.refusals.refused(ack.error, this.random());
      if (warn) console.warn(`[live] subscribe refused: ${ack.error}; asking again, backing off`);
      setTimeout(() => {
        if (this.watches.isCurrent(watch, generation) && this.link.connected())
          void this.subscribe(watch);
      }, delayMs);
      return null;
    }
    watch.refusals.answered();
    return ack;
  }

  private async subscribeSummary(): Promise<void> {
    const socket = this.link.socket();
    if (!socket) return;
    const generation = ++this.summaryGeneration;
    this.rooms.markJoined([SUMMARY_ROOM]);
    let ack: SubscribeAck;
    try {
      ack = await socket.subscribe({ summary: true, history: false }, SUBSCRIBE_TIMEOUT_MS);
    } catch {
      ack = { ok: false, error: 'no answer' };
    }
    if (generation !== this.summaryGeneration) return;
    if (!ack.ok) {
      const { delayMs, warn } = this.summaryRefusals.refused(ack.error, this.random());
      if (warn)
        console.warn(`[live] fleet summary refused: ${ack.error}; asking again, backing off`);
      setTimeout(() => {
        if (generation === this.summaryGeneration && this.link.connected())
          void this.subscribeSummary();
      }, delayMs);
      return;
    }
    this.summaryRefusals.answered();
    this.link.serverTimeIs(ack.serverTime);
    this.summaryFeed.snapshot(ack.summary);
    // The snapshot changed the fleet's membership and order: show it now, not a timer later.
    this.devices.flush(true);
  }

  private scheduleSetFlush(delayMs?: number): void {
    if (this.setFlushTimer !== null || this.setFlushQueued) return;
    const wait = delayMs ?? Math.max(0, this.lastSetFlushAt + DEVICE_SET_BATCH_MS - Date.now());
    if (wait === 0) {
      // Nothing sent lately: go at the end of this task (the set() calls of one change detection
      // still make one diff), not in a timer that the browser runs after painting the tiles that
      // asked: the first screen's subscribe waited behind its own first paint (0.5 s on the
      // loaded 2-core machine; docs/decisions/0023-compact-fleet-summary.md).
      this.setFlushQueued = true;
      queueMicrotask(() => {
        this.setFlushQueued = false;
        this.flushSets();
      });
      return;
    }
    this.setFlushTimer = setTimeout(() => {
      this.setFlushTimer = null;
      this.flushSets();
    }, wait);
  }

  /** Send the device sets' diff: history for the devices that joined, leave the unwanted rooms. */
  private flushSets(): void {
    if (!this.link.socket() || !this.link.connected()) return; // the next connect flushes
    const { fill, leave } = this.deviceSets.plan();
    if (fill.length === 0 && leave.length === 0) return this.settleWaiters();
    // The interval counts from what was sent: the first diff after a quiet spell goes at once.
    this.lastSetFlushAt = Date.now();
    this.leave(leave);
    this.dropPointsOf(leave);
    // The first screen of a connection joins its rooms before asking their points (decision
    // 0049); later batches (a scroll) ask both at once, two events a batch under the gateway's
    // per-socket event limit.
    const roomsFirst = this.setsFlushedEpoch !== this.connectionEpoch;
    this.setsFlushedEpoch = this.connectionEpoch;
    for (const request of fill) void this.fillDevices(request, roomsFirst);
  }

  /**
   * Points of devices that left the screen and that no fleet or group watch covers are let go
   * (the record stays: the view that holds it, the summary or the overview's page, decides): the
   * series held follow what is on screen, not every device ever scrolled past. Coming back costs
   * a sparkline's acknowledgement.
   */
  private dropPointsOf(leftRooms: readonly string[]): void {
    for (const room of leftRooms) {
      const id = deviceOfRoom(room);
      if (id !== null && !this.coveredByFleetOrGroup(id)) this.series.drop(id);
    }
  }

  private async fillDevices(request: FillRequest, roomsFirst: boolean): Promise<void> {
    this.fillsInFlight++;
    try {
      await this.fill(request, roomsFirst);
    } finally {
      // After the answer is in the stores: a waiter's drawing comes after its values.
      if (--this.fillsInFlight === 0) this.settleWaiters();
    }
  }

  /**
   * Subscribe a batch of a device set: with `roomsFirst`, the rooms alone first (the devices'
   * records, no points: their readings flow now, not behind a sparkline's worth of points), then
   * the points of those still on screen; otherwise both in one request.
   */
  private async fill({ options, devices }: FillRequest, roomsFirst: boolean): Promise<void> {
    const socket = this.link.socket();
    if (!socket) return;
    const epoch = this.connectionEpoch;
    const onScreen = (id: string) => this.rooms.isJoined(deviceRoom(id));
    const ask = async (request: SubscribeRequest): Promise<boolean> => {
      const asked = request.devices ?? [];
      let ack: SubscribeAck;
      try {
        ack = await socket.subscribe(request, SUBSCRIBE_TIMEOUT_MS);
      } catch {
        ack = { ok: false, error: 'no answer' };
      }
      if (epoch !== this.connectionEpoch) return false;
      if (!ack.ok) {
        // Rate limited, busy or slow: these devices are asked again later, backing off, on a
        // timer of their own: the batches of a scroll meanwhile go out as usual (the refused ones
        // count as asked until then, so no batch asks them sooner).
        const { delayMs, warn } = this.setRefusals.refused(ack.error, this.random());
        if (warn) console.warn(`[live] subscribe of ${asked.length} devices refused: ${ack.error}`);
        const timer = setTimeout(() => {
          this.setRetries.delete(timer);
          if (epoch !== this.connectionEpoch) return; // the new connection asked them all
          this.deviceSets.unfill(asked);
          this.scheduleSetFlush();
        }, delayMs);
        this.setRetries.add(timer);
        return false;
      }
      this.setRefusals.answered();
      // The gateway may have handled this subscribe after an unsubscribe sent later (a subscribe
      // with history can wait for the ack budget): leave what it joined that nobody wants now.
      this.leave(
        ack.rooms.filter((room) => deviceOfRoom(room) !== null && !this.rooms.isJoined(room)),
      );
      // Points of devices that left the screen meanwhile are not kept (dropPointsOf let them go).
      const history = ack.history.filter((series) => onScreen(series.deviceId));
      this.applySnapshot(null, ack.serverTime, ack.devices, history);
      return true;
    };
    const withHistory = (ids: string[]): SubscribeRequest => ({
      devices: ids,
      maxPoints: options.maxPoints,
      history: options.historyMs > 0,
      ...(options.historyMs > 0
        ? { since: this.link.serverNow() - options.historyMs, timeDeltas: true }
        : {}),
    });
    if (!roomsFirst || options.historyMs <= 0) {
      await ask(withHistory(devices));
      return;
    }
    if (!(await ask({ devices, history: false }))) return;
    // Then the points (the rooms are joined: readings since then overlap them, none is missed),
    // of the devices still on screen: a subscribe joins a room left meanwhile again.
    const still = devices.filter(onScreen);
    if (still.length === 0 || !this.link.connected()) return;
    let unread = still;
    if (this.windows) {
      // Over HTTP (decision 0051): compressed, and on a connection of its own, so the readings
      // of the rooms just joined do not wait behind a screenful of points on the socket.
      const since = this.link.serverNow() - options.historyMs;
      const abort = new AbortController();
      this.setReads.add(abort);
      let read: WindowsRead;
      try {
        read = await this.readWindows(still, since, options.maxPoints, abort);
      } finally {
        this.setReads.delete(abort);
      }
      if (epoch !== this.connectionEpoch) return; // the new connection asks again
      this.applySnapshot(
        null,
        null,
        [],
        read.series.filter((series) => onScreen(series.deviceId)),
      );
      // The devices of a request that could not be read (a refused one of several) alone come in
      // a subscribe.
      if (read.unread.length === 0 || !this.link.connected()) return;
      unread = read.unread;
    }
    const left = unread.filter(onScreen);
    if (left.length) await ask(withHistory(left));
  }

  /** Unsubscribe `rooms` (nobody wants them any more), when connected. */
  private leave(rooms: readonly string[]): void {
    if (rooms.length && this.link.connected()) this.link.socket()?.unsubscribe(leaveRequest(rooms));
  }

  /**
   * Merge an acknowledgement (or a window read over HTTP: no server time, no records): device
   * records, then history into the buffers (filling any gap). With `watch`, that is the history
   * it asked for: from now on its newest point held moves again.
   */
  private applySnapshot(
    watch: Watch | null,
    serverTime: number | null,
    devices: DeviceInfo[],
    history: readonly WireSeries[],
  ): void {
    if (serverTime !== null) this.link.serverTimeIs(serverTime);
    if (watch) this.watches.noteMerged(watch, this.link.serverNow());
    for (const info of devices) this.devices.upsertInfo(info);
    for (const wire of history) {
      const series = fromWire(wire);
      const n = Math.min(series.t.length, series.v.length);
      if (n === 0) continue;
      this.series.merge(series);
      this.devices.noteHistory(series.deviceId, series.metric, series.t[n - 1], series.v[n - 1]);
      if (watch) this.watches.noteHeld(watch, series.deviceId, series.t[n - 1]);
    }
    this.devices.flush(true);
  }
}

import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { DeviceInfo, DeviceMeta, DeviceStatus, LIMITS, Reading } from '@pulse/protocol';
import { inScope } from '../auth/principal';
import { CADENCE_MIN_GAPS, learnCadence, Pace } from '../common/cadence';
import { RateLimitedLog } from '../common/rate-limited-log';
import { CONFIG, Config } from '../config/config';
import { DEVICE_STORE, DeviceStore, StoredDevice } from './device-store';
import { DeviceWriteQueue, WriteState } from './device-write-queue';

interface DeviceState {
  deviceId: string;
  status: DeviceStatus;
  lastSeen: number;
  /**
   * When this gateway last heard of the device's activity (a message, or a peer's share of one),
   * on its own clock: `lastSeen` may be another gateway's time. -Infinity when restored and not
   * heard since this start. Eviction judges silence by it (see {@link silentSince}).
   */
  heardAt: number;
  lastTs: number | null;
  meta: DeviceMeta | null;
  metrics: string[];
  metricSet: Set<string>;
  /** The pace it reports at, learned from its readings, kept across restarts. */
  pace: Pace;
  /** Its place in the write queue (store only). */
  persist: WriteState;
}

/** Metric names remembered per device (the contract's per-reading cap). */
export const MAX_METRICS_PER_DEVICE = LIMITS.maxMetricsPerReading;

/** Devices looked at per eviction try (moved to the tail when heard recently). */
export const EVICT_SCAN = 16;

/** How often changed devices are written to the store (what a crash may lose of lastSeen). */
export const DEVICE_FLUSH_MS = 1000;

/**
 * Devices written per flush at most (the rest wait for the next one, in order): a 1,000-row
 * upsert in one transaction holds the event loop ~10–50 ms on this 2-core machine (quiet to
 * loaded), so 10,000 devices that all speak every second have their last seen written every
 * 10 s, while a status, meta or new device goes first, within the second (decision 0022).
 */
export const DEVICE_FLUSH_BATCH = 1000;

/**
 * Why a device left the registry: `evicted` to make room (idle longest, {@link DeviceRegistryService.evictIdle}),
 * `removed` by an admin (`DELETE /api/devices/:id`, {@link DeviceRegistryService.remove}).
 */
export type DeviceGone = 'evicted' | 'removed';

/** Told the id of each device that left the registry, and why (its history and alert states go too). */
export type GoneListener = (deviceId: string, why: DeviceGone) => void;

/**
 * What the stack knows about each device, bounded by MAX_DEVICES.
 *
 * Eviction is second-chance (CLOCK), the way Redis approximates LRU: the map's insertion order
 * is a queue; to make room, the device at its head is evicted if it has been silent for
 * DEVICE_IDLE_EVICT_MS on this gateway's clock (since it last heard of it, or since it restored it
 * at boot: a peer's `lastSeen` is that peer's time, and while this gateway was down nobody
 * listened), and otherwise (it was heard since it was queued) moved to the tail, up to
 * EVICT_SCAN devices per try. A reading costs nothing but its `lastSeen` (and `heardAt`) write (a strict LRU,
 * delete + set on every message, cost ~400 ns more per message at 10,000 devices); a device that
 * reports every few seconds or minutes is never evicted, made-up ids that publish once and go
 * quiet make room for real devices, and a new device is refused (counted) only when none of
 * those looked at is idle enough.
 * An admin may also remove a device ({@link remove}). Either way the listeners ({@link onGone},
 * wired by the ingest, the fleet summary and the embedded broker) drop what else is kept per device.
 *
 * Every `apply*` returns the new {@link DeviceInfo} when something a client
 * shows changed (new device, status, meta, a new metric) and `null` otherwise:
 * lastSeen/lastTs move with every reading but are not pushed (clients age
 * devices from the readings themselves), so a reading costs no `device` event.
 * `undefined` means the device was refused (registry full).
 *
 * Durable (issue 13, decision 0022): with a {@link DeviceStore} the records are loaded at boot
 * and every change queues the device once (a flag test on the hot path: DeviceWriteQueue); a
 * timer writes the queued ones every DEVICE_FLUSH_MS in one transaction (at most
 * DEVICE_FLUSH_BATCH, changed before merely seen), evicted ones are deleted; a clean stop writes
 * the rest once the ingest stopped ({@link close}). After a restart a device is as it was (meta,
 * group, metrics, last seen, last reading time) except a status of `online`, which becomes
 * `unknown`: nobody was listening while the gateway was down, so "online" is no longer known;
 * `offline` stays (the device said so and has not spoken since). The device's next message or
 * its retained status settles it.
 *
 * Written only by the ingest (the `apply*` calls) and, for devices other gateways ingested, by
 * their share of the fleet summary (`applyShared`, live/summary-peers.ts); read by the live
 * subscriptions, the alerts (groups), the devices controller and stats. Owns the device records and groups and when they
 * are written; must not publish the changes it returns (the ingest does), keep readings
 * (HistoryService does) nor hold SQL (the store does).
 */
@Injectable()
export class DeviceRegistryService implements OnModuleInit {
  private readonly devices = new Map<string, DeviceState>();
  private readonly groups = new Map<string, Set<string>>();
  private refusedNew = 0;
  private evicted = 0;
  private removed = 0;
  private onlineCount = 0;
  private readonly goneListeners: GoneListener[] = [];
  readonly limit: number;
  private readonly idleMs: number;
  /** When the boot's restore ran, on this clock: a restored device not heard since is silent from then. */
  private restoredAt = -Infinity;
  /** Devices changed or evicted since they were last written (store only). */
  private readonly queue = new DeviceWriteQueue<DeviceState>();
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  private loading: Promise<void> | undefined;
  /** The write in flight, if any. */
  private writing: Promise<boolean> | null = null;
  private readonly logger = new Logger('Devices');
  private readonly storeLog = new RateLimitedLog((line) => this.logger.error(line));

  constructor(
    @Inject(CONFIG)
    config: Pick<Config, 'MAX_DEVICES'> & Partial<Pick<Config, 'DEVICE_IDLE_EVICT_MS'>>,
    @Optional() @Inject(DEVICE_STORE) private readonly store: DeviceStore | null = null,
  ) {
    this.limit = config.MAX_DEVICES;
    this.idleMs = config.DEVICE_IDLE_EVICT_MS ?? 600_000;
  }

  /**
   * The stored devices are in the registry (resolved at once without a store). Awaited at boot
   * by this service and by those that read the registry before any message arrives (alerts);
   * a store that cannot be read fails the boot.
   */
  ready(): Promise<void> {
    return (this.loading ??= this.store
      ? this.store.load().then((stored) => this.restore(stored))
      : Promise.resolve());
  }

  async onModuleInit(): Promise<void> {
    if (!this.store) return;
    await this.ready();
    this.flushTimer = setInterval(() => void this.flush(), DEVICE_FLUSH_MS);
    this.flushTimer.unref();
  }

  /**
   * The last writes of a clean stop: everything queued, batch after batch, and no timer after.
   * PulseRuntime calls it once the ingest, the registry's one writer of statuses, has stopped
   * (beforeApplicationShutdown), so what the stop itself causes is written too: the built-in
   * simulator's devices say `offline` as it is stopped, and so may devices of an external broker
   * until the ingest leaves it. The stores close after (onApplicationShutdown). Until then the
   * flush timer keeps writing. A peer's share applied later (REDIS_URL, until Redis is closed)
   * is not written here: the gateway that ingested the device writes it.
   */
  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    await this.flushAll();
    this.storeLog.close();
  }

  /** Write everything queued now, batch after batch (a clean stop, a backup), until a write fails. */
  async flushAll(): Promise<void> {
    await this.writing;
    while (!this.queue.empty) if (!(await this.flush())) break;
  }

  /**
   * Write the next DEVICE_FLUSH_BATCH queued devices and evictions in one transaction (one
   * write at a time). A failed write queues them again for the next flush (logged at a bounded
   * rate). Resolves to whether it wrote.
   */
  flush(): Promise<boolean> {
    const store = this.store;
    if (!store || this.queue.empty || this.writing) return Promise.resolve(false);
    const batch = this.queue.take(DEVICE_FLUSH_BATCH);
    const rows = batch.records.map(toStored);
    const write = (async () => {
      try {
        await store.save(rows, batch.removed);
        return true;
      } catch (error) {
        this.queue.putBack(
          batch,
          (record) => this.devices.get(record.deviceId) === record,
          (deviceId) => this.devices.has(deviceId),
        );
        this.storeLog.report('store', `device registry not saved: ${(error as Error).message}`);
        return false;
      } finally {
        this.writing = null;
      }
    })();
    this.writing = write;
    return write;
  }

  /** Boot: the stored devices, least recently seen first; beyond `limit`, the oldest are dropped. */
  private restore(stored: readonly StoredDevice[]): void {
    this.restoredAt = Date.now();
    const from = Math.max(0, stored.length - this.limit);
    for (let i = 0; i < from; i++) this.queue.removedId(stored[i].deviceId);
    for (let i = from; i < stored.length; i++) {
      const d = stored[i];
      const status: DeviceStatus = d.status === 'online' ? 'unknown' : d.status;
      const metrics = d.metrics.slice(0, MAX_METRICS_PER_DEVICE);
      const state: DeviceState = {
        deviceId: d.deviceId,
        status,
        lastSeen: d.lastSeen,
        // Written by whichever gateway ingested it last (a shared PostgreSQL), on its clock.
        heardAt: -Infinity,
        lastTs: d.lastTs,
        meta: d.meta,
        metrics,
        metricSet: new Set(metrics),
        // A stored pace was learned over several reports (it is stored from CADENCE_MIN_GAPS on),
        // so an outage after the restart is capped by it like any other; the gap across the
        // restart itself is not learned (as by the alert engine's restored states).
        pace: {
          lastTs: -Infinity,
          cadence: d.cadenceMs ?? 0,
          gaps: d.cadenceMs ? CADENCE_MIN_GAPS : 0,
          burstStart: -Infinity,
        },
        persist: 0,
      };
      this.devices.set(d.deviceId, state);
      if (status !== d.status) this.queue.changedNow(state);
      this.joinGroup(d.deviceId, d.meta?.group);
    }
  }

  /** Call `listener` with the id of every device evicted or removed from now on. */
  onGone(listener: GoneListener): void {
    this.goneListeners.push(listener);
  }

  /**
   * An admin removed the device (`DELETE /api/devices/:id`): it leaves as an evicted one does —
   * its record (deleted from the store with the next write), group, and through the listeners
   * its recent window, alert states (open alerts end "device removed") and summary entry. The
   * readings already stored stay until retention ages them out (docs/decisions/0060). A device
   * that speaks again is a new one. Returns false when the device is not known.
   */
  remove(deviceId: string): boolean {
    const state = this.devices.get(deviceId);
    if (!state) return false;
    this.removed++;
    this.forget(state, 'removed');
    return true;
  }

  /**
   * Another gateway's admin removed the device: as {@link remove}, and when this registry never
   * knew it the listeners are told all the same. With several gateways a device's readings may
   * reach this gateway's alert engine forwarded by the one that ingested them (this one owns
   * the device), before any share made the device known here: its open alert must end too.
   */
  removeFromPeer(deviceId: string): void {
    if (this.remove(deviceId)) return;
    for (const listener of this.goneListeners) listener(deviceId, 'removed');
  }

  /**
   * Evict a device silent for DEVICE_IDLE_EVICT_MS at `now` (this gateway's clock): the first
   * such one of the next EVICT_SCAN in the queue (those heard since are requeued). Returns
   * whether one was evicted.
   */
  evictIdle(now: number): boolean {
    for (let scanned = 0; scanned < EVICT_SCAN; scanned++) {
      const head = this.devices.values().next();
      if (head.done) return false;
      const state = head.value;
      if (now - this.silentSince(state) >= this.idleMs) {
        this.evicted++;
        this.forget(state, 'evicted');
        return true;
      }
      this.devices.delete(state.deviceId);
      this.devices.set(state.deviceId, state);
    }
    return false;
  }

  /**
   * Since when the device is silent, on this gateway's clock: when it last heard of it, or, for
   * a device restored at boot and not heard since, the restore (the time stored may be another
   * gateway's, and the gateway's own downtime is no silence anyone heard). Not `lastSeen`:
   * another gateway's time, behind or ahead of this one by their clocks' difference.
   */
  private silentSince(state: DeviceState): number {
    return state.heardAt === -Infinity ? this.restoredAt : state.heardAt;
  }

  private forget(state: DeviceState, why: DeviceGone): void {
    const { deviceId } = state;
    this.devices.delete(deviceId);
    if (state.status === 'online') this.onlineCount--;
    this.leaveGroup(deviceId, state.meta?.group);
    if (this.store) this.queue.removedNow(state);
    for (const listener of this.goneListeners) listener(deviceId, why);
  }

  applyReadings(
    deviceId: string,
    readings: readonly Reading[],
    now: number,
  ): DeviceInfo | null | undefined {
    const created = !this.devices.has(deviceId);
    const state = this.getOrCreate(deviceId, now);
    if (!state) return undefined;
    let changed = created;
    state.lastSeen = now;
    state.heardAt = now;
    for (let i = 0; i < readings.length; i++) {
      const reading = readings[i];
      if (state.lastTs === null || reading.ts > state.lastTs) state.lastTs = reading.ts;
      if (reading.ts > state.pace.lastTs) {
        learnCadence(state.pace, reading.ts);
        state.pace.lastTs = reading.ts;
      }
      if (state.metrics.length >= MAX_METRICS_PER_DEVICE) continue;
      for (const metric in reading.values) {
        if (!state.metricSet.has(metric) && state.metrics.length < MAX_METRICS_PER_DEVICE) {
          state.metricSet.add(metric);
          state.metrics.push(metric);
          changed = true;
        }
      }
    }
    if (this.store) {
      if (changed) this.queue.changedNow(state);
      else this.queue.seenNow(state);
    }
    return changed ? toInfo(state) : null;
  }

  /**
   * A device another gateway ingested readings of (several gateways: its share of the fleet
   * summary, see live/summary-peers.ts): known from now on, last seen and newest reading time
   * moved forward, metrics learned. Only what a client is shown (a new device or metric) is
   * written to the store; last seen is written by the gateway that ingested the reading.
   * `lastSeen` and `lastTs` are on that gateway's clock, `now` (when the share arrived) on this
   * one's. Returns like {@link applyReadings}.
   */
  applyShared(
    deviceId: string,
    lastSeen: number,
    lastTs: number,
    metrics: readonly string[],
    now: number,
  ): DeviceInfo | null | undefined {
    const created = !this.devices.has(deviceId);
    // Room is made on this clock; the device's last seen is the peer's time all the same.
    const state = this.getOrCreate(deviceId, now);
    if (!state) return undefined;
    let changed = created;
    if (created || lastSeen > state.lastSeen) state.lastSeen = lastSeen;
    state.heardAt = now;
    if (state.lastTs === null || lastTs > state.lastTs) state.lastTs = lastTs;
    for (const metric of metrics) {
      if (state.metrics.length >= MAX_METRICS_PER_DEVICE) break;
      if (state.metricSet.has(metric)) continue;
      state.metricSet.add(metric);
      state.metrics.push(metric);
      changed = true;
    }
    if (changed && this.store) this.queue.changedNow(state);
    return changed ? toInfo(state) : null;
  }

  applyStatus(
    deviceId: string,
    status: 'online' | 'offline',
    now: number,
  ): DeviceInfo | null | undefined {
    const created = !this.devices.has(deviceId);
    const state = this.getOrCreate(deviceId, now);
    if (!state) return undefined;
    state.lastSeen = now;
    state.heardAt = now;
    if (state.status === status && !created) {
      if (this.store) this.queue.seenNow(state);
      return null;
    }
    if (this.store) this.queue.changedNow(state);
    if (state.status === 'online') this.onlineCount--;
    if (status === 'online') this.onlineCount++;
    state.status = status;
    return toInfo(state);
  }

  applyMeta(deviceId: string, meta: DeviceMeta | null, now: number): DeviceInfo | null | undefined {
    const created = !this.devices.has(deviceId);
    const state = this.getOrCreate(deviceId, now);
    if (!state) return undefined;
    state.lastSeen = now;
    state.heardAt = now;
    if (!created && JSON.stringify(state.meta) === JSON.stringify(meta)) {
      if (this.store) this.queue.seenNow(state);
      return null;
    }
    if (this.store) this.queue.changedNow(state);
    const oldGroup = state.meta?.group;
    const newGroup = meta?.group;
    if (oldGroup !== newGroup) {
      this.leaveGroup(deviceId, oldGroup);
      this.joinGroup(deviceId, newGroup);
    }
    state.meta = meta;
    return toInfo(state);
  }

  get(deviceId: string): DeviceInfo | null {
    const state = this.devices.get(deviceId);
    return state ? toInfo(state) : null;
  }

  /**
   * When this gateway last heard of the device's activity, on its own clock (undefined: unknown
   * here; -Infinity: restored and not heard since). What a removal made on another gateway,
   * whose time this gateway reckons from its age, is compared with: `lastSeen` may be a third
   * gateway's clock (decision 0060).
   */
  heardAt(deviceId: string): number | undefined {
    return this.devices.get(deviceId)?.heardAt;
  }

  /**
   * The pace the device reports at, ms between reports (learned over CADENCE_MIN_GAPS reports at
   * least, or kept across a restart), or null.
   */
  paceOf(deviceId: string): number | null {
    const pace = this.devices.get(deviceId)?.pace;
    return pace && pace.gaps >= CADENCE_MIN_GAPS ? pace.cadence : null;
  }

  /** The device is registered (no copy made, unlike {@link get}). */
  has(deviceId: string): boolean {
    return this.devices.has(deviceId);
  }

  /** The device's group (from its retained meta), for routing readings to group rooms. */
  groupOf(deviceId: string): string | undefined {
    return this.devices.get(deviceId)?.meta?.group;
  }

  /**
   * The device is known and a caller of group `scope` sees it (null: every device; a device
   * without a group is in no scope). What a device read over HTTP checks; no copy made.
   */
  visibleIn(deviceId: string, scope: readonly string[] | null): boolean {
    const state = this.devices.get(deviceId);
    return state !== undefined && inScope(scope, state.meta?.group);
  }

  /** The device's meta as held (not a copy: read it, never change it). */
  metaOf(deviceId: string): Readonly<DeviceMeta> | null | undefined {
    return this.devices.get(deviceId)?.meta;
  }

  /** The device's display name (from its retained meta), no copy made. */
  nameOf(deviceId: string): string | undefined {
    return this.devices.get(deviceId)?.meta?.name;
  }

  list(): DeviceInfo[] {
    const out: DeviceInfo[] = [];
    for (const state of this.devices.values()) out.push(toInfo(state));
    return out;
  }

  inGroup(group: string): DeviceInfo[] {
    const out: DeviceInfo[] = [];
    for (const deviceId of this.groups.get(group) ?? []) {
      const state = this.devices.get(deviceId);
      if (state) out.push(toInfo(state));
    }
    return out;
  }

  stats(): {
    known: number;
    online: number;
    limit: number;
    refusedNew: number;
    evicted: number;
    removed: number;
  } {
    return {
      known: this.devices.size,
      online: this.onlineCount,
      limit: this.limit,
      refusedNew: this.refusedNew,
      evicted: this.evicted,
      removed: this.removed,
    };
  }

  private joinGroup(deviceId: string, group: string | undefined): void {
    if (!group) return;
    let members = this.groups.get(group);
    if (!members) this.groups.set(group, (members = new Set()));
    members.add(deviceId);
  }

  private leaveGroup(deviceId: string, group: string | undefined): void {
    if (!group) return;
    const members = this.groups.get(group);
    members?.delete(deviceId);
    if (members?.size === 0) this.groups.delete(group);
  }

  private getOrCreate(deviceId: string, now: number): DeviceState | undefined {
    let state = this.devices.get(deviceId);
    if (state) return state;
    if (this.devices.size >= this.limit && !this.evictIdle(now)) {
      this.refusedNew++;
      return undefined;
    }
    state = {
      deviceId,
      status: 'unknown',
      lastSeen: now,
      heardAt: -Infinity, // set by the caller, on this clock
      lastTs: null,
      meta: null,
      metrics: [],
      metricSet: new Set(),
      pace: { lastTs: -Infinity, cadence: 0, gaps: 0, burstStart: -Infinity },
      persist: 0,
    };
    this.devices.set(deviceId, state);
    return state;
  }
}

/** What the store keeps of a device: what clients see, and its pace once learned. */
function toStored(state: DeviceState): StoredDevice {
  const { gaps, cadence } = state.pace;
  return { ...toInfo(state), cadenceMs: gaps >= CADENCE_MIN_GAPS ? cadence : null };
}

/** What clients see of a device (every device has been seen). */
function toInfo(state: DeviceState): StoredDevice {
  return {
    deviceId: state.deviceId,
    status: state.status,
    lastSeen: state.lastSeen,
    lastTs: state.lastTs,
    meta: state.meta,
    metrics: state.metrics.slice(),
  };
}

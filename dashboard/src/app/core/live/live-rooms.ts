import type { UnsubscribeRequest } from '@pulse/protocol/core';
import { FLEET_ROOM, LIMITS, SUMMARY_ROOM, deviceRoom, groupRoom } from '@pulse/protocol/core';
import type { WatchSpec } from './live-watches';

/*
 * The gateway's rooms as this browser holds them: every watch, device set and the summary count
 * their rooms here, so two views on one device never unsubscribe each other (the gateway's
 * `subscribe` joins rooms one by one and `unsubscribe` leaves them, whoever asked first). Also
 * the device sets (the devices a view shows, changing as it scrolls) and what a batched flush
 * must send for them. Plain bookkeeping owned by LiveService: it must not touch the socket, the
 * stores, signals or timers.
 */

const DEVICE_PREFIX = deviceRoom('');
const GROUP_PREFIX = groupRoom('');

/** The rooms of a watch's spec. */
export function roomsOf(spec: Pick<WatchSpec, 'devices' | 'groups' | 'fleet'>): string[] {
  const rooms = (spec.devices ?? []).map(deviceRoom);
  for (const group of spec.groups ?? []) rooms.push(groupRoom(group));
  if (spec.fleet) rooms.push(FLEET_ROOM);
  return rooms;
}

/** The device of a device room, else null. */
export function deviceOfRoom(room: string): string | null {
  return room.startsWith(DEVICE_PREFIX) ? room.slice(DEVICE_PREFIX.length) : null;
}

/** The `unsubscribe` request that leaves `rooms`. */
export function leaveRequest(rooms: readonly string[]): UnsubscribeRequest {
  const request: UnsubscribeRequest = {};
  const devices: string[] = [];
  const groups: string[] = [];
  for (const room of rooms) {
    const device = deviceOfRoom(room);
    if (room === FLEET_ROOM) request.fleet = true;
    else if (room === SUMMARY_ROOM) request.summary = true;
    else if (device !== null) devices.push(device);
    else if (room.startsWith(GROUP_PREFIX)) groups.push(room.slice(GROUP_PREFIX.length));
  }
  if (devices.length) request.devices = devices;
  if (groups.length) request.groups = groups;
  return request;
}

/** Rooms counted by reference, and which of them the gateway was asked to join on this connection. */
export class RoomRefs {
  private readonly refs = new Map<string, number>();
  private readonly joined = new Set<string>();

  count(room: string): number {
    return this.refs.get(room) ?? 0;
  }

  acquire(rooms: readonly string[]): void {
    for (const room of rooms) this.refs.set(room, this.count(room) + 1);
  }

  /**
   * Drop one reference to each; returns the joined rooms nobody wants any more, now counted as
   * left. With `later`, they stay joined until {@link takeUnwanted} (a batched flush).
   */
  release(rooms: readonly string[], later = false): string[] {
    const leave: string[] = [];
    for (const room of rooms) {
      const n = this.count(room) - 1;
      if (n > 0) {
        this.refs.set(room, n);
        continue;
      }
      this.refs.delete(room);
      if (!later && this.joined.delete(room)) leave.push(room);
    }
    return leave;
  }

  /** Asked to be joined on this connection and not left since. */
  isJoined(room: string): boolean {
    return this.joined.has(room);
  }

  markJoined(rooms: readonly string[]): void {
    for (const room of rooms) if (this.count(room) > 0) this.joined.add(room);
  }

  /** Joined rooms nobody wants (released while a device set's flush was pending); now left. */
  takeUnwanted(): string[] {
    const leave = [...this.joined].filter((room) => this.count(room) === 0);
    for (const room of leave) this.joined.delete(room);
    return leave;
  }

  /** A new connection has joined nothing yet. */
  reset(): void {
    this.joined.clear();
  }
}

/** History a device set asks for when one of its devices becomes visible. */
export interface DeviceSetOptions {
  /** History window (ms before now) asked for a device when it joins the set. */
  historyMs: number;
  /** Points per metric in that acknowledgement: what the view can draw (a sparkline: 60). */
  maxPoints: number;
}

/** A set of devices a view shows; `set()` as often as it scrolls (the diff is sent batched). */
export interface DeviceSetHandle {
  set(deviceIds: readonly string[]): void;
  /**
   * Send the pending diff now rather than at the end of the task, unless one went out within the
   * batch interval (then it keeps waiting for it): a view that knows its first screen before
   * drawing it subscribes before the drawing, not after.
   */
  flush(): void;
  /**
   * Resolves once no device-set subscribe is waiting for the gateway (answered or refused; at
   * once when none is): a view holds back drawing that would delay the answer's values (the
   * first screen's sparklines) until they are on screen. Devices set before the connection is
   * up wait for the subscribe that the connection sends.
   */
  answered(): Promise<void>;
  release(): void;
}

interface DeviceSet {
  readonly options: DeviceSetOptions;
  ids: Set<string>;
  /** Devices whose history this set has asked for on this connection. */
  readonly filled: Set<string>;
  /** Devices whose subscribe the gateway refused or did not answer on this connection (asked again later). */
  readonly refused: Set<string>;
}

/** One batched `subscribe`: devices whose history is asked with these options. */
export interface FillRequest {
  options: DeviceSetOptions;
  devices: string[];
}

export class DeviceSets {
  private readonly sets = new Set<DeviceSet>();

  constructor(private readonly rooms: RoomRefs) {}

  get size(): number {
    return this.sets.size;
  }

  create(options: DeviceSetOptions): DeviceSet {
    const set: DeviceSet = { options, ids: new Set(), filled: new Set(), refused: new Set() };
    this.sets.add(set);
    return set;
  }

  /** Replace the set's devices: references taken and dropped at once, requests at the next flush. */
  update(set: DeviceSet, deviceIds: readonly string[]): void {
    if (!this.sets.has(set)) return;
    const next = new Set(deviceIds);
    const added = [...next].filter((id) => !set.ids.has(id));
    const gone = [...set.ids].filter((id) => !next.has(id));
    this.rooms.acquire(added.map(deviceRoom));
    // Left at the next flush (takeUnwanted), not here: a set that scrolls back within the batch
    // interval sends nothing at all.
    this.rooms.release(gone.map(deviceRoom), true);
    set.ids = next;
  }

  drop(set: DeviceSet): void {
    if (!this.sets.delete(set)) return;
    this.rooms.release([...set.ids].map(deviceRoom), true);
    set.ids.clear();
  }

  /**
   * What a flush sends: `subscribe` per options for the devices not yet filled (marked filled
   * and joined now; {@link unfill} undoes it when the gateway refuses), then `unsubscribe` of the
   * device rooms nobody wants any more. Each request holds at most the contract's 1,000 devices.
   */
  plan(): { fill: FillRequest[]; leave: string[] } {
    const fill: FillRequest[] = [];
    const byOptions = new Map<string, FillRequest>();
    for (const set of this.sets) {
      // Gone since the last flush (and not back): asked again if it returns later.
      for (const id of set.filled) if (!set.ids.has(id)) set.filled.delete(id);
      for (const id of set.refused) if (!set.ids.has(id)) set.refused.delete(id);
      for (const id of set.ids) {
        if (set.filled.has(id)) continue;
        set.filled.add(id);
        set.refused.delete(id);
        const key = `${set.options.historyMs}/${set.options.maxPoints}`;
        let request = byOptions.get(key);
        if (request?.devices.includes(id)) continue; // in two sets with the same options
        if (!request || request.devices.length >= LIMITS.maxSubscribeItems) {
          request = { options: set.options, devices: [] };
          byOptions.set(key, request);
          fill.push(request);
        }
        request.devices.push(id);
      }
    }
    for (const request of fill) this.rooms.markJoined(request.devices.map(deviceRoom));
    return { fill, leave: this.rooms.takeUnwanted() };
  }

  /**
   * Some of the set's devices have not been asked for on this connection yet, and were not
   * refused on it either (a refused device counts as answered until it is asked again).
   */
  unasked(set: DeviceSet): boolean {
    if (!this.sets.has(set)) return false;
    for (const id of set.ids) if (!set.filled.has(id) && !set.refused.has(id)) return true;
    return false;
  }

  /** The set holds devices (released: none). */
  holds(set: DeviceSet): boolean {
    return this.sets.has(set) && set.ids.size > 0;
  }

  /** The gateway refused or did not answer: these devices are asked again at a later flush. */
  unfill(deviceIds: readonly string[]): void {
    for (const set of this.sets)
      for (const id of deviceIds) if (set.filled.delete(id)) set.refused.add(id);
  }

  /**
   * These devices' records went (the store let them go): a set that holds one again asks for
   * its history again, even within one batch of leaving and coming back.
   */
  forget(deviceId: string): void {
    for (const set of this.sets) {
      set.filled.delete(deviceId);
      set.refused.delete(deviceId);
    }
  }

  /** A new connection: every device of every set is asked again. */
  reconnected(): void {
    for (const set of this.sets) {
      set.filled.clear();
      set.refused.clear();
    }
  }
}

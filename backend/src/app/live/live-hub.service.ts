import { Inject, Injectable, Optional } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import {
  AlertEvent,
  DeviceInfo,
  FLEET_ROOM,
  GatewayStatus,
  Reading,
  deviceRoom,
  groupRoom,
} from '@pulse/protocol';
import type { LivePublisher } from '../common/live-publisher';
import { CONFIG, Config } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { FleetSummaryService } from '../fleet/fleet-summary.service';
import { FanOutMeter } from './fan-out-meter';
import { LiveEmitter } from './live-emitter';
import { READINGS_FAN_OUT, ReadingsFanOut } from './readings-fan-out';

/**
 * Device status and meta changes are sent at most this often (each device once, its newest
 * state): a fleet that reconnects at once (a broker or gateway restart) is a handful of
 * `devices` events per screen instead of one per device per screen (one Socket.IO broadcast
 * costs ~45 µs per socket through engine.io).
 */
export const DEVICE_EVENTS_MS = 50;

/** Readings buffered per room between two flushes; beyond it the oldest are dropped (and counted). */
export const ROOM_BUFFER_LIMIT = 10_000;

/**
 * Sparse traffic: a reading that comes IDLE_MS or more after the previous one (and after
 * the end of the last flush) finds the hub idle and may go out once IDLE_GAP_FACTOR × the
 * last flush's cost has passed, instead of FLUSH_GAP_FACTOR ×. Readings close together
 * mean load: they wait for the duty cycle and coalesce. Flushing still takes at most
 * 1 / (1 + IDLE_GAP_FACTOR) of the loop, and sparse readings come at most 1000 / IDLE_MS
 * times a second.
 */
export const IDLE_MS = 4;
export const IDLE_GAP_FACTOR = 2;

/**
 * A room buffer this full is flushed at once, whatever the tick says. Under an ingest
 * flood (100k readings/s) one event-loop turn can read several MB of MQTT before timers
 * run; without this the tick came too late and ROOM_BUFFER_LIMIT dropped readings.
 */
export const FLUSH_AT_READINGS = 5_000;

/**
 * Duty-cycle factor of the adaptive tick: after a flush that took `cost` ms, the next one
 * may start `cost × FLUSH_GAP_FACTOR` ms after it ended, so flushing takes at most
 * 1 / (1 + FLUSH_GAP_FACTOR) of the event loop (≈ 8 % with 12) — and never waits more than
 * FLUSH_MS from the start of the previous flush. See docs/decisions/0005-performance.md.
 */
export const FLUSH_GAP_FACTOR = 12;

/**
 * The duty cycle follows the event loop's load: while the loop was at most LOW_BUSY busy over the
 * last BUSY_WINDOW_MS (everything included: ingest, history, flushes), a flush may start
 * IDLE_GAP_FACTOR × its cost after the last one, so readings close together go out within a
 * few ms instead of waiting FLUSH_GAP_FACTOR × (at 100 readings/s with Poisson arrivals a third
 * come within IDLE_MS of the one before: with 100 sockets that was a 24 ms wait, the p99 of
 * target 4); from HIGH_BUSY up the gap is the full FLUSH_GAP_FACTOR ×, linearly in between.
 * Flushing then takes at most 1/3 of a loop that has room, and 1/13 of one that has none.
 */
export const LOW_BUSY = 0.3;
export const HIGH_BUSY = 0.6;
export const BUSY_WINDOW_MS = 250;

/**
 * The rate floor: while readings come into one watched room faster than CALM_RATE a second (the
 * busiest room over the last BUSY_WINDOW_MS), flushes are at least `minGapFor(rate)` apart, start
 * to start: 0 up to CALM_RATE, rising linearly to MAX_RATE_GAP_MS at BUSY_RATE and above (and
 * never beyond FLUSH_MS). Each flush writes one frame to every member socket whatever it carries, so the
 * CPU of a fan-out is the flush rate × the audience: at 1,000 readings/s to 100 screens the duty
 * cycle alone flushed ~360 times a second, three readings a frame, 36,000 socket writes a
 * second for what 20 frames a second carry as well (decision 0046). A reading that finds the
 * hub idle is not held by it (the idle rule), so sparse readings still go out at once.
 */
export const CALM_RATE = 200;
export const BUSY_RATE = 1000;
export const MAX_RATE_GAP_MS = 50;

/** The rate floor's gap (ms, start to start) for readings coming at `rate` a second. */
export function minGapFor(rate: number): number {
  const t = Math.min(1, Math.max(0, (rate - CALM_RATE) / (BUSY_RATE - CALM_RATE)));
  return t * MAX_RATE_GAP_MS;
}

/** The duty-cycle factor for an event loop `busy` (0..1) over the last window. */
export function gapFactorFor(busy: number): number {
  const t = Math.min(1, Math.max(0, (busy - LOW_BUSY) / (HIGH_BUSY - LOW_BUSY)));
  return IDLE_GAP_FACTOR + t * (FLUSH_GAP_FACTOR - IDLE_GAP_FACTOR);
}

/**
 * DI token of the hub's clocks (tests inject fake ones): `now` is monotonic wall time in ms
 * (when the next flush may run), `cpu` the process CPU time in ms (what a flush cost: CPU
 * rather than wall time, so a flush the OS preempted on a busy machine does not count as
 * expensive).
 */
export const LIVE_HUB_CLOCK = Symbol('LIVE_HUB_CLOCK');
export interface HubClock {
  now(): number;
  cpu(): number;
  /**
   * The event loop's active time in ms (`eventLoopUtilization().active`), for the load the duty
   * cycle follows; without it the loop counts as fully busy (the full FLUSH_GAP_FACTOR).
   */
  active?(): number;
}
const processClock: HubClock = {
  now: () => performance.now(),
  active: () => performance.eventLoopUtilization().active,
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
};

interface RoomBuffer {
  readings: Reading[];
  /** Index of the first reading still to send (older ones were dropped on overflow). */
  start: number;
  except: readonly string[];
}

/** What the hub sends at once, uncoalesced (the LiveEmitter; a fake in the unit spec). */
export type LiveEvents = Pick<LiveEmitter, 'emitDevices' | 'emitAlert' | 'emitGateway'>;

const NO_EXCEPT: readonly string[] = [];
const EXCEPT_FLEET: readonly string[] = [FLEET_ROOM];

/**
 * The live layer's entry (the {@link LivePublisher} that ingest and alerts publish to).
 * Coalesces live readings: buffered per room, flushed with ONE `readings`
 * send per room per tick through the {@link ReadingsFanOut} port; device changes in one
 * `devices` event per audience every DEVICE_EVENTS_MS; alert and gateway events at once through
 * the emitter.
 *
 * Adaptive tick (a duty-cycle budget): every flush measures what it cost
 * (`cost`, process CPU time of the synchronous part: encode once per room +
 * one socket write per member) and the next flush may start
 * `cost × FLUSH_GAP_FACTOR` after it ended, and at the latest FLUSH_MS after
 * it started (IDLE_GAP_FACTOR × for a reading that finds the hub idle). A
 * light load therefore goes out at once, on `setImmediate` after the current
 * I/O batch; a heavy one (1,000 sockets per flush) converges to one flush per
 * FLUSH_MS with everything that arrived in between in one batch per room.
 * Flushing costs at most ~1/(1 + FLUSH_GAP_FACTOR) of the loop either way.
 * Readings that keep coming faster than CALM_RATE also space the flushes by
 * the rate floor (`minGapFor`: up to MAX_RATE_GAP_MS, 20 frames a second per
 * socket at BUSY_RATE), whatever the loop has room for.
 *
 * Only rooms with members are buffered, so readings nobody watches cost nothing (but the fleet
 * summary, which every reading, device and alert event updates: see SummaryPush).
 *
 * Owns the room buffers and the tick; must not touch sockets or know who lags (the fan-out
 * and the lag monitor do), and nothing it calls calls it back.
 */
@Injectable()
export class LiveHubService implements LivePublisher {
  private readonly buffers = new Map<string, RoomBuffer>();
  /** Batches other gateways flushed (several gateways), buffered per room like ours, sent to our sockets only. */
  private readonly relayed = new Map<string, RoomBuffer>();
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
  private timerIsImmediate = false;
  /** Clock time from which the next flush may run (see the duty cycle above). */
  private nextFlushAt = -Infinity;
  /** Same, for a reading that finds the hub idle (see IDLE_MS). */
  private nextIdleFlushAt = -Infinity;
  private lastArrivalAt = -Infinity;
  private lastFlushEndAt = -Infinity;
  /** When the pending timer fires (clock time). */
  private timerDueAt = Infinity;
  private lastFlushCostMs = 0;
  /** The event loop's busy share over the last full BUSY_WINDOW_MS (1 until measured). */
  private busy = 1;
  private busySince = -Infinity;
  private activeSince = 0;
  /**
   * Readings per room watched on this gateway in the rate floor's current window (its own ingest
   * and peers' relayed batches, not refills read back from history). Keyed by rooms with members,
   * emptied every BUSY_WINDOW_MS.
   */
  private readonly roomArrivals = new Map<string, number>();
  private rateSince = -Infinity;
  /** Readings a second into the busiest such room over the last full BUSY_WINDOW_MS (0 until measured). */
  private rate = 0;
  private flushes = 0;

  /**
   * Changes whenever readings were written to rooms (a flush). A history snapshot taken in the
   * same generation as a socket's room join misses nothing: what came in after it is still in
   * this hub's buffers and reaches the room after the join (LiveSubscriptionService shares one).
   */
  get generation(): number {
    return this.flushes;
  }
  private closed = false;
  /** Set by enqueue when a room buffer reached FLUSH_AT_READINGS. */
  private full = false;
  private readonly flushMs: number;
  private readonly clock: HubClock;
  private emits = 0;
  private readingsSent = 0;
  private droppedOverflow = 0;
  private alertsSent = 0;
  /** Devices changed since the last `devices` event, newest state each (keyed by the registry's ids: bounded by MAX_DEVICES). */
  private readonly changedDevices = new Map<string, DeviceInfo>();
  private devicesTimer: ReturnType<typeof setTimeout> | null = null;
  private devicesSent = 0;

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'FLUSH_MS'>,
    @Inject(READINGS_FAN_OUT) private readonly fanOut: ReadingsFanOut,
    @Inject(LiveEmitter) private readonly events: LiveEvents,
    @Optional() @Inject(LIVE_HUB_CLOCK) clock?: HubClock,
    /** Kept up to date with everything published here (absent in unit specs of the tick). */
    @Optional() private readonly summary?: FleetSummaryService,
    /** Told what each flush took, for the overload floor (absent in unit specs of the tick). */
    @Optional() private readonly meter?: FanOutMeter,
    /** Its evictions and removals (absent in unit specs of the tick). */
    @Optional() registry?: DeviceRegistryService,
  ) {
    this.flushMs = config.FLUSH_MS;
    this.clock = clock ?? processClock;
    // A change still waiting for the `devices` event of a device that has just left would reach
    // the screens after it left, and a screen would hold it again (its summary removal may come
    // first).
    registry?.onGone((deviceId) => this.changedDevices.delete(deviceId));
    fanOut.onRelayed?.((room, except, readings) => this.relay(room, except, readings));
  }

  /**
   * A batch another gateway flushed for `room` (several gateways): buffered and flushed on this
   * gateway's tick like its own readings, so its sockets get one frame per tick whatever the
   * peers' tick rates. Arrives from Redis I/O, never from inside a flush.
   */
  private relay(room: string, except: readonly string[], readings: readonly Reading[]): void {
    if (this.closed || readings.length === 0) return;
    this.enqueue(this.relayed, room, except, readings);
    this.countArrivals(room, readings.length);
    this.flushOrSchedule();
  }

  /** Queue readings of one device for its device room, its group's room and the fleet room. */
  publishReadings(deviceId: string, group: string | undefined, readings: readonly Reading[]): void {
    if (this.closed) return;
    this.summary?.applyReadings(deviceId, readings);
    this.queueForRooms(this.buffers, deviceId, group, readings, true);
  }

  /**
   * Readings of one device that this gateway's screens may lack (a departed peer's share, read
   * back from the store: LostPeerRefill): to this gateway's members only, flushed like a peer's
   * relayed batch. Not passed to the other gateways (each survivor refills its own screens), nor
   * to the fleet summary (older than what it holds).
   */
  publishLocal(deviceId: string, group: string | undefined, readings: readonly Reading[]): void {
    if (this.closed || readings.length === 0) return;
    // History read back, not an arrival rate: not counted for the rate floor.
    this.queueForRooms(this.relayed, deviceId, group, readings, false);
  }

  /** `counted`: the readings are arrivals for the rate floor (this gateway's ingest, not a refill). */
  private queueForRooms(
    target: Map<string, RoomBuffer>,
    deviceId: string,
    group: string | undefined,
    readings: readonly Reading[],
    counted: boolean,
  ): void {
    const n = counted ? readings.length : 0;
    let queued = false;
    if (this.fanOut.hasMembers(FLEET_ROOM)) {
      this.enqueue(target, FLEET_ROOM, NO_EXCEPT, readings);
      this.countArrivals(FLEET_ROOM, n);
      queued = true;
    }
    const groupName = group ? groupRoom(group) : null;
    if (groupName && this.fanOut.hasMembers(groupName)) {
      this.enqueue(target, groupName, EXCEPT_FLEET, readings);
      this.countArrivals(groupName, n);
      queued = true;
    }
    const deviceName = deviceRoom(deviceId);
    if (this.fanOut.hasMembers(deviceName)) {
      this.enqueue(
        target,
        deviceName,
        groupName ? [FLEET_ROOM, groupName] : EXCEPT_FLEET,
        readings,
      );
      this.countArrivals(deviceName, n);
      queued = true;
    }
    if (queued) this.flushOrSchedule();
  }

  /**
   * `n` readings came for `room`, counted for the rate floor when a socket of this gateway watches
   * it (several gateways: a room only the peers' screens watch is their floor's business).
   */
  private countArrivals(room: string, n: number): void {
    if (n === 0) return;
    if (this.fanOut.hasLocalMembers && !this.fanOut.hasLocalMembers(room)) return;
    this.roomArrivals.set(room, (this.roomArrivals.get(room) ?? 0) + n);
  }

  /** After an enqueue: at once when a room buffer filled up, else on the tick. */
  private flushOrSchedule(): void {
    if (this.full) {
      this.cancelTimer();
      this.flush();
    } else this.schedule();
  }

  /** Device changes: the newest state of each, sent within DEVICE_EVENTS_MS. */
  publishDevice(device: DeviceInfo): void {
    if (this.closed) return;
    this.summary?.applyDevice(device.deviceId);
    this.changedDevices.set(device.deviceId, device);
    this.devicesTimer ??= setTimeout(this.flushDevices, DEVICE_EVENTS_MS);
  }

  private readonly flushDevices = (): void => {
    if (this.devicesTimer) clearTimeout(this.devicesTimer);
    this.devicesTimer = null;
    if (this.changedDevices.size === 0) return;
    const devices = [...this.changedDevices.values()];
    this.changedDevices.clear();
    this.devicesSent += devices.length;
    this.events.emitDevices(devices);
  };

  /**
   * Alerts are rare and every screen shows them (the alerts panel, the wall banner), so they
   * go at once to every client of the namespace, whatever it watches — the same set the
   * `alerts` snapshot on connect covers (group-scoped clients: their groups only, decided by
   * the emitter's AlertAudience).
   */
  publishAlert(alert: AlertEvent): void {
    if (this.closed) return;
    // A device's change goes out before its alert (a screen meets a new device before its alert).
    if (this.changedDevices.size > 0) this.flushDevices();
    this.summary?.applyAlert(alert);
    this.events.emitAlert(alert);
    this.alertsSent++;
  }

  publishGateway(status: GatewayStatus): void {
    if (!this.closed) this.events.emitGateway(status);
  }

  stats(): {
    emits: number;
    readingsSent: number;
    flushMs: number;
    droppedOverflow: number;
    alertsSent: number;
    devicesSent: number;
    flushes: number;
    lastFlushCostMs: number;
  } {
    return {
      flushes: this.flushes,
      lastFlushCostMs: this.lastFlushCostMs,
      emits: this.emits,
      readingsSent: this.readingsSent,
      flushMs: this.flushMs,
      droppedOverflow: this.droppedOverflow,
      alertsSent: this.alertsSent,
      devicesSent: this.devicesSent,
    };
  }

  /** Send what is buffered now and stop. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.flushDevices();
    this.closed = true;
    this.cancelTimer();
  }

  private enqueue(
    buffers: Map<string, RoomBuffer>,
    room: string,
    except: readonly string[],
    readings: readonly Reading[],
  ): void {
    let buffer = buffers.get(room);
    if (!buffer) {
      buffer = { readings: [], start: 0, except };
      buffers.set(room, buffer);
    } else {
      buffer.except = except; // the device's group may have changed
    }
    for (let i = 0; i < readings.length; i++) {
      if (buffer.readings.length - buffer.start >= ROOM_BUFFER_LIMIT) {
        buffer.start++;
        this.droppedOverflow++;
        if (buffer.start >= ROOM_BUFFER_LIMIT) {
          buffer.readings = buffer.readings.slice(buffer.start);
          buffer.start = 0;
        }
      }
      buffer.readings.push(readings[i]);
    }
    if (buffer.readings.length - buffer.start >= FLUSH_AT_READINGS) this.full = true;
  }

  private schedule(): void {
    const now = this.clock.now();
    // Silence since the last reading or the end of the last flush, whichever is later: readings
    // that queued up in the socket while a long flush ran are load, not idleness.
    // While the rate floor is up, a few ms of silence are the gaps of a busy stream (random
    // arrivals), not idleness: the idle rule would undo the floor.
    const idle =
      now - Math.max(this.lastArrivalAt, this.lastFlushEndAt) >= IDLE_MS && this.rate <= CALM_RATE;
    this.lastArrivalAt = now;
    const at = idle ? Math.min(this.nextFlushAt, this.nextIdleFlushAt) : this.nextFlushAt;
    if (this.timer) {
      if (at >= this.timerDueAt) return;
      this.cancelTimer(); // an idle reading may go out sooner than the pending tick
    }
    const wait = at - now;
    // setTimeout cannot wait less than 1 ms; below that the next turn is as good.
    if (wait < 1) {
      this.timerIsImmediate = true;
      this.timerDueAt = now;
      this.timer = setImmediate(this.flush);
    } else {
      this.timerIsImmediate = false;
      this.timerDueAt = at;
      this.timer = setTimeout(this.flush, wait);
    }
  }

  private cancelTimer(): void {
    if (!this.timer) return;
    if (this.timerIsImmediate) clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    else clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
    this.timerDueAt = Infinity;
  }

  /** The loop's busy share over the window that ended last (sampled as flushes end). */
  private sampleBusy(now: number): void {
    const active = this.clock.active?.();
    if (active === undefined) return;
    if (this.busySince === -Infinity) {
      this.busySince = now;
      this.activeSince = active;
      return;
    }
    const span = now - this.busySince;
    if (span < BUSY_WINDOW_MS) return;
    this.busy = Math.min(1, Math.max(0, (active - this.activeSince) / span));
    this.busySince = now;
    this.activeSince = active;
  }

  /** The busiest room's arrival rate over the window that ended last (sampled as flushes end, like sampleBusy). */
  private sampleRate(now: number): void {
    if (this.rateSince === -Infinity) {
      this.rateSince = now;
      this.roomArrivals.clear();
      return;
    }
    const span = now - this.rateSince;
    if (span < BUSY_WINDOW_MS) return;
    let busiest = 0;
    for (const n of this.roomArrivals.values()) if (n > busiest) busiest = n;
    this.rate = (busiest * 1000) / span;
    this.rateSince = now;
    this.roomArrivals.clear();
  }

  /** One send per room with readings, then the buffers are empty. */
  private sendAll(
    buffers: Map<string, RoomBuffer>,
    send: (room: string, except: readonly string[], batch: Reading[]) => void,
  ): void {
    for (const [room, buffer] of buffers) {
      const batch = buffer.start === 0 ? buffer.readings : buffer.readings.slice(buffer.start);
      if (batch.length === 0) continue;
      send(room, buffer.except, batch);
      this.emits++;
      this.readingsSent += batch.length;
    }
    buffers.clear();
  }

  private readonly flush = (): void => {
    this.timer = null;
    this.timerDueAt = Infinity;
    this.full = false;
    if (this.buffers.size === 0 && this.relayed.size === 0) return;
    const startedAt = this.clock.now();
    const cpuBefore = this.clock.cpu();
    this.sendAll(this.buffers, (room, except, batch) => this.fanOut.send(room, except, batch));
    this.sendAll(this.relayed, (room, except, batch) =>
      this.fanOut.sendLocal?.(room, except, batch),
    );
    const endedAt = this.clock.now();
    const cost = Math.max(0, this.clock.cpu() - cpuBefore);
    this.flushes++;
    this.lastFlushCostMs = cost;
    this.meter?.add(endedAt - startedAt);
    this.sampleBusy(endedAt);
    this.sampleRate(endedAt);
    this.nextFlushAt = Math.min(
      startedAt + this.flushMs,
      Math.max(startedAt + minGapFor(this.rate), endedAt + cost * gapFactorFor(this.busy)),
    );
    this.nextIdleFlushAt = endedAt + cost * IDLE_GAP_FACTOR;
    this.lastFlushEndAt = endedAt;
  };
}

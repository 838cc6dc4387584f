import { Inject, Injectable } from '@nestjs/common';
import {
  AlertEvent,
  DeviceInfo,
  FLEET_ROOM,
  GatewayStatus,
  Reading,
  deviceRoom,
  groupRoom,
} from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import { LiveSocketRepository, LiveSink } from './live-socket.repository';

/** Readings buffered per room between two flushes; beyond it the oldest are dropped (and counted). */
export const ROOM_BUFFER_LIMIT = 10_000;

interface RoomBuffer {
  readings: Reading[];
  /** Index of the first reading still to send (older ones were dropped on overflow). */
  start: number;
  except: readonly string[];
}

const NO_EXCEPT: readonly string[] = [];
const EXCEPT_FLEET: readonly string[] = [FLEET_ROOM];

/**
 * Coalesces live readings: buffered per room, flushed with ONE `readings`
 * emit per room per tick.
 *
 * Adaptive tick: when idle (no flush in the last FLUSH_MS) the first reading
 * is flushed on `setImmediate`, so a lone reading goes out with no added
 * latency; under load flushes are spaced FLUSH_MS apart and everything that
 * arrived in between rides in one batch per room.
 *
 * Only rooms with members are buffered, so readings nobody watches cost nothing.
 */
@Injectable()
export class LiveHubService {
  private readonly buffers = new Map<string, RoomBuffer>();
  private timer:
    | ReturnType<typeof setTimeout>
    | ReturnType<typeof setImmediate>
    | null = null;
  private timerIsImmediate = false;
  private lastFlushAt = -Infinity;
  private closed = false;
  private readonly flushMs: number;
  /** Readings emitted per room since start (for lag accounting). */
  private readonly sentPerRoom = new Map<string, number>();
  private emits = 0;
  private readingsSent = 0;
  private droppedOverflow = 0;
  private alertsSent = 0;
  /** Sockets that get no readings for now (lagging clients), excluded from every readings emit. */
  private readonly paused = new Set<string>();

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'FLUSH_MS'>,
    @Inject(LiveSocketRepository) private readonly sink: LiveSink,
  ) {
    this.flushMs = config.FLUSH_MS;
  }

  /** Queue readings of one device for its device room, its group's room and the fleet room. */
  publishReadings(
    deviceId: string,
    group: string | undefined,
    readings: readonly Reading[],
  ): void {
    if (this.closed) return;
    let queued = false;
    if (this.sink.hasMembers(FLEET_ROOM)) {
      this.enqueue(FLEET_ROOM, NO_EXCEPT, readings);
      queued = true;
    }
    const groupName = group ? groupRoom(group) : null;
    if (groupName && this.sink.hasMembers(groupName)) {
      this.enqueue(groupName, EXCEPT_FLEET, readings);
      queued = true;
    }
    const deviceName = deviceRoom(deviceId);
    if (this.sink.hasMembers(deviceName)) {
      this.enqueue(
        deviceName,
        groupName ? [FLEET_ROOM, groupName] : EXCEPT_FLEET,
        readings,
      );
      queued = true;
    }
    if (queued) this.schedule();
  }

  /** Device changes are rare: emitted at once to its device room, group room and the fleet. */
  publishDevice(device: DeviceInfo): void {
    if (this.closed) return;
    const rooms = [FLEET_ROOM, deviceRoom(device.deviceId)];
    if (device.meta?.group) rooms.push(groupRoom(device.meta.group));
    this.sink.emitDevice(rooms, device);
  }

  /**
   * Alert lifecycle events are rare and urgent: emitted at once (never coalesced) to the
   * device's room, its group's room and the fleet, in one broadcast, so a socket in several
   * of those rooms gets each event once.
   */
  /**
   * Alerts are rare and every screen shows them (the alerts panel, the wall banner), so they
   * go at once to every client of the namespace, whatever it watches — the same set the
   * `alerts` snapshot on connect covers.
   */
  publishAlert(alert: AlertEvent): void {
    if (this.closed) return;
    this.sink.emitAlert(alert);
    this.alertsSent++;
  }

  publishGateway(status: GatewayStatus): void {
    if (!this.closed) this.sink.emitGateway(status);
  }

  /** Stop sending readings to one socket (it stays in its rooms, so per-room counts go on). */
  pauseSocket(socketId: string): void {
    this.paused.add(socketId);
  }

  resumeSocket(socketId: string): void {
    this.paused.delete(socketId);
  }

  /** Total readings emitted to `room` so far. */
  sentTo(room: string): number {
    return this.sentPerRoom.get(room) ?? 0;
  }

  stats(): {
    emits: number;
    readingsSent: number;
    flushMs: number;
    droppedOverflow: number;
    alertsSent: number;
  } {
    return {
      emits: this.emits,
      readingsSent: this.readingsSent,
      flushMs: this.flushMs,
      droppedOverflow: this.droppedOverflow,
      alertsSent: this.alertsSent,
    };
  }

  /** Send what is buffered now and stop. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.cancelTimer();
  }

  private enqueue(
    room: string,
    except: readonly string[],
    readings: readonly Reading[],
  ): void {
    let buffer = this.buffers.get(room);
    if (!buffer) {
      buffer = { readings: [], start: 0, except };
      this.buffers.set(room, buffer);
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
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = this.lastFlushAt + this.flushMs - Date.now();
    if (wait <= 0) {
      this.timerIsImmediate = true;
      this.timer = setImmediate(this.flush);
    } else {
      this.timerIsImmediate = false;
      this.timer = setTimeout(this.flush, wait);
    }
  }

  private cancelTimer(): void {
    if (!this.timer) return;
    if (this.timerIsImmediate)
      clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    else clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
  }

  private readonly flush = (): void => {
    this.timer = null;
    if (this.buffers.size === 0) return;
    this.lastFlushAt = Date.now();
    const paused = this.paused.size > 0 ? [...this.paused] : null;
    for (const [room, buffer] of this.buffers) {
      const batch =
        buffer.start === 0
          ? buffer.readings
          : buffer.readings.slice(buffer.start);
      if (batch.length === 0) continue;
      this.sink.emitReadings(
        room,
        paused ? buffer.except.concat(paused) : buffer.except,
        batch,
      );
      this.emits++;
      this.readingsSent += batch.length;
      this.sentPerRoom.set(
        room,
        (this.sentPerRoom.get(room) ?? 0) + batch.length,
      );
    }
    this.buffers.clear();
  };
}

import { Injectable, Optional } from '@nestjs/common';
import { LIVE_NAMESPACE, Reading } from '@pulse/protocol';
import { Conflator } from './conflation';
import { EncodedEvent, encodeEvent } from './engine-adapter';
import { LagMonitor } from './lag-monitor';
import { LiveEmitter } from './live-emitter';
import type { LiveSocket } from './live-io.server';

/**
 * The port between the live hub's coalescing and the sockets: where one flushed batch of a room
 * goes. The local implementation below writes to this process's sockets; the cross-gateway one
 * (cross-gateway-fan-out.ts, REDIS_URL set) wraps it and is bound to the token instead.
 */
export interface ReadingsFanOut {
  /** Someone watches `room`: readings for rooms without members are not even buffered. */
  hasMembers(room: string): boolean;
  /**
   * Someone connected to this gateway watches `room` (several gateways: hasMembers also counts
   * the peers' screens). Absent: the same as hasMembers. The hub's rate floor counts only readings
   * this gateway writes to its own sockets (decision 0046).
   */
  hasLocalMembers?(room: string): boolean;
  /** Send `batch` to the members of `room`, except sockets in an `except` room (they get it there). */
  send(room: string, except: readonly string[], batch: Reading[]): void;
  /**
   * Several gateways only: batches other gateways ingested arrive through `handler` (called from
   * I/O, never from inside `send`), for the hub to buffer and flush on its own tick with
   * {@link sendLocal}. Without it a gateway would write every peer's batch to its sockets at
   * once, at the peer's flush rate, not at its own.
   */
  onRelayed?(handler: RelayedHandler): void;
  /**
   * Several gateways only: resolves once the other gateways' watched rooms are known, so the
   * ingest can wait for it (a reading taken before would not be relayed to their screens).
   */
  interestKnown?(): Promise<void>;
  /** Send `batch` to this gateway's members of `room` only (a relayed batch: never passed on). */
  sendLocal?(room: string, except: readonly string[], batch: Reading[]): void;
}

/** Receives a batch another gateway flushed for `room` (see {@link ReadingsFanOut.onRelayed}). */
export type RelayedHandler = (room: string, except: readonly string[], batch: Reading[]) => void;

/** DI token of the {@link ReadingsFanOut}. */
export const READINGS_FAN_OUT = Symbol('READINGS_FAN_OUT');

/**
 * The local direct-write fan-out: the emitter writes the room's frame to its members, asking
 * the lag monitor (a {@link LagGate} query) which are paused or throttled and what backlog each
 * may have, and hands back the ones it skipped for their backlog; they go to the monitor once
 * the room is written — one direction, no call back into the hub or the emitter's loop. While
 * anyone is throttled, the batch then goes to the conflator, merged for throttled members.
 *
 * Owns only that hand-off; must not keep lag state (LagMonitor, Conflator) or write to sockets
 * itself (LiveEmitter).
 */
@Injectable()
export class LocalReadingsFanOut implements ReadingsFanOut {
  /** Reused by every send: one array, not one per room per flush. */
  private readonly laggards: LiveSocket[] = [];

  constructor(
    private readonly emitter: LiveEmitter,
    private readonly lag: LagMonitor,
    /** Merges the batch for throttled members (absent in specs without conflation). */
    @Optional() private readonly conflator?: Conflator,
  ) {}

  hasMembers(room: string): boolean {
    return this.emitter.hasMembers(room);
  }

  send(room: string, except: readonly string[], batch: Reading[]): void {
    this.write(room, except, encodeEvent(LIVE_NAMESPACE, 'readings', batch), () => batch);
  }

  /**
   * `encoded` (one room's batch, encoded here or by another gateway) to this gateway's members;
   * `batch` is asked only while someone is throttled (a received batch is decoded then only).
   */
  write(
    room: string,
    except: readonly string[],
    encoded: EncodedEvent,
    batch: () => Reading[],
  ): void {
    const laggards = this.laggards;
    this.emitter.writeReadings(room, except, encoded, this.lag, laggards);
    if (laggards.length > 0) {
      for (let i = 0; i < laggards.length; i++) this.lag.behind(laggards[i]);
      laggards.length = 0;
    }
    // After the laggards: one throttled by this very batch gets it merged, not lost.
    if (this.conflator?.active) this.conflator.absorb(room, except, batch());
  }
}

import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { RateLimitedLog } from '../common/rate-limited-log';
import { Conflator } from './conflation';
import { holdHeartbeat, queuedBytes, queuedPackets, unansweredPing } from './engine-adapter';
import { LAG_PAUSE_BYTES, LAG_PAUSE_PACKETS, LAG_REFILL_BYTES, LagGate } from './lag-gate';
import { LiveEmitter } from './live-emitter';
import type { LiveSocket } from './live-io.server';

/** A paused socket counts as drained with at most this many packets (and no bytes) queued. */
const LAG_RESUME_PACKETS = 8;
/**
 * A paused socket that drained but did not re-subscribe is resumed after this many lag checks
 * in a row (it was told `lagged`; a client that answers re-subscribes within milliseconds).
 */
export const LAG_RESUME_CHECKS = 3;
/**
 * A socket that has not answered an engine.io ping for this long is not reading (its pong
 * waits behind its backlog) and is paused like one with full buffers. Pings go every 25 s,
 * so a stalled client is caught at most ~30 s in — before engine.io's heartbeat (20 s after
 * the ping) would cut it — even when its kernel buffers take longer than that to fill.
 */
export const PONG_LATE_MS = 5000;
/**
 * After a re-subscribe resumes a paused socket, its refill (the acknowledgement, MBs of
 * history) is queued ahead of the live readings: for this long the socket may queue up to
 * LAG_REFILL_BYTES before it counts as lagging again.
 */
export const LAG_REFILL_GRACE_MS = 10_000;
/** A paused socket whose queue has not shrunk for this long is disconnected (its client reconnects and re-subscribes with `since`). */
export const LAG_DISCONNECT_MS = 60_000;
export const LAG_CHECK_MS = 1000;
/**
 * Bytes a socket may have queued in user space when it subscribes; beyond it (or beyond
 * LAG_PAUSE_PACKETS in engine.io) the subscribe is answered `busy` instead of with a snapshot:
 * its client is not reading what it was sent. Above LAG_PAUSE_BYTES so an ack or a batch just
 * written does not count; LAG_REFILL_BYTES while a refill is being sent.
 */
export const ACK_HOLD_BYTES = 4 << 20;
/** Subscribes answered `busy` in a row after which the socket is disconnected (it asks and never reads). */
export const ACK_BUSY_DISCONNECT = 10;
/** The acknowledgement of a subscribe refused for the socket's backlog. */
export const ACK_BACKLOG_BUSY = {
  ok: false,
  error: 'busy: this connection has unread data queued; read it, then subscribe again',
} as const;

/** What the monitor reads from a socket: the engine adapter (a fake in the unit spec). */
export interface SocketProbe {
  queuedPackets(socket: LiveSocket): number;
  queuedBytes(socket: LiveSocket): number;
  unansweredPing(socket: LiveSocket): object | null;
  holdHeartbeat(socket: LiveSocket): void;
}
/** DI token of the {@link SocketProbe}; the engine adapter's when nothing is bound. */
export const SOCKET_PROBE = Symbol('SOCKET_PROBE');
const engineProbe: SocketProbe = { queuedPackets, queuedBytes, unansweredPing, holdHeartbeat };

/** What the monitor needs of the emitter: the sockets to check, and the one event it sends. */
export type LagEmitter = Pick<LiveEmitter, 'sockets' | 'lagged'>;

/** A paused socket: since when, when its queue last shrank (at `queued` = packets + bytes), drained checks in a row. */
interface Lag {
  since: number;
  progressAt: number;
  queued: number;
  drainedChecks: number;
}

/**
 * The one owner of slow-client state: who is throttled, paused or resumed. A socket falls behind
 * when the readings fan-out finds its websocket's user-space queue over its limit (the kernel's
 * buffers, MBs on loopback, are full; see {@link LagGate}) or LAG_PAUSE_PACKETS queued in
 * engine.io, or the once-a-second check finds the same: it is **throttled** — handed to the
 * Conflator, which sends it merged readings at a lower rate and brings it back to every reading
 * when it keeps up (docs/decisions/0019-conflation.md). A throttled socket that reads, however
 * slowly, keeps its connection: its heartbeat is held while its queue shrinks.
 *
 * A socket is **paused** (no readings at all) when it reads nothing: a throttled one whose queue
 * still grows past LAG_REFILL_BYTES, or any whose ping is unanswered for PONG_LATE_MS. It stays
 * in its rooms and is sent `lagged {since}` at once: behind its backlog, so the client reads it
 * when it has caught up, and answers by re-subscribing with `since` = the newest reading it
 * holds, which refills the gap from history and resumes it (with LAG_REFILL_GRACE_MS of a higher
 * limit for the refill). One that drains without re-subscribing is resumed after
 * LAG_RESUME_CHECKS checks. Paused or throttled, no progress for LAG_DISCONNECT_MS and it is
 * disconnected (its client reconnects and re-subscribes with `since`). Without a Conflator
 * (unit specs of the pause path) sockets that fall behind are paused. The same measure decides
 * whether a subscribe may be answered with its snapshot ({@link admitAck}): a socket that does
 * not read gets `busy`, not more acks.
 *
 * Must not write or merge readings (the emitter, the conflator); sends only `lagged`, through the emitter; reads
 * engine state only through the probe (the engine adapter).
 */
@Injectable()
export class LagMonitor implements LagGate {
  /** The context its lines had before the monitor was split from the gateway (log searches). */
  private readonly logger = new Logger('LiveGateway');
  /** One line per kind per 10 s: a congested network can make hundreds of sockets lag at once. */
  private readonly lagLog = new RateLimitedLog((line) => this.logger.warn(line));
  private readonly lagging = new Map<string, Lag>();
  /** Sockets with an unanswered ping: its timer (one per ping) and when it was first seen. */
  private readonly pingsDue = new Map<string, { timer: object; seenAt: number }>();
  /** Sockets resumed by a re-subscribe: until when their refill may queue LAG_REFILL_BYTES. */
  private readonly refills = new Map<string, number>();
  /** Subscribes refused `busy` in a row, by socket (reset by one that is answered). */
  private readonly ackBusy = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private lagPauses = 0;
  private lagDisconnects = 0;
  private ackRefusals = 0;
  private ackDisconnects = 0;
  private readonly probe: SocketProbe;

  /** Throttled sockets' queue (packets + bytes) and when it last shrank. */
  private readonly slow = new Map<string, { queued: number; progressAt: number }>();

  constructor(
    @Inject(LiveEmitter) private readonly emitter: LagEmitter,
    @Optional() @Inject(SOCKET_PROBE) probe?: SocketProbe,
    /** Throttles sockets that fall behind; absent (specs of the pause path): they are paused. */
    @Optional() private readonly conflator?: Conflator,
  ) {
    this.probe = probe ?? engineProbe;
  }

  start(): void {
    this.timer = setInterval(() => this.check(), LAG_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.conflator?.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.lagLog.close();
  }

  stats(): {
    lagPauses: number;
    lagDisconnects: number;
    ackRefusals: number;
    ackDisconnects: number;
  } {
    return {
      lagPauses: this.lagPauses,
      lagDisconnects: this.lagDisconnects,
      ackRefusals: this.ackRefusals,
      ackDisconnects: this.ackDisconnects,
    };
  }

  /**
   * Whether a subscribe from this socket may be answered with its snapshot now: not while more
   * than ACK_HOLD_BYTES (or LAG_PAUSE_PACKETS) are queued for it — a socket that keeps asking for
   * history and never reads would otherwise queue acks without bound. False: answer
   * ACK_BACKLOG_BUSY; at ACK_BUSY_DISCONNECT refusals in a row the socket is also disconnected.
   */
  admitAck(socket: LiveSocket): boolean {
    const bytes = this.probe.queuedBytes(socket);
    const packets = this.probe.queuedPackets(socket);
    const limit = Math.max(ACK_HOLD_BYTES, this.limitBytes(socket.id, Date.now()));
    if (bytes <= limit && packets <= LAG_PAUSE_PACKETS) {
      this.ackBusy.delete(socket.id);
      return true;
    }
    const refused = (this.ackBusy.get(socket.id) ?? 0) + 1;
    this.ackRefusals++;
    if (refused < ACK_BUSY_DISCONNECT) {
      this.ackBusy.set(socket.id, refused);
      this.lagLog.report(
        'ack-busy',
        `socket ${socket.id} subscribed with ${packets} packets, ${bytes} bytes unread: answered busy`,
      );
      return false;
    }
    this.ackDisconnects++;
    this.lagLog.report(
      'ack-flood',
      `socket ${socket.id} subscribed ${refused} times without reading (${bytes} bytes queued): disconnecting`,
    );
    this.forget(socket.id);
    socket.disconnect(true);
    return false;
  }

  /** No live readings for this socket: paused for lagging, or throttled (merged readings instead). */
  isPaused(socketId: string): boolean {
    return this.lagging.has(socketId) || (this.conflator?.isThrottled(socketId) ?? false);
  }

  /**
   * A socket fell behind the live frames (its backlog reached its limit): throttled to merged
   * readings at a lower rate (the conflator), or paused where there is no conflator.
   */
  behind(socket: LiveSocket): void {
    if (this.conflator) this.conflator.enter(socket);
    else this.pause(socket);
  }

  /** The conflator's counters, for /api/stats. */
  conflation() {
    return this.conflator?.stats();
  }

  limitBytes(socketId: string, now: number): number {
    if (this.refills.size === 0) return LAG_PAUSE_BYTES;
    const until = this.refills.get(socketId);
    if (until === undefined) return LAG_PAUSE_BYTES;
    if (until > now) return LAG_REFILL_BYTES;
    this.refills.delete(socketId);
    return LAG_PAUSE_BYTES;
  }

  /** Stop sending readings to a lagging socket and tell it so (`lagged` queues behind its backlog). */
  pause(socket: LiveSocket): void {
    if (this.lagging.has(socket.id) || !socket.connected) return;
    this.conflator?.leave(socket.id);
    this.slow.delete(socket.id);
    const now = Date.now();
    const packets = this.probe.queuedPackets(socket);
    const bytes = this.probe.queuedBytes(socket);
    this.lagging.set(socket.id, {
      since: now,
      progressAt: now,
      queued: packets + bytes,
      drainedChecks: 0,
    });
    this.lagPauses++;
    this.lagLog.report(
      'lagging',
      `socket ${socket.id} lagging (${packets} packets, ${bytes} bytes queued): readings paused, client told \`lagged\``,
    );
    this.emitter.lagged(socket, now);
  }

  /**
   * A socket re-subscribes. If it was paused it has read up to its `lagged`: resumed now, before
   * its snapshot is built, so history and the next live readings leave no gap; and its refill
   * may queue up to LAG_REFILL_BYTES for LAG_REFILL_GRACE_MS.
   */
  resubscribed(socketId: string): void {
    if (!this.lagging.delete(socketId)) return;
    this.refills.set(socketId, Date.now() + LAG_REFILL_GRACE_MS);
  }

  /** The socket disconnected. */
  forget(socketId: string): void {
    this.conflator?.leave(socketId);
    this.slow.delete(socketId);
    this.lagging.delete(socketId);
    this.pingsDue.delete(socketId);
    this.refills.delete(socketId);
    this.ackBusy.delete(socketId);
  }

  /** The once-a-second look at every socket (public for the unit spec's fake timers' sake). */
  check(): void {
    const now = Date.now();
    const probe = this.probe;
    for (const socket of this.emitter.sockets()) {
      const packets = probe.queuedPackets(socket);
      const bytes = probe.queuedBytes(socket);
      const lag = this.lagging.get(socket.id);
      if (!lag && this.conflator?.isThrottled(socket.id)) {
        this.checkThrottled(socket, packets, bytes, now);
        continue;
      }
      if (!lag) {
        if (packets > LAG_PAUSE_PACKETS || bytes >= this.limitBytes(socket.id, now))
          this.behind(socket);
        else if (this.pongLate(socket, now)) this.pause(socket);
        continue;
      }
      // Drained: nothing left in user space and its pings answered (empty user-space buffers
      // alone do not say the client reads: the kernel's can hold MBs). A client that handles
      // `lagged` has re-subscribed by now (and was resumed); one that ignores it gets live
      // readings again after a few checks.
      if (bytes === 0 && packets <= LAG_RESUME_PACKETS && probe.unansweredPing(socket) === null) {
        if (++lag.drainedChecks >= LAG_RESUME_CHECKS) this.lagging.delete(socket.id);
        continue;
      }
      lag.drainedChecks = 0;
      const queued = packets + bytes;
      if (queued < lag.queued) {
        lag.progressAt = now; // draining: the client reads again
      } else if (now - lag.progressAt > LAG_DISCONNECT_MS) {
        this.lagDisconnects++;
        this.lagLog.report(
          'stuck',
          `socket ${socket.id} stuck for ${LAG_DISCONNECT_MS} ms (${packets} packets, ${bytes} bytes queued): disconnecting`,
        );
        this.lagging.delete(socket.id);
        socket.disconnect(true);
        continue;
      }
      lag.queued = queued;
      probe.holdHeartbeat(socket);
    }
  }

  /**
   * A throttled socket: its merged frames are small, so a queue that still grows past
   * LAG_REFILL_BYTES (or 4 × LAG_PAUSE_PACKETS) is a client that does not read: paused, the
   * `lagged` path (it refills from history when it reads again). One that reads, however slowly,
   * keeps its connection: its heartbeat is held (the pong waits behind its queue) while the queue
   * shrinks; no progress for LAG_DISCONNECT_MS and it is disconnected as stuck.
   */
  private checkThrottled(socket: LiveSocket, packets: number, bytes: number, now: number): void {
    if (bytes >= LAG_REFILL_BYTES || packets > 4 * LAG_PAUSE_PACKETS) {
      this.pause(socket);
      return;
    }
    const queued = packets + bytes;
    if (queued === 0) {
      this.slow.delete(socket.id);
      return;
    }
    const slow = this.slow.get(socket.id);
    if (!slow || queued < slow.queued) {
      this.slow.set(socket.id, { queued, progressAt: now });
    } else if (now - slow.progressAt > LAG_DISCONNECT_MS) {
      this.lagDisconnects++;
      this.lagLog.report(
        'stuck',
        `socket ${socket.id} stuck for ${LAG_DISCONNECT_MS} ms while throttled (${packets} packets, ${bytes} bytes queued): disconnecting`,
      );
      this.forget(socket.id);
      socket.disconnect(true);
      return;
    } else slow.queued = queued;
    this.probe.holdHeartbeat(socket);
  }

  /** Whether the socket's current ping has gone unanswered for PONG_LATE_MS (seen by these checks). */
  private pongLate(socket: LiveSocket, now: number): boolean {
    const timer = this.probe.unansweredPing(socket);
    const due = this.pingsDue.get(socket.id);
    if (!timer) {
      if (due) this.pingsDue.delete(socket.id);
      return false;
    }
    if (!due || due.timer !== timer) {
      this.pingsDue.set(socket.id, { timer, seenAt: now });
      return false;
    }
    if (now - due.seenAt < PONG_LATE_MS) return false;
    this.pingsDue.delete(socket.id);
    return true;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { AckResponse, LiveAckRequestSchema, SubscribeAck, formatIssues } from '@pulse/protocol';
import type { Server as HttpServer } from 'node:http';
import { AlertsService } from '../alerts/alerts.service';
import { IngestService } from '../ingest/ingest.service';
import { RateLimitedLog } from '../ingest/rate-limited-log';
import { AckBudget } from './ack-budget';
import { LiveHubService } from './live-hub.service';
import {
  LiveSocket,
  LiveSocketRepository,
  holdHeartbeat,
  lagLimitBytes,
  queuedBytes,
  queuedPackets,
  unansweredPing,
} from './live-socket.repository';
import { LiveSubscriptionService, RoomMembership } from './live-subscription.service';

/** A socket with more packets than this queued in engine.io is lagging (long-polling, mostly). */
export const LAG_PAUSE_PACKETS = 256;
/** A paused socket counts as drained with at most this many packets (and no bytes) queued. */
export const LAG_RESUME_PACKETS = 8;
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
const LAG_CHECK_MS = 1000;

/** Socket.IO 4's server-side disconnect reasons (the keys of `live.disconnects`). */
const DISCONNECT_REASONS = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'parse error',
  'server shutting down',
  'forced server close',
  'client namespace disconnect',
  'server namespace disconnect',
]);

/**
 * Thin Socket.IO gateway for namespace `/live`: wires events to
 * {@link LiveSubscriptionService} and {@link AlertsService} (`ack`), sends the
 * gateway status and the active alerts (`alerts`, then `alert` deltas) on
 * connect, and bounds what slow clients cost.
 *
 * Slow clients: a socket is paused for lagging when the hub's emit finds
 * LAG_PAUSE_BYTES queued on its websocket in user space (the kernel's buffers,
 * MBs on loopback, are full), or when the once-a-second check finds more than
 * LAG_PAUSE_PACKETS queued in engine.io (long-polling), or a ping unanswered for
 * PONG_LATE_MS (a client that reads nothing, whatever its buffers). A paused socket stays in
 * its rooms but gets no readings, and is sent `lagged {since}` at once: behind
 * its backlog, so the client reads it when it has caught up with what it had,
 * and it answers by re-subscribing with `since` = the newest reading it holds,
 * which refills the gap from history and resumes it. One that drains without
 * re-subscribing is resumed after LAG_RESUME_CHECKS checks. While paused, its
 * engine.io heartbeat is held (its pong waits behind the backlog) and the
 * gateway bounds it instead: no progress for LAG_DISCONNECT_MS and it is
 * disconnected (its client reconnects and re-subscribes with `since`).
 */
@Injectable()
export class LiveGateway {
  private readonly logger = new Logger('LiveGateway');
  /** One line per kind per 10 s: a congested network can make hundreds of sockets lag at once. */
  private readonly lagLog = new RateLimitedLog((line) => this.logger.warn(line));
  private lagTimer: ReturnType<typeof setInterval> | null = null;
  private lagPauses = 0;
  private lagDisconnects = 0;
  /** Disconnects by Socket.IO reason (ping timeout, transport close, …). */
  private readonly disconnects = new Map<string, number>();
  /** Sockets with an unanswered ping: its timer (one per ping) and when it was first seen. */
  private readonly pingsDue = new Map<string, { timer: object; seenAt: number }>();
  /** Paces history in subscribe acks (refill storms); see AckBudget. */
  private readonly ackBudget = new AckBudget();

  constructor(
    private readonly sockets: LiveSocketRepository,
    private readonly subscriptions: LiveSubscriptionService,
    private readonly hub: LiveHubService,
    private readonly ingest: IngestService,
    private readonly alerts: AlertsService,
  ) {}

  start(httpServer: HttpServer): void {
    this.sockets.attach(
      httpServer,
      (socket) => this.handleConnection(socket),
      (socket) => this.pause(socket),
    );
    this.lagTimer = setInterval(() => this.checkLag(), LAG_CHECK_MS);
    this.lagTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.lagTimer = null;
    this.ackBudget.close();
    this.hub.close();
    await this.sockets.close();
  }

  stats(): {
    lagPauses: number;
    lagDisconnects: number;
    disconnects: Record<string, number>;
  } {
    return {
      lagPauses: this.lagPauses,
      lagDisconnects: this.lagDisconnects,
      disconnects: Object.fromEntries(this.disconnects),
    };
  }

  /** Socket.IO's reasons are a fixed set of strings; anything else is counted as `other`. */
  private countDisconnect(reason: string): void {
    const key = DISCONNECT_REASONS.has(reason) ? reason : 'other';
    this.disconnects.set(key, (this.disconnects.get(key) ?? 0) + 1);
  }

  /*
   * The same four listener functions serve every socket (socket.io calls them with
   * `this` = the socket) instead of four closures and a membership object per connection;
   * room membership is built on demand. Small (not measurable in RSS per idle connection,
   * see docs/decisions/0005-performance.md) but free.
   */
  private readonly onDisconnect = ((gateway: LiveGateway) =>
    function (this: LiveSocket, reason: string): void {
      gateway.hub.resumeSocket(this.id);
      gateway.pingsDue.delete(this.id);
      gateway.countDisconnect(reason);
    })(this);

  private readonly onSubscribe = ((gateway: LiveGateway) =>
    function (this: LiveSocket, ...args: unknown[]): void {
      gateway.subscribeWhenBudgetAllows(this, args);
    })(this);

  private readonly onUnsubscribe = ((gateway: LiveGateway) =>
    function (this: LiveSocket, ...args: unknown[]): void {
      gateway.answer(args, 'unsubscribe', () =>
        gateway.subscriptions.unsubscribe(membership(this), args[0]),
      );
    })(this);

  private readonly onAck = ((gateway: LiveGateway) =>
    function (this: LiveSocket, ...args: unknown[]): void {
      gateway.answer(args, 'ack', () => gateway.acknowledge(args[0]));
    })(this);

  private handleConnection(socket: LiveSocket): void {
    socket.emit('gateway', this.ingest.gatewayStatus());
    // Snapshot, then deltas: `alert` events reach every socket of the namespace.
    socket.emit('alerts', this.alerts.active());
    socket.on('disconnect', this.onDisconnect);
    // Untrusted input: never assume the shape of the arguments or that an ack was given.
    socket.on('subscribe', this.onSubscribe);
    socket.on('unsubscribe', this.onUnsubscribe);
    socket.on('ack', this.onAck);
  }

  /** Run a request handler and answer through the ack callback, if the client gave one. */
  private answer(args: unknown[], event: string, handle: () => unknown): void {
    const ack = takeAck(args);
    let response: unknown;
    try {
      response = handle();
    } catch (error) {
      this.logger.error(`${event} failed: ${String(error)}`);
      response =
        event === 'ack'
          ? { ok: false, error: 'invalid', message: 'internal error' }
          : { ok: false, error: 'internal error' };
    }
    ack?.(response);
  }

  /** Subscribe requests with history wait for the ack budget (refill storms). */
  private subscribeWhenBudgetAllows(socket: LiveSocket, args: unknown[]): void {
    const serve = () => {
      if (!socket.connected) return; // gone while it waited for the budget
      // A paused socket re-subscribing has read up to its `lagged`: resume it now, before the
      // snapshot, so history and the next live readings leave no gap.
      if (socket.data.lag) {
        this.resume(socket);
        socket.data.refillUntil = Date.now() + LAG_REFILL_GRACE_MS;
      }
      this.answer(args, 'subscribe', () => this.subscribeAndCount(socket, args[0]));
    };
    if (!wantsHistory(args[0])) return serve();
    if (!this.ackBudget.run(serve))
      this.answer(args, 'subscribe', () => ({
        ok: false,
        error: 'busy: too many subscriptions waiting for history; retry later',
      }));
  }

  private subscribeAndCount(socket: LiveSocket, raw: unknown): SubscribeAck {
    const ack = this.subscriptions.subscribe(membership(socket), raw);
    if (ack.ok) {
      let points = 0;
      for (const series of ack.history) points += series.t.length;
      this.ackBudget.spend(points);
    }
    return ack;
  }

  private acknowledge(raw: unknown): AckResponse {
    const parsed = LiveAckRequestSchema.safeParse(raw);
    if (!parsed.success)
      return {
        ok: false,
        error: 'invalid',
        message: formatIssues(parsed.error),
      };
    const { id, ...request } = parsed.data;
    return this.alerts.acknowledge(id, request);
  }

  /** Stop sending readings to a lagging socket and tell it so (`lagged` queues behind its backlog). */
  private pause(socket: LiveSocket): void {
    if (socket.data.lag || !socket.connected) return;
    const now = Date.now();
    const packets = queuedPackets(socket);
    const bytes = queuedBytes(socket);
    socket.data.lag = {
      since: now,
      progressAt: now,
      queued: packets + bytes,
      drainedChecks: 0,
    };
    this.hub.pauseSocket(socket.id);
    this.lagPauses++;
    this.lagLog.report(
      'lagging',
      `socket ${socket.id} lagging (${packets} packets, ${bytes} bytes queued): readings paused, client told \`lagged\``,
    );
    socket.emit('lagged', { since: now });
  }

  /** Whether the socket's current ping has gone unanswered for PONG_LATE_MS (seen by these checks). */
  private pongLate(socket: LiveSocket, now: number): boolean {
    const timer = unansweredPing(socket);
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

  private resume(socket: LiveSocket): void {
    socket.data.lag = undefined;
    this.hub.resumeSocket(socket.id);
  }

  private checkLag(): void {
    const now = Date.now();
    for (const socket of this.sockets.sockets()) {
      const packets = queuedPackets(socket);
      const bytes = queuedBytes(socket);
      const lag = socket.data.lag;
      if (!lag) {
        if (
          packets > LAG_PAUSE_PACKETS ||
          bytes >= lagLimitBytes(socket, now) ||
          this.pongLate(socket, now)
        )
          this.pause(socket);
        continue;
      }
      // Drained: nothing left in user space and its pings answered (empty user-space buffers
      // alone do not say the client reads: the kernel's can hold MBs). A client that handles
      // `lagged` has re-subscribed by now (and was resumed); one that ignores it gets live
      // readings again after a few checks.
      if (bytes === 0 && packets <= LAG_RESUME_PACKETS && unansweredPing(socket) === null) {
        if (++lag.drainedChecks >= LAG_RESUME_CHECKS) this.resume(socket);
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
        this.resume(socket);
        socket.disconnect(true);
        continue;
      }
      lag.queued = queued;
      holdHeartbeat(socket);
    }
  }
}

/** Untrusted input: anything but an explicit `history: false` may carry history. */
function wantsHistory(raw: unknown): boolean {
  return !(
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { history?: unknown }).history === false
  );
}

/** The rooms a socket is in (without its own id room) and where a join/leave lands. */
function membership(socket: LiveSocket): RoomMembership {
  return {
    current: () => {
      const rooms = new Set<string>(socket.rooms);
      rooms.delete(socket.id);
      return rooms;
    },
    join: (rooms) => {
      if (rooms.length > 0) void socket.join(rooms);
    },
    leave: (rooms) => {
      for (const room of rooms) if (room !== socket.id) void socket.leave(room);
    },
  };
}

function takeAck(args: unknown[]): ((response: unknown) => void) | undefined {
  const last = args[args.length - 1];
  if (typeof last !== 'function') return undefined;
  args.pop();
  return last as (response: unknown) => void;
}

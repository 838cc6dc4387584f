import { Injectable, Logger } from '@nestjs/common';
import {
  AckResponse,
  LiveAckRequestSchema,
  SubscribeAck,
  formatIssues,
} from '@pulse/protocol';
import type { Server as HttpServer } from 'node:http';
import { AlertsService } from '../alerts/alerts.service';
import { IngestService } from '../ingest/ingest.service';
import { AckBudget } from './ack-budget';
import { LiveHubService } from './live-hub.service';
import {
  LiveSocket,
  LiveSocketRepository,
  bufferedPackets,
} from './live-socket.repository';
import {
  LiveSubscriptionService,
  RoomMembership,
} from './live-subscription.service';

/** A socket with more packets than this queued is lagging: its reading rooms are paused. */
export const LAG_PAUSE_PACKETS = 256;
/** A paused socket resumes (and gets `lagged`) once its queue is back under this. */
export const LAG_RESUME_PACKETS = 8;
/** A socket paused this long is disconnected (the client reconnects and re-subscribes with `since`). */
export const LAG_DISCONNECT_MS = 60_000;
const LAG_CHECK_MS = 1000;

/**
 * Thin Socket.IO gateway for namespace `/live`: wires events to
 * {@link LiveSubscriptionService} and {@link AlertsService} (`ack`), sends the
 * gateway status and the active alerts (`alerts`, then `alert` deltas) on
 * connect, and watches for slow clients.
 *
 * Slow clients: readings are broadcast per room (encoded once), and a
 * broadcast cannot look at each socket's backlog cheaply. Instead, once a
 * second, a socket whose engine.io write buffer holds more than
 * LAG_PAUSE_PACKETS is paused: it stays in its rooms but every readings
 * broadcast excludes it (`except(socketId)`), so its backlog stops growing.
 * When the buffer has drained it is resumed and receives
 * `lagged {droppedReadings, since}` (droppedReadings: readings emitted to its
 * rooms meanwhile — an upper bound when rooms overlap) so it can re-subscribe
 * with `since` and backfill the gap from history. A socket whose queue has not
 * shrunk for LAG_DISCONNECT_MS is disconnected (its client reconnects and
 * re-subscribes); one that is draining is left to finish and gets `lagged`.
 * Note that the kernel's socket buffers (several MB on loopback) hold a stalled
 * client's first seconds of backlog where engine.io cannot see them, so a
 * pause starts only once they are full.
 */
@Injectable()
export class LiveGateway {
  private readonly logger = new Logger('LiveGateway');
  private lagTimer: ReturnType<typeof setInterval> | null = null;
  private lagPauses = 0;
  private lagDisconnects = 0;
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
    this.sockets.attach(httpServer, (socket) => this.handleConnection(socket));
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

  stats(): { lagPauses: number; lagDisconnects: number } {
    return { lagPauses: this.lagPauses, lagDisconnects: this.lagDisconnects };
  }

  /*
   * The same four listener functions serve every socket (socket.io calls them with
   * `this` = the socket) instead of four closures and a membership object per connection;
   * room membership is built on demand. Small (not measurable in RSS per idle connection,
   * see docs/decisions/0005-performance.md) but free.
   */
  private readonly onDisconnect = ((gateway: LiveGateway) =>
    function (this: LiveSocket): void {
      gateway.hub.resumeSocket(this.id);
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
      this.answer(args, 'subscribe', () =>
        this.subscribeAndCount(socket, args[0]),
      );
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

  private checkLag(): void {
    const now = Date.now();
    for (const socket of this.sockets.sockets()) {
      const queued = bufferedPackets(socket);
      const lag = socket.data.lag;
      if (!lag) {
        if (queued <= LAG_PAUSE_PACKETS) continue;
        const sentAtPause = new Map<string, number>();
        for (const room of socket.rooms)
          if (room !== socket.id) sentAtPause.set(room, this.hub.sentTo(room));
        socket.data.lag = { since: now, sentAtPause, progressAt: now, queued };
        this.hub.pauseSocket(socket.id);
        this.lagPauses++;
        this.logger.warn(
          `socket ${socket.id} lagging (${queued} packets queued): readings paused`,
        );
      } else if (queued <= LAG_RESUME_PACKETS) {
        let droppedReadings = 0;
        for (const [room, sent] of lag.sentAtPause)
          if (socket.rooms.has(room))
            droppedReadings += this.hub.sentTo(room) - sent;
        socket.data.lag = undefined;
        this.hub.resumeSocket(socket.id);
        socket.emit('lagged', { droppedReadings, since: lag.since });
      } else if (queued < lag.queued) {
        // Draining (the client reads again): give it time to catch up, then `lagged`.
        lag.queued = queued;
        lag.progressAt = now;
      } else if (now - lag.progressAt > LAG_DISCONNECT_MS) {
        this.lagDisconnects++;
        this.logger.warn(
          `socket ${socket.id} stuck for ${LAG_DISCONNECT_MS} ms (${queued} packets queued): disconnecting`,
        );
        this.hub.resumeSocket(socket.id);
        socket.disconnect(true);
      }
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

import { Injectable, Logger } from '@nestjs/common';
import {
  AckResponse,
  LiveAckRequestSchema,
  formatIssues,
} from '@pulse/protocol';
import type { Server as HttpServer } from 'node:http';
import { AlertsService } from '../alerts/alerts.service';
import { IngestService } from '../ingest/ingest.service';
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
 * with `since` and backfill the gap from history. A socket still stuck after
 * LAG_DISCONNECT_MS is disconnected (its client reconnects and re-subscribes).
 */
@Injectable()
export class LiveGateway {
  private readonly logger = new Logger('LiveGateway');
  private lagTimer: ReturnType<typeof setInterval> | null = null;
  private lagPauses = 0;
  private lagDisconnects = 0;

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
    this.hub.close();
    await this.sockets.close();
  }

  stats(): { lagPauses: number; lagDisconnects: number } {
    return { lagPauses: this.lagPauses, lagDisconnects: this.lagDisconnects };
  }

  private handleConnection(socket: LiveSocket): void {
    socket.emit('gateway', this.ingest.gatewayStatus());
    // Snapshot, then deltas: `alert` events reach the socket through the rooms it subscribes to.
    socket.emit('alerts', this.alerts.active());
    const membership = this.membership(socket);
    socket.on('disconnect', () => this.hub.resumeSocket(socket.id));
    // Untrusted input: never assume the shape of the arguments or that an ack was given.
    socket.on('subscribe', (...args: unknown[]) => {
      const ack = takeAck(args);
      let response;
      try {
        response = this.subscriptions.subscribe(membership, args[0]);
      } catch (error) {
        this.logger.error(`subscribe failed: ${String(error)}`);
        response = { ok: false as const, error: 'internal error' };
      }
      ack?.(response);
    });
    socket.on('unsubscribe', (...args: unknown[]) => {
      const ack = takeAck(args);
      let response;
      try {
        response = this.subscriptions.unsubscribe(membership, args[0]);
      } catch (error) {
        this.logger.error(`unsubscribe failed: ${String(error)}`);
        response = { ok: false as const, error: 'internal error' };
      }
      ack?.(response);
    });
    socket.on('ack', (...args: unknown[]) => {
      const ack = takeAck(args);
      let response: AckResponse;
      try {
        response = this.acknowledge(args[0]);
      } catch (error) {
        this.logger.error(`ack failed: ${String(error)}`);
        response = {
          ok: false,
          error: 'invalid',
          message: 'internal error',
        };
      }
      ack?.(response);
    });
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

  private membership(socket: LiveSocket): RoomMembership {
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
        for (const room of rooms)
          if (room !== socket.id) void socket.leave(room);
      },
    };
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
        socket.data.lag = { since: now, sentAtPause };
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
      } else if (now - lag.since > LAG_DISCONNECT_MS) {
        this.lagDisconnects++;
        this.logger.warn(
          `socket ${socket.id} still lagging after ${LAG_DISCONNECT_MS} ms: disconnecting`,
        );
        this.hub.resumeSocket(socket.id);
        socket.disconnect(true);
      }
    }
  }
}

function takeAck(args: unknown[]): ((response: unknown) => void) | undefined {
  const last = args[args.length - 1];
  if (typeof last !== 'function') return undefined;
  args.pop();
  return last as (response: unknown) => void;
}

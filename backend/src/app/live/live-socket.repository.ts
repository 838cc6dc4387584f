import { Injectable, Logger } from '@nestjs/common';
import {
  AlertEvent,
  ClientToServerEvents,
  DeviceInfo,
  GatewayStatus,
  LIMITS,
  LIVE_NAMESPACE,
  Reading,
  ServerToClientEvents,
} from '@pulse/protocol';
import {
  ServerResponse,
  type IncomingMessage,
  type Server as HttpServer,
} from 'node:http';
import { Namespace, Server, Socket } from 'socket.io';

/** Per-socket state kept by the gateway (socket.io's typed `socket.data`). */
export interface LiveSocketData {
  /**
   * Set while the socket is lagging: since when, how many readings each of its rooms had had
   * then, and when its queue last shrank (`progressAt`, at `queued` packets).
   */
  lag?: {
    since: number;
    sentAtPause: Map<string, number>;
    progressAt: number;
    queued: number;
  };
}

export type LiveSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  LiveSocketData
>;
export type LiveNamespace = Namespace<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  LiveSocketData
>;

/** What the live hub needs from the socket layer (a fake in unit tests). */
export interface LiveSink {
  hasMembers(room: string): boolean;
  emitReadings(room: string, except: readonly string[], batch: Reading[]): void;
  emitDevice(rooms: readonly string[], device: DeviceInfo): void;
  emitGateway(status: GatewayStatus): void;
  emitAlert(alert: AlertEvent): void;
}

/**
 * Owns the Socket.IO server (the one side effect of the live feature): it is
 * attached to Nest's HTTP server, serves namespace `/live` over websocket and
 * long-polling, and is the only place that emits.
 */
@Injectable()
export class LiveSocketRepository implements LiveSink {
  private readonly logger = new Logger('LiveSocket');
  private io: Server<
    ClientToServerEvents,
    ServerToClientEvents,
    Record<string, never>,
    LiveSocketData
  > | null = null;
  private nsp: LiveNamespace | null = null;

  attach(
    httpServer: HttpServer,
    onConnection: (socket: LiveSocket) => void,
  ): void {
    this.io = new Server(httpServer, {
      transports: ['websocket', 'polling'],
      // Bigger client messages close the connection (websocket) or get 413 (polling).
      maxHttpBufferSize: LIMITS.maxSocketMessageBytes,
      serveClient: false,
      // Broadcasts are encoded once and written to every socket as the same frame; compression
      // would mean one deflate/gzip per socket per frame (and a zlib context per websocket).
      perMessageDeflate: false,
      httpCompression: false,
    });
    releaseUpgradeRequests(this.io);
    this.nsp = this.io.of(LIVE_NAMESPACE);
    this.nsp.on('connection', onConnection);
    this.logger.debug(`Socket.IO namespace ${LIVE_NAMESPACE} attached`);
  }

  hasMembers(room: string): boolean {
    return this.nsp !== null && this.nsp.adapter.rooms.has(room);
  }

  /**
   * One broadcast per room: socket.io encodes the packet once for all its
   * sockets. `except` removes sockets that get the same readings through a
   * wider room (fleet, group), so no socket receives a reading twice.
   */
  emitReadings(
    room: string,
    except: readonly string[],
    batch: Reading[],
  ): void {
    if (!this.nsp) return;
    if (except.length === 0) this.nsp.to(room).emit('readings', batch);
    else
      this.nsp
        .to(room)
        .except(except as string[])
        .emit('readings', batch);
  }

  emitDevice(rooms: readonly string[], device: DeviceInfo): void {
    // socket.io de-duplicates sockets across the rooms of one broadcast.
    this.nsp?.to(rooms as string[]).emit('device', device);
  }

  /** One broadcast to several rooms: socket.io sends it once to a socket in more than one of them. */
  emitAlert(alert: AlertEvent): void {
    this.nsp?.emit('alert', alert);
  }

  emitGateway(status: GatewayStatus): void {
    this.nsp?.emit('gateway', status);
  }

  sockets(): Iterable<LiveSocket> {
    return this.nsp ? this.nsp.sockets.values() : [];
  }

  clientCount(): number {
    return this.nsp ? this.nsp.sockets.size : 0;
  }

  async close(): Promise<void> {
    const io = this.io;
    this.io = null;
    this.nsp = null;
    if (!io) return;
    io.disconnectSockets(true);
    // io.close() also closes the HTTP server; Nest closes it again afterwards, harmlessly.
    await new Promise<void>((resolve) => io.close(() => resolve()));
  }
}

/**
 * Drops engine.io's references to the first HTTP request of each session once the session is
 * open: nothing in Pulse reads `socket.request` or the handshake headers, and an idle connection
 * would otherwise keep the IncomingMessage (headers, raw headers, parser state) for its whole
 * life (~1 KB per connection, docs/decisions/0005-performance.md, target 7a). This is Socket.IO's
 * documented `rawSocket.request = null` (https://socket.io/docs/v4/memory-usage/), plus the one
 * reference engine.io >= 6.6 adds for websocket upgrades: the stand-in response it hands to
 * `engine.use()` middlewares keeps `req` alive through a `close` listener on the TCP socket.
 * Consequence: `socket.request` is null and `socket.handshake.headers`/`query` are empty in
 * namespace middlewares and handlers (use an `engine.use()` middleware to read the request).
 */
export function releaseUpgradeRequests(io: Server): void {
  const upgradeResponses = new WeakMap<IncomingMessage, { req: unknown }>();
  io.engine.use(
    (req: IncomingMessage, res: { req: unknown }, next: () => void) => {
      // A websocket upgrade has no ServerResponse: engine.io passes its own stand-in.
      if (!(res instanceof ServerResponse)) upgradeResponses.set(req, res);
      next();
    },
  );
  io.engine.on('connection', (raw: { request: IncomingMessage | null }) => {
    const req = raw.request;
    if (!req) return;
    const res = upgradeResponses.get(req);
    if (res) {
      res.req = null;
      upgradeResponses.delete(req);
    }
    raw.request = null;
  });
}

/** Packets queued in engine.io for a socket (private field; the only measure of a slow client). */
export function bufferedPackets(socket: LiveSocket): number {
  const conn = socket.conn as unknown as { writeBuffer?: unknown[] };
  return conn.writeBuffer?.length ?? 0;
}

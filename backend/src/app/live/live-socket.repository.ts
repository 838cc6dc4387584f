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
import type { Server as HttpServer } from 'node:http';
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

/** Packets queued in engine.io for a socket (private field; the only measure of a slow client). */
export function bufferedPackets(socket: LiveSocket): number {
  const conn = socket.conn as unknown as { writeBuffer?: unknown[] };
  return conn.writeBuffer?.length ?? 0;
}

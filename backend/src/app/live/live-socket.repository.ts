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
import { ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Socket as TcpSocket } from 'node:net';
import { Namespace, Server, Socket } from 'socket.io';
import { EntryGuard } from '../security/entry-guard.service';

/** Per-socket state kept by the gateway (socket.io's typed `socket.data`). */
export interface LiveSocketData {
  /**
   * Set while the socket is paused for lagging: since when, when its queue last shrank
   * (`progressAt`, at `queued` = packets + bytes), and for how many lag checks in a row it
   * has been drained without re-subscribing.
   */
  lag?: {
    since: number;
    progressAt: number;
    queued: number;
    drainedChecks: number;
  };
  /**
   * Until then (ms) the socket may queue up to LAG_REFILL_BYTES before it counts as lagging:
   * set when a re-subscribe resumes it, whose acknowledgement (the refill, MBs) is queued too.
   */
  refillUntil?: number;
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

/**
 * Bytes queued on a websocket in user space (beyond what the kernel's socket buffers took) at
 * which the socket is paused for lagging. The kernel takes MBs on loopback first, so a socket
 * over this has not read for seconds. Frames are shared between sockets, so the bytes queued
 * on many lagging sockets are mostly the same few buffers. Above the biggest frame a flush
 * can make (FLUSH_AT_READINGS readings), so one big batch does not count as lagging.
 */
export const LAG_PAUSE_BYTES = 1 << 20;
/** The limit instead of LAG_PAUSE_BYTES while a refill is being sent (an ack can be ~10 MB). */
export const LAG_REFILL_BYTES = 16 << 20;

/** Bytes a socket may have queued in user space before it counts as lagging (see LiveSocketData.refillUntil). */
export function lagLimitBytes(socket: LiveSocket, now: number): number {
  const until = socket.data.refillUntil;
  return until !== undefined && until > now ? LAG_REFILL_BYTES : LAG_PAUSE_BYTES;
}

/** What the live hub needs from the socket layer (a fake in unit tests). */
export interface LiveSink {
  hasMembers(room: string): boolean;
  /**
   * Send `batch` to the members of `room`, except sockets in an `except` room and `paused`
   * sockets (by id).
   */
  emitReadings(
    room: string,
    except: readonly string[],
    batch: Reading[],
    paused: ReadonlySet<string>,
  ): void;
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
  private onLagging: (socket: LiveSocket) => void = () => undefined;
  private readonly encodeOptions = { preEncoded: true, wsPreEncodedFrame: [] as Buffer[] };
  private directWrites = 0;
  private engineWrites = 0;

  constructor(private readonly entry: EntryGuard) {}

  /**
   * `onLagging` is called (during a readings emit) for a websocket whose user-space queue
   * reached LAG_PAUSE_BYTES; that socket is skipped by the emit.
   */
  attach(
    httpServer: HttpServer,
    onConnection: (socket: LiveSocket) => void,
    onLagging?: (socket: LiveSocket) => void,
  ): void {
    if (onLagging) this.onLagging = onLagging;
    this.io = new Server(httpServer, {
      transports: ['websocket', 'polling'],
      // Bigger client messages close the connection (websocket) or get 413 (polling).
      maxHttpBufferSize: LIMITS.maxSocketMessageBytes,
      serveClient: false,
      // Origin allowlist on the first request of every session, websocket and polling alike.
      allowRequest: this.entry.allowSocketRequest,
      // Broadcasts are encoded once and written to every socket as the same frame; compression
      // would mean one deflate/gzip per socket per frame (and a zlib context per websocket).
      perMessageDeflate: false,
      httpCompression: false,
    });
    releaseUpgradeRequests(this.io);
    this.nsp = this.io.of(LIVE_NAMESPACE);
    this.nsp.on('connection', (socket) => {
      this.entry.limitEvents(socket);
      onConnection(socket);
    });
    this.logger.debug(`Socket.IO namespace ${LIVE_NAMESPACE} attached`);
  }

  hasMembers(room: string): boolean {
    return this.nsp !== null && this.nsp.adapter.rooms.has(room);
  }

  /**
   * One frame per room, encoded once and shared by every member (the Socket.IO event
   * `readings` in an Engine.IO message in a websocket text frame, header included, in one
   * Buffer). A member on websocket with nothing queued in engine.io gets it written straight
   * to its TCP socket: one `write` of a shared Buffer, no per-socket packet objects, events or
   * callbacks (engine.io's per-socket path was ~20 % of the fan-out profile; see
   * docs/decisions/0005-performance.md). Order is kept: a socket with packets queued in
   * engine.io (an ack, a `device` event waiting for a slow socket) and long-polling sockets take
   * engine.io's path, like socket.io's own broadcast. `except` removes sockets that get the
   * same readings through a wider room (fleet, group), so no socket receives a reading twice.
   */
  emitReadings(
    room: string,
    except: readonly string[],
    batch: Reading[],
    paused: ReadonlySet<string>,
  ): void {
    const nsp = this.nsp;
    const members = nsp?.adapter.rooms.get(room);
    if (!nsp || !members || members.size === 0) return;
    const packet = `2${LIVE_NAMESPACE},${JSON.stringify(['readings', batch])}`;
    const frame = textFrame(`4${packet}`);
    const options = this.encodeOptions;
    options.wsPreEncodedFrame = [frame];
    const encoded = [packet];
    const roomsOf = nsp.adapter.sids;
    const now = Date.now();
    for (const id of members) {
      if (paused.has(id)) continue;
      if (except.length > 0 && inAny(roomsOf.get(id), except)) continue;
      const socket = nsp.sockets.get(id);
      if (!socket) continue;
      const wire = directWire(socket);
      if (wire) {
        // The constant first: almost every socket has nothing queued, and this runs per socket
        // per flush; lagLimitBytes (never below it) only for the few that have.
        if (
          wire.writableLength >= LAG_PAUSE_BYTES &&
          wire.writableLength >= lagLimitBytes(socket, now)
        ) {
          this.onLagging(socket);
          continue;
        }
        wire.write(frame);
        this.directWrites++;
      } else {
        (socket.client as unknown as EngineWriter).writeToEngine(encoded, options);
        this.engineWrites++;
      }
    }
  }

  /** Socket writes of readings frames so far: straight to the TCP socket, and through engine.io. */
  writeStats(): { direct: number; engine: number } {
    return { direct: this.directWrites, engine: this.engineWrites };
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
  io.engine.use((req: IncomingMessage, res: { req: unknown }, next: () => void) => {
    // A websocket upgrade has no ServerResponse: engine.io passes its own stand-in.
    if (!(res instanceof ServerResponse)) upgradeResponses.set(req, res);
    next();
  });
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

/** socket.io's Client method that its adapter's broadcast uses (public in JS, private in the types). */
interface EngineWriter {
  writeToEngine(packets: string[], options: object): void;
}

/** The parts of engine.io's socket and of `ws` read here (engine.io 6, ws 8; not in their types). */
interface EngineConn {
  readyState: string;
  writeBuffer: unknown[];
  transport: {
    name: string;
    socket?: { readyState: number; _socket?: TcpSocket };
  };
  pingTimeoutTimer?: { refresh(): unknown } | null;
}
function engineConn(socket: LiveSocket): EngineConn {
  return socket.conn as unknown as EngineConn;
}

/**
 * The TCP socket under a websocket-transport socket that may be written to directly now:
 * engine.io open with nothing queued (so a direct write cannot overtake an earlier packet),
 * websocket open. Otherwise null (long-polling, upgrading, closing, or packets queued).
 */
function directWire(socket: LiveSocket): TcpSocket | null {
  const conn = engineConn(socket);
  if (conn.readyState !== 'open' || conn.writeBuffer.length !== 0) return null;
  const transport = conn.transport;
  if (transport.name !== 'websocket') return null;
  const ws = transport.socket;
  if (!ws || ws.readyState !== 1) return null;
  const tcp = ws._socket;
  return tcp && tcp.writable ? tcp : null;
}

function inAny(rooms: Set<string> | undefined, names: readonly string[]): boolean {
  if (!rooms) return false;
  for (let i = 0; i < names.length; i++) if (rooms.has(names[i])) return true;
  return false;
}

/** An unmasked, unfragmented websocket text frame (RFC 6455 §5.2) of `text`, header included. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN + text
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, header);
  return frame;
}

/**
 * What is queued for a socket beyond the kernel's buffers: packets waiting in engine.io and
 * bytes waiting in the websocket's TCP socket (user space). The only measures of a slow
 * client. Two functions rather than one returning an object: the gateway asks for every
 * socket every second, and 10,000 idle sockets should not make garbage for it.
 */
export function queuedPackets(socket: LiveSocket): number {
  return engineConn(socket).writeBuffer?.length ?? 0;
}

export function queuedBytes(socket: LiveSocket): number {
  return engineConn(socket).transport.socket?._socket?.writableLength ?? 0;
}

/**
 * Push back engine.io's heartbeat deadline for a socket whose ping is unanswered because it
 * is paused for lagging (it reads nothing, so its pong waits behind its backlog). The gateway
 * bounds such a socket itself (LAG_DISCONNECT_MS without progress).
 */
export function holdHeartbeat(socket: LiveSocket): void {
  engineConn(socket).pingTimeoutTimer?.refresh();
}

/**
 * The timer of the engine.io ping this socket has not answered yet (a new object per ping),
 * or null when no pong is due. A client that reads its socket answers within milliseconds.
 */
export function unansweredPing(socket: LiveSocket): object | null {
  return engineConn(socket).pingTimeoutTimer ?? null;
}

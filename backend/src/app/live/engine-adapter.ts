import type { IncomingMessage } from 'node:http';
import type { Socket as TcpSocket } from 'node:net';
import type { Server } from 'socket.io';
import type { LiveSocket } from './live-io.server';

/**
 * The one file that reaches into engine.io, ws and socket.io internals — what their typings
 * hide or mark private: engine.io's `conn.writeBuffer`, `conn.transport.socket` (the `ws`
 * WebSocket) and its `_socket` (the TCP socket), `pingTimeoutTimer`, the stand-in response of a
 * websocket upgrade; socket.io's `client.writeToEngine` with pre-encoded packets and its wire
 * format. engine-adapter.spec.ts pins every one of them to ENGINE_VERSIONS on a real server and
 * client: when a version moves, that spec fails naming the internal to check again.
 *
 * Owns nothing but these accessors. Must not keep per-socket state, decide anything about lag (lag-monitor.ts) or pick
 * which sockets get what (live-emitter.ts).
 */

/**
 * The versions whose internals this file was checked against (engine-adapter.spec.ts): `ws` is
 * the copy engine.io itself loads (nested under it), not the workspace's top-level one.
 */
export const ENGINE_VERSIONS = {
  'engine.io': '6.6.12',
  ws: '8.21.3',
  'socket.io': '4.8.4',
} as const;

/** socket.io's Client method that its adapter's broadcast uses (public in JS, private in the types). */
interface EngineWriter {
  writeToEngine(packets: string[], options: object): void;
}

/** The parts of engine.io's socket and of `ws` read here (not in their types). */
interface EngineConn {
  readyState: string;
  writeBuffer: unknown[];
  transport: {
    name: string;
    perMessageDeflate?: unknown;
    socket?: { readyState: number; _socket?: TcpSocket };
  };
  pingTimeoutTimer?: { refresh(): unknown } | null;
}

function engineConn(socket: LiveSocket): EngineConn {
  return socket.conn as unknown as EngineConn;
}

/**
 * Sets each session's `remoteAddress` (Socket.IO's `handshake.address`) to `clientAddress` of
 * its first request: the client behind trusted proxies (ClientAddress), read while the request's
 * headers are still there. Then drops engine.io's references to that request once the session is
 * open: nothing in Pulse reads `socket.request` or the handshake headers, and an idle connection
 * would otherwise keep the IncomingMessage (headers, raw headers, parser state) for its whole
 * life (~1 KB per connection, docs/decisions/0005-performance.md, target 7a). This is Socket.IO's
 * documented `rawSocket.request = null` (https://socket.io/docs/v4/memory-usage/), plus the
 * stand-in response engine.io >= 6.6 makes for every websocket upgrade (handshakes and
 * polling-to-websocket upgrades alike, to hand `engine.use()` middlewares): its constructor, the
 * first thing `handleUpgrade` does, puts a `close` listener (`once`) on the TCP socket that would
 * keep the stand-in, and through it `req`, alive for the connection's life (~0.5 KB). That one
 * listener is taken off as `handleUpgrade` returns (whatever middlewares run, before or after
 * it adds hers), so the stand-in emits no `close`: no Pulse middleware listens for it; one that
 * did, like pino-http, would not be told.
 * Consequence: `socket.request` is null and `socket.handshake.headers`/`query` are empty in
 * namespace middlewares and handlers (use an `engine.use()` middleware to read the request).
 * The one header kept is the Cookie (the browser session), until {@link takeHandshakeCookie}
 * reads it at the namespace handshake.
 */
export function releaseUpgradeRequests(
  io: Pick<Server, 'engine'>,
  clientAddress?: (req: IncomingMessage) => string,
): void {
  const engine = io.engine as unknown as UpgradeHandler;
  const handleUpgrade = engine.handleUpgrade.bind(engine);
  engine.handleUpgrade = (req, socket, head) => {
    const before = socket.listenerCount('close');
    handleUpgrade(req, socket, head);
    // The first listener added is the stand-in's (a `once` wrapper: it has `.listener`); ws'
    // own `close` listener, added later (synchronously when no middleware is installed), stays.
    const standIn = socket.rawListeners('close')[before] as OnceWrapper | undefined;
    if (standIn?.listener) socket.removeListener('close', standIn);
  };
  io.engine.on('connection', (raw: { request: IncomingMessage | null; remoteAddress: string }) => {
    const req = raw.request;
    if (!req) return;
    if (clientAddress) raw.remoteAddress = clientAddress(req);
    if (req.headers.cookie) handshakeCookies.set(raw, req.headers.cookie);
    raw.request = null;
  });
}

/** engine.io's upgrade entry point, called by its `upgrade` listener on the HTTP server. */
interface UpgradeHandler {
  handleUpgrade(req: IncomingMessage, socket: TcpSocket, head: Buffer): void;
}

/** What `EventEmitter.once` registers: a wrapper with the listener it wraps. */
type OnceWrapper = ((...args: unknown[]) => void) & { listener?: unknown };

/** What {@link releaseHandshake} leaves in place of the handshake's per-socket empty objects. */
const NOTHING: Record<string, never> = Object.freeze({});

/**
 * Socket.IO builds a handshake per socket (`headers`, `query` and `auth` objects, the `time`
 * string) and keeps it for the socket's life. Once the namespace middlewares have run (the
 * token read and deleted from `auth`, the address set), nothing in Pulse reads more than
 * `address` and `issued`: the rest is replaced by one shared empty object and an empty string
 * (~0.2 KB per connection, target 7a). Call from the connection handler.
 */
export function releaseHandshake(socket: Pick<LiveSocket, 'handshake'>): void {
  const handshake = socket.handshake;
  handshake.headers = NOTHING;
  handshake.query = NOTHING;
  handshake.auth = NOTHING;
  handshake.time = '';
}

/** Cookie header of each session's first request, by engine.io socket, until read once. */
const handshakeCookies = new WeakMap<object, string>();

/** The Cookie header of the socket's first HTTP request (once: it is forgotten as it is read). */
export function takeHandshakeCookie(socket: Pick<LiveSocket, 'conn'>): string | undefined {
  const cookie = handshakeCookies.get(socket.conn);
  handshakeCookies.delete(socket.conn);
  return cookie;
}

/** One event encoded once for every recipient: socket.io packet and websocket frame. */
export interface EncodedEvent {
  /** The Socket.IO packet for engine.io's own path (long-polling, or packets queued). */
  readonly packets: string[];
  /** The same packet as an Engine.IO message in a websocket text frame, header included. */
  readonly frame: Buffer;
  /**
   * engine.io's write options for this event, one object per encoded event: engine.io keeps it
   * in every packet it queues and reads `wsPreEncodedFrame` only when it flushes, so an object
   * shared between events would send a queued packet as whichever event was encoded last.
   */
  readonly options: { readonly preEncoded: true; readonly wsPreEncodedFrame: Buffer[] };
}

/** Encode `event` with `data` for namespace `nsp` once, as socket.io would for a broadcast. */
export function encodeEvent(nsp: string, event: string, data: unknown): EncodedEvent {
  // Socket.IO EVENT packet (type 2) in namespace `nsp`; Engine.IO MESSAGE (type 4) around it.
  // Only `readings` come here: device ids and metric names match ID_PATTERN and values are
  // numbers, so the JSON is ASCII already (ascii-json.ts; no scan on the hottest path).
  const packet = `2${nsp},${JSON.stringify([event, data])}`;
  const frame = textFrame(`4${packet}`);
  return { packets: [packet], frame, options: { preEncoded: true, wsPreEncodedFrame: [frame] } };
}

/**
 * The event in a websocket frame {@link encodeEvent} made (another gateway's, received over Redis):
 * the same frame for direct writes, its packet decoded once for engine.io's path.
 */
export function eventOfFrame(frame: Buffer): EncodedEvent {
  const marker = frame[1] & 0x7f;
  const header = marker < 126 ? 2 : marker === 126 ? 4 : 10;
  const packet = frame.toString('utf8', header + 1); // after Engine.IO's `4`
  return { packets: [packet], frame, options: { preEncoded: true, wsPreEncodedFrame: [frame] } };
}

/** Queue an encoded event through engine.io (keeps order with what is already queued there). */
export function writeToEngine(socket: LiveSocket, encoded: EncodedEvent): void {
  (socket.client as unknown as EngineWriter).writeToEngine(encoded.packets, encoded.options);
}

/**
 * The TCP socket under a websocket-transport socket that may be written to directly now:
 * engine.io open with nothing queued (so a direct write cannot overtake an earlier packet),
 * websocket open, no permessage-deflate. Otherwise null (long-polling, upgrading, closing,
 * packets queued, or compression).
 */
export function directWire(socket: LiveSocket): TcpSocket | null {
  const conn = engineConn(socket);
  if (conn.readyState !== 'open' || conn.writeBuffer.length !== 0) return null;
  const transport = conn.transport;
  if (transport.name !== 'websocket') return null;
  // With permessage-deflate ws compresses asynchronously: a direct write would overtake frames
  // still in zlib. Pulse turns it off (LIVE_IO_OPTIONS); should it ever be on, engine.io's path.
  if (transport.perMessageDeflate) return null;
  const ws = transport.socket;
  if (!ws || ws.readyState !== 1) return null;
  const tcp = ws._socket;
  return tcp && tcp.writable ? tcp : null;
}

/** An unmasked, unfragmented websocket text frame (RFC 6455 §5.2) of `text`, header included. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = headerLength(length);
  const frame = Buffer.allocUnsafe(header + length);
  writeHeader(frame, length);
  frame.write(text, header);
  return frame;
}

function headerLength(payload: number): number {
  return payload < 126 ? 2 : payload < 65536 ? 4 : 10;
}

/** A text frame's header (FIN, opcode, unmasked length) for a payload of `length` bytes. */
function writeHeader(frame: Buffer, length: number): void {
  frame[0] = 0x81; // FIN + text
  const header = headerLength(length);
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
}

/** The packet id socket.io gave an acknowledgement callback (see {@link labelAcks}). */
const ACK_ID = Symbol('pulse.ackId');
/** socket.io's Socket as {@link labelAcks} sees it: its private `ack(id)` callback factory. */
interface AckMaker {
  ack(id: number): (...args: unknown[]) => void;
}

/**
 * Labels every acknowledgement callback socket.io makes for `socket` (its private `ack(id)`,
 * called for each event that asks for one) with the packet id, so that an answer can go out as a
 * frame written here ({@link writeAck}). Install before the socket's first event.
 */
export function labelAcks(socket: LiveSocket): void {
  (socket as unknown as AckMaker).ack = labelledAck; // one function for every socket
}

function labelledAck(this: AckMaker, id: number): (...args: unknown[]) => void {
  const make = (Object.getPrototypeOf(this) as AckMaker).ack;
  const callback = make.call(this, id) as ((...args: unknown[]) => void) & { [ACK_ID]?: number };
  callback[ACK_ID] = id;
  return callback;
}

/**
 * Answers the acknowledgement `callback` with its argument list already in JSON pieces (text,
 * and shared bytes spliced in as they are: ack-encoder.ts `ackPieces`) as one websocket frame
 * written straight to the TCP socket, as readings are: `43<nsp>,<id>` then the pieces, which is
 * what socket.io would send. Only when {@link directWire} allows it and the callback carries its
 * id; false when nothing was written (then call the callback). Saves the copies of a large answer
 * into one string and then into bytes, for every socket that gets the same history.
 */
export function writeAck(
  socket: LiveSocket,
  callback: (...args: unknown[]) => void,
  pieces: readonly (string | Buffer)[],
): boolean {
  const id = (callback as { [ACK_ID]?: number })[ACK_ID];
  if (id === undefined) return false;
  const tcp = directWire(socket);
  if (!tcp) return false;
  // Engine.IO MESSAGE `4`, Socket.IO ACK `3`, the namespace (never `/` here), the packet id.
  const head = `43${socket.nsp.name},${id}`;
  let length = Buffer.byteLength(head);
  for (const piece of pieces)
    length += typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length;
  const header = Buffer.allocUnsafe(headerLength(length));
  writeHeader(header, length);
  tcp.cork();
  tcp.write(header);
  tcp.write(head);
  for (const piece of pieces) if (piece.length > 0) tcp.write(piece);
  tcp.uncork();
  return true;
}

/**
 * What is queued for a socket beyond the kernel's buffers: packets waiting in engine.io and
 * bytes waiting in the websocket's TCP socket (user space). The only measures of a slow
 * client. Two functions rather than one returning an object: the lag monitor asks for every
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
 * is paused for lagging (it reads nothing, so its pong waits behind its backlog). The lag
 * monitor bounds such a socket itself (LAG_DISCONNECT_MS without progress).
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

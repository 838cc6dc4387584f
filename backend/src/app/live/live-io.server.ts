import { ClientToServerEvents, LIMITS, ServerToClientEvents } from '@pulse/protocol';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import type { Principal } from '../auth/principal';
import type { EngineConnection } from '../security/entry-guard.service';
import { LIVE_PARSER } from './ack-encoder';
import { releaseUpgradeRequests } from './engine-adapter';

/**
 * The one place the Socket.IO server is built, with Pulse's options; LiveIoAdapter (Nest's
 * WebSocket adapter) returns it from `createIOServer` and may install the Redis adapter on it.
 * Owns the server options and the typed server/namespace/socket shapes;
 * must not attach handlers, emit, or keep any per-socket state (LiveEmitter and the lag
 * monitor do).
 */

/**
 * `socket.data` holds only who is on the socket (set by the handshake's authentication), how
 * many times it was told `lagged` (for the Screens page) and, on a group-scoped socket following
 * the fleet summary, which of the summary's metric names it was told (`scopedEvent`); the lag
 * monitor holds slow-client state.
 */
type NoSocketData = { principal?: Principal; lagged?: number; summaryShown?: boolean[] };

/**
 * Server-side events between gateways (Socket.IO's Redis adapter, REDIS_URL set): each gateway
 * sends an alert it raised or changed to its own clients and to its peers, which send it to
 * theirs (each with its own AlertAudience); an ack (over HTTP or `/live`) is answered by the gateway holding the alert (PeerAcks);
 * a rule set changed over HTTP is run by every gateway (PeerRules).
 *
 * What arrives here came through a Redis anyone with access to it may publish on, from gateways
 * of other versions too: every payload and answer a peer sends is `unknown`, checked in the one
 * place that reads it (LiveEmitter: `parseAlertEventOfAnyBuild`; PeerAcks; PeerRules and
 * AlertsService.applyPeerRules), never trusted for its type here. The sending side passes its own
 * typed values (an AlertEvent, an AlertAckRequest, an AckResponse, a rule set and its version).
 */
export interface PeerEvents {
  'pulse:alert': (alert: unknown) => void;
  /** The request and the answers are checked where they are read (PeerAcks). */
  'pulse:ack': (request: unknown, answer: (response: unknown) => void) => void;
  /** A gateway's rule set changed over HTTP: every other runs it too (PeerRules). */
  'pulse:rules': (change: unknown) => void;
  /** A gateway catching up: the others answer their rules if newer than `since`, else null. */
  'pulse:rules-since': (since: unknown, answer: (offer: unknown) => void) => void;
}

export type LiveServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  PeerEvents,
  NoSocketData
>;
export type LiveNamespace = Namespace<
  ClientToServerEvents,
  ServerToClientEvents,
  PeerEvents,
  NoSocketData
>;
export type LiveSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  PeerEvents,
  NoSocketData
>;

/** How long an Engine.IO connection may stay without joining `/live` (docs/limits.md). */
export const LIVE_CONNECT_TIMEOUT_MS = 10_000;

export const LIVE_IO_OPTIONS: Readonly<Partial<ServerOptions>> = {
  transports: ['websocket', 'polling'],
  // Bigger client messages close the connection (websocket) or get 413 (polling).
  maxHttpBufferSize: LIMITS.maxSocketMessageBytes,
  serveClient: false,
  // Broadcasts are encoded once and written to every socket as the same frame; compression
  // would mean one deflate/gzip per socket per frame (and a zlib context per websocket).
  perMessageDeflate: false,
  httpCompression: false,
  // Socket.IO's parser, with history encoded once for many acks spliced in as is (ack-encoder.ts).
  parser: LIVE_PARSER,
  // An Engine.IO connection that has joined no namespace this long after its handshake is
  // closed (Socket.IO's default: 45 s). Socket.IO clients send the namespace CONNECT as soon as
  // the transport opens (the dashboard's `auth` is answered at once), so a real client joins
  // within a round trip or two; a bare connection holds one of its address's slots only this long.
  // Not shorter: the timer runs on the gateway's event loop, and in a reconnect storm (thousands
  // of screens back at once) a client's CONNECT may wait seconds behind the others.
  connectTimeout: LIVE_CONNECT_TIMEOUT_MS,
};

/** engine.io's check of the first HTTP request of a session (the Origin allowlist). */
export type AllowRequest = NonNullable<ServerOptions['allowRequest']>;

/**
 * The entry checks on every connection (EntryGuard): `allowRequest` on each session's first
 * request, both transports, before a session exists; `admitConnection` on each Engine.IO
 * connection once it exists (the connection caps, released as it closes), called after its
 * `remoteAddress` is the client's; `refuseNamespace` as the main namespace's middleware (Pulse
 * serves `/live` only).
 */
export interface LiveEntry {
  allowRequest: AllowRequest;
  admitConnection(conn: EngineConnection): void;
  refuseNamespace(socket: { nsp: { name: string } }, next: (error?: Error) => void): void;
}

/**
 * A Socket.IO server on `httpServer` with LIVE_IO_OPTIONS, first HTTP requests released, and
 * `entry`'s checks (a bare `allowRequest`: that check only). `clientAddress` (behind trusted
 * proxies, the forwarded client) becomes each connection's `remoteAddress` and `handshake.address`.
 */
export function createLiveIoServer(
  httpServer: HttpServer,
  entry?: LiveEntry | AllowRequest,
  clientAddress?: (req: IncomingMessage) => string,
): LiveServer {
  const checks: Partial<LiveEntry> =
    typeof entry === 'function' ? { allowRequest: entry } : (entry ?? {});
  const io: LiveServer = new Server(httpServer, {
    ...LIVE_IO_OPTIONS,
    allowRequest: checks.allowRequest,
  });
  // After releaseUpgradeRequests' own `connection` listener, which sets `remoteAddress`.
  releaseUpgradeRequests(io, clientAddress);
  if (checks.admitConnection) io.engine.on('connection', checks.admitConnection);
  if (checks.refuseNamespace) io.use(checks.refuseNamespace);
  return io;
}

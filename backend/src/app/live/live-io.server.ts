import {
  AckResponse,
  AlertEvent,
  ClientToServerEvents,
  LIMITS,
  ServerToClientEvents,
} from '@pulse/protocol';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import type { Principal } from '../auth/principal';
import type { AlertAckRequest } from '../common/alert-acks';
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
 * `socket.data` holds only who is on the socket (set by the handshake's authentication) and how
 * many times it was told `lagged` (for the Screens page); the lag monitor holds slow-client state.
 */
type NoSocketData = { principal?: Principal; lagged?: number };

/**
 * Server-side events between gateways (Socket.IO's Redis adapter, REDIS_URL set): each gateway
 * sends an alert it raised or changed to its own clients and to its peers, which send it to
 * theirs (each with its own AlertAudience); an ack (over HTTP or `/live`) is answered by the gateway holding the alert (PeerAcks).
 */
export interface PeerEvents {
  'pulse:alert': (alert: AlertEvent) => void;
  'pulse:ack': (request: AlertAckRequest, answer: (response: AckResponse) => void) => void;
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
};

/** engine.io's check of the first HTTP request of a session (the Origin allowlist). */
export type AllowRequest = NonNullable<ServerOptions['allowRequest']>;

/**
 * A Socket.IO server on `httpServer` with LIVE_IO_OPTIONS, first HTTP requests released.
 * `allowRequest` runs on the handshake of both transports, before any session exists;
 * `clientAddress` (behind trusted proxies, the forwarded client) becomes `handshake.address`.
 */
export function createLiveIoServer(
  httpServer: HttpServer,
  allowRequest?: AllowRequest,
  clientAddress?: (req: IncomingMessage) => string,
): LiveServer {
  const io: LiveServer = new Server(httpServer, { ...LIVE_IO_OPTIONS, allowRequest });
  releaseUpgradeRequests(io, clientAddress);
  return io;
}

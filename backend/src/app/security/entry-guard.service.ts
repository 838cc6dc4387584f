import { Inject, Injectable } from '@nestjs/common';
import { quote } from '@pulse/protocol';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { ClientAddress } from '../common/client-address';
import { isLoopbackHost } from '../common/loopback';
import { CONFIG, Config } from '../config/config';
import { ConnectionCaps } from './connection-caps';
import { LiveEventLimit } from './live-event-limit';
import { HostPolicy, OriginPolicy, requestOrigin } from './origin-policy';
import { SecurityCounters } from './security-counters.service';

/** The parts of an engine.io socket (one Engine.IO connection) the connection caps use. */
export interface EngineConnection {
  /** The client's address (behind trusted proxies, the forwarded client: engine-adapter.ts). */
  readonly remoteAddress: string;
  on(event: 'close', listener: (this: EngineConnection) => void): unknown;
  close(): unknown;
}

/** Methods that change state: the ones a page on another origin must not send us. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Checks at the two browser-facing entry points, before anything else runs: the Socket.IO
 * handshake (engine.io's `allowRequest`, both transports) and state-changing HTTP requests
 * (an Express middleware ahead of Nest's router). Owns the origin, content-type and `/live`
 * connection-cap decisions and nothing else: it does not build the Socket.IO server or the HTTP
 * app — whoever builds them passes {@link allowSocketRequest}, calls {@link admitConnection} on
 * each Engine.IO connection, {@link admit} then {@link limitEvents} on each new `/live` socket and
 * mounts {@link checkWrite}.
 */
@Injectable()
export class EntryGuard {
  private readonly policy: OriginPolicy;
  private readonly hosts: HostPolicy;
  private readonly eventLimit: LiveEventLimit;
  private readonly caps: ConnectionCaps;
  /** Engine.IO connections holding a `/live` socket (weak: a closed one needs no cleanup). */
  private readonly joined = new WeakSet<object>();

  constructor(
    @Inject(CONFIG)
    config: Pick<
      Config,
      | 'ALLOWED_ORIGINS'
      | 'HOST'
      | 'TRUST_PROXY'
      | 'PORT'
      | 'LIVE_MAX_CONNECTIONS'
      | 'LIVE_MAX_CONNECTIONS_PER_IP'
      | 'CONNECTION_CAP_EXEMPT'
    >,
    private readonly counters: SecurityCounters,
    private readonly addresses: ClientAddress,
  ) {
    this.policy = new OriginPolicy(config.ALLOWED_ORIGINS, config.PORT);
    this.hosts = new HostPolicy(
      isLoopbackHost(config.HOST) && config.TRUST_PROXY.length === 0,
      config.ALLOWED_ORIGINS,
    );
    this.eventLimit = new LiveEventLimit(counters);
    this.caps = new ConnectionCaps({
      total: config.LIVE_MAX_CONNECTIONS,
      perIp: config.LIVE_MAX_CONNECTIONS_PER_IP,
      exempt: config.CONNECTION_CAP_EXEMPT,
    });
  }

  /**
   * Call on every new Engine.IO connection (engine.io's `connection`: its handshake passed
   * {@link allowSocketRequest}, on either transport): counts it against the connection caps until
   * it closes, whether or not it ever joins `/live`, or closes it at once when it does not fit
   * (handshakes that passed the check at the same moment). Counted here rather than per `/live`
   * socket: a client that opens the transport and never joins still holds a connection.
   */
  readonly admitConnection = (conn: EngineConnection): void => {
    const refusal = this.caps.admit(conn.remoteAddress);
    if (refusal === null) {
      conn.on('close', this.releaseConnection);
      return;
    }
    this.refuseConnection(refusal, conn.remoteAddress);
    conn.close();
  };

  /** One `close` listener for every admitted connection (`this` = the connection), not a closure each. */
  private readonly releaseConnection = ((guard: EntryGuard) =>
    function (this: EngineConnection): void {
      guard.caps.release(this.remoteAddress);
    })(this);

  /**
   * Call first on every new `/live` socket: its Engine.IO connection is counted already
   * ({@link admitConnection}); a second `/live` socket on the same connection (CONNECT sent again
   * before the first was answered, which Socket.IO lets through) is refused and the connection
   * closed, so one counted connection is one socket. Returns false when refused.
   */
  admit(socket: {
    conn: object;
    handshake: { address: string };
    disconnect(close: boolean): unknown;
  }): boolean {
    if (!this.joined.has(socket.conn)) {
      this.joined.add(socket.conn);
      return true;
    }
    this.counters.refuse(
      'live_connections_ip',
      `a second /live socket on one connection from ${socket.handshake.address}`,
    );
    socket.disconnect(true);
    return false;
  }

  /** An admitted `/live` socket disconnected: call once, from its `disconnect`. */
  release(socket: { conn: object }): void {
    this.joined.delete(socket.conn);
  }

  /**
   * Middleware for Socket.IO's main namespace `/`, which Pulse does not serve: a socket there
   * would stop Socket.IO's connect timeout from closing a connection that never joins `/live`.
   */
  readonly refuseNamespace = (
    socket: { nsp: { name: string } },
    next: (error?: Error) => void,
  ): void => {
    this.counters.refuse('live_handshake', `Socket.IO namespace ${quote(socket.nsp.name)}`);
    next(new Error('unknown namespace'));
  };

  private refuseConnection(reason: 'total' | 'per_ip', address: string | undefined): void {
    this.counters.refuse(
      reason === 'total' ? 'live_connections_total' : 'live_connections_ip',
      `/live connection from ${address ?? 'a client'} (${this.caps.count} open)`,
    );
  }

  /** Call on every new `/live` socket before its handlers: the per-socket event rate limit. */
  limitEvents(socket: Parameters<LiveEventLimit['guard']>[0]): void {
    this.eventLimit.guard(socket);
  }

  /**
   * engine.io's `allowRequest` option: runs on every new session's first request, polling GET
   * and websocket upgrade alike; a refusal is a 403 before any session exists.
   */
  readonly allowSocketRequest = (
    req: IncomingMessage,
    callback: (error: string | null | undefined, success: boolean) => void,
  ): void => {
    if (!this.hosts.allows(req.headers.host)) {
      this.counters.refuse(
        'host_socket',
        `Socket.IO handshake for host ${quote(req.headers.host ?? '')}`,
      );
      callback('host not served', false);
      return;
    }
    const origin = requestOrigin(req.headers);
    if (origin !== undefined && !this.policy.allows(origin, req.headers.host)) {
      this.counters.refuse('origin_socket', `Socket.IO handshake from origin ${quote(origin)}`);
      callback('origin not allowed', false);
      return;
    }
    const address = this.addresses.of(req);
    const full = this.caps.check(address);
    if (full) {
      this.refuseConnection(full, address);
      callback('too many connections', false);
      return;
    }
    callback(null, true);
  };

  /**
   * Express middleware, first of all: a request under a name this gateway does not serve (see
   * HostPolicy: DNS rebinding) gets 403, whatever its method or path, the dashboard's files too.
   */
  readonly checkHost = (req: Request, res: Response, next: NextFunction): void => {
    const host = req.headers.host;
    if (this.hosts.allows(host)) return next();
    this.counters.refuse('host_http', `${req.method} ${req.path} for host ${quote(host ?? '')}`);
    refuse(
      res,
      403,
      'Forbidden',
      `this gateway does not serve ${quote(host ?? '')}: open it as localhost, or list the origin in ALLOWED_ORIGINS`,
    );
  };

  /**
   * Express middleware: a write from another origin gets 403; a write whose body is not JSON
   * (a form, text/plain — what a page can send without a CORS preflight) gets 415. Reads and
   * writes without a body or Content-Type (DELETE, scripts) pass.
   */
  readonly checkWrite = (req: Request, res: Response, next: NextFunction): void => {
    if (!WRITE_METHODS.has(req.method)) return next();
    const origin = requestOrigin(req.headers);
    if (origin !== undefined && !this.policy.allows(origin, req.headers.host)) {
      this.counters.refuse('origin_http', `${req.method} ${req.path} from origin ${quote(origin)}`);
      refuse(res, 403, 'Forbidden', 'cross-origin request refused (see ALLOWED_ORIGINS)');
      return;
    }
    const type = req.headers['content-type'];
    if (type === undefined ? hasBody(req) : !isJson(type)) {
      this.counters.refuse('content_type', `${req.method} ${req.path} with ${quote(type ?? '')}`);
      refuse(res, 415, 'Unsupported Media Type', 'request bodies must be application/json');
      return;
    }
    next();
  };
}

function refuse(res: Response, statusCode: number, error: string, message: string): void {
  res.status(statusCode).json({ statusCode, error, message });
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(contentType: string): boolean {
  const mime = contentType.split(';')[0].trim().toLowerCase();
  return mime === 'application/json' || /^application\/[a-z0-9.-]+\+json$/.test(mime);
}

import { Injectable } from '@nestjs/common';
import {
  AUTH_ERRORS,
  AuthError,
  ClientToServerEvents,
  LiveError,
  LiveEvent,
  quote,
  Role,
} from '@pulse/protocol';
import { SecurityCounters } from '../security/security-counters.service';
import { AuthService, sessionCookie } from './auth.service';
import type { SessionSocket } from './live-sessions';
import { refusal } from './principal';

/**
 * Who is on a `/live` socket and what each event needs. {@link authenticate} is the namespace
 * middleware of the handshake (either transport): `auth.token` (a bearer token), else the
 * session cookie, else anonymous; refused with `connect_error` 'unauthorized' when that is not
 * enough to watch. {@link guardEvents} is the one check of socket events: one the gateway does
 * not handle, then one the principal's role does not cover, is refused. Owns the event → role
 * table; must not handle the events themselves (LiveGateway does). {@link track} hands each
 * admitted socket to LiveSessions, so a revocation or a role change reaches it while it is open.
 */

/** The least role each client event needs: every event LiveGateway handles, and no other. */
export const LIVE_EVENT_ROLES: Readonly<Record<keyof ClientToServerEvents, Role>> = {
  [LiveEvent.subscribe]: 'viewer',
  [LiveEvent.unsubscribe]: 'viewer',
  [LiveEvent.ack]: 'operator',
};
/** The table as a map: an event name is outside input (`constructor` is no event). */
const EVENT_ROLES: ReadonlyMap<unknown, Role> = new Map(Object.entries(LIVE_EVENT_ROLES));

/** The parts of a Socket.IO server socket this uses. */
interface AuthSocket extends SessionSocket {
  handshake: { auth: Record<string, unknown> };
  use(fn: (packet: unknown[], next: (error?: Error) => void) => void): unknown;
}

const MESSAGES: Record<AuthError, string> = {
  unauthorized: 'sign in first',
  forbidden: 'your role does not allow this',
};

@Injectable()
export class LiveAuth {
  constructor(
    private readonly auth: AuthService,
    private readonly counters: SecurityCounters,
  ) {}

  /**
   * Namespace middleware: sets `socket.data.principal` or refuses the connection. `cookie`: the
   * Cookie header of the session's first request (the live layer keeps it; the handshake's
   * headers are released, decision 0005).
   */
  authenticate(
    socket: AuthSocket,
    cookie: string | undefined,
    next: (error?: Error) => void,
  ): void {
    const token = socket.handshake.auth?.token;
    // Read once: the socket keeps its principal, not the bearer token (a heap snapshot or a
    // debug dump of a socket must not hold a credential, and 10,000 sockets need not keep one each).
    if (socket.handshake.auth) delete socket.handshake.auth.token;
    this.auth
      .principalFor({
        bearer: typeof token === 'string' ? token : undefined,
        cookie: sessionCookie(cookie),
      })
      .then(
        (principal) => {
          if (principal === null || refusal(principal, 'viewer') !== null) {
            this.counters.refuse(
              'live_handshake',
              principal === null ? 'invalid or revoked token' : 'anonymous viewing is off',
            );
            next(new Error(AUTH_ERRORS.unauthorized));
            return;
          }
          socket.data.principal = principal;
          next();
        },
        (error: unknown) => next(error instanceof Error ? error : new Error(String(error))),
      );
  }

  /** Call on every admitted socket: revoking its token or changing its user reaches it at once. */
  track(socket: AuthSocket): void {
    this.auth.sessions.track(socket);
  }

  /** Call once as an admitted socket disconnects: the counterpart of {@link track}. */
  forget(socket: AuthSocket): void {
    this.auth.sessions.forget(socket);
  }

  /**
   * Socket middleware, installed on connection before the handlers: an event the gateway does
   * not handle (a typo, a server event sent back) is acknowledged `{ok: false, error: 'unknown
   * event "<name>"'}`, so a client waiting for its ack is not left to time out; one the
   * principal's role does not cover, `{ok: false, error, message}`. Neither is handled; each is
   * counted. Socket.IO's reserved names (`disconnect`, …) never get here: its parser refuses the
   * packet and closes the connection.
   */
  guardEvents(socket: AuthSocket): void {
    socket.use((packet, next) => {
      const needed = EVENT_ROLES.get(packet[0]);
      const ack = packet[packet.length - 1];
      if (needed === undefined) {
        const name = quote(packet[0]);
        this.counters.refuse('live_unknown_event', `${name} on ${socket.id}`);
        const answer: LiveError = { ok: false, error: `unknown event ${name}` };
        if (typeof ack === 'function') ack(answer);
        return;
      }
      const principal = socket.data.principal;
      const refused = principal ? refusal(principal, needed) : null;
      if (refused === null) return next();
      this.counters.refuse(
        refused === 'unauthorized' ? 'live_unauthorized' : 'live_forbidden',
        `${String(packet[0])} on ${socket.id} needs ${needed}`,
      );
      if (typeof ack === 'function') ack({ ok: false, error: refused, message: MESSAGES[refused] });
    });
  }
}

import { Injectable, OnApplicationShutdown, Logger } from '@nestjs/common';
import { RateLimitedLog } from '../common/rate-limited-log';

/**
 * Why an entry point refused a request, a connection or a packet: the keys of
 * `GET /api/stats` → `security.refused` (each bound is in docs/limits.md).
 */
export const SECURITY_REFUSALS = [
  /** Socket.IO handshake (either transport) from an origin not allowed. */
  'origin_socket',
  /** POST/PUT/PATCH/DELETE from an origin not allowed (Origin, or Referer without Origin). */
  'origin_http',
  /**
   * HTTP request under a name this gateway does not serve: on a loopback gateway without a proxy,
   * a Host that is not this machine's own name or an ALLOWED_ORIGINS host (DNS rebinding).
   */
  'host_http',
  /** Socket.IO handshake (either transport) under such a name. */
  'host_socket',
  /** POST/PUT/PATCH/DELETE whose body is not JSON (an HTML form, text/plain). */
  'content_type',
  /**
   * JSON request body the parser refused: over JSON_BODY_LIMIT (413), not JSON, or in a content
   * encoding or charset it cannot read (400/415).
   */
  'http_body',
  /** MQTT packet or payload over the contract's size (the sender's connection is closed). */
  'mqtt_oversize',
  /** Retained publish outside status/meta or over the retained bound (connection closed). */
  'mqtt_retain',
  /**
   * Publish under another device's id, or naming devices in its payload from a device bound to
   * one id (MQTT 3.1.1: connection closed; MQTT 5: PUBACK 0x87); a wildcard or empty topic too
   * (refused by Aedes itself, whatever the MQTT version: security/broker-own-refusals.ts).
   */
  'mqtt_publish_acl',
  /**
   * Publish on a topic neither the contract nor any ingest source reads (MQTT 3.1.1:
   * acknowledged and dropped, the connection kept; MQTT 5: PUBACK 0x87).
   */
  'mqtt_topic_unread',
  /** Subscription outside one device's own `devices/{id}/…` (granted QoS 128). */
  'mqtt_subscribe_acl',
  /**
   * `/live` event the gateway does not handle (acknowledged `{ok:false, error:'unknown event
   * "<name>"'}` when the client gave an ack).
   */
  'live_unknown_event',
  /** `/live` event over the per-socket rate (not handled, acknowledged `{ok:false}`). */
  'live_event_rate',
  /** `/live` socket disconnected for flooding events. */
  'live_event_flood',
  /**
   * `/live` connection (any Engine.IO connection) over LIVE_MAX_CONNECTIONS_PER_IP from one
   * address (handshake refused), or a second `/live` socket on one connection (closed).
   */
  'live_connections_ip',
  /** `/live` connection over LIVE_MAX_CONNECTIONS (handshake refused). */
  'live_connections_total',
  /** MQTT connection over MQTT_MAX_CONNECTIONS_PER_IP from one address (socket closed at once). */
  'mqtt_connections_ip',
  /** MQTT connection over MQTT_MAX_CONNECTIONS (socket closed at once). */
  'mqtt_connections_total',
  /** History read over HTTP beyond the client's API_READ_BUDGET (429; security/read-budget.ts). */
  'http_read_rate',
  /** REST request without a sufficient identity (401: not signed in, or a bad bearer token). */
  'http_unauthorized',
  /**
   * REST request from a signed-in user whose role is too weak, or from a group-scoped token
   * outside what a scope may do (403).
   */
  'http_forbidden',
  /**
   * `/live` handshake refused: bad or revoked token, or ANONYMOUS_ROLE=none (both transports);
   * or a CONNECT to Socket.IO's main namespace `/`, which Pulse does not serve.
   */
  'live_handshake',
  /** `/live` event needing a role, from an anonymous client (`{ok:false, error:'unauthorized'}`). */
  'live_unauthorized',
  /** `/live` event needing a stronger role (`{ok:false, error:'forbidden'}`), or out of scope. */
  'live_forbidden',
  /** Login with an unknown user, a wrong password or a disabled account (401). */
  'login_failed',
  /** Login refused after too many failures for one client address + username (429). */
  'login_rate',
  /**
   * Login or own password change refused after too many failures from one client address,
   * whatever the usernames: a password sprayed over many accounts (429).
   */
  'login_address_rate',
  /**
   * Login or own password change answered 503 at once: as many password checks as the gateway
   * runs at a time were running already (auth/password-checks.ts).
   */
  'login_busy',
  /** Own password change with a wrong current password (403). */
  'password_failed',
  /**
   * Own password change refused after too many failures for one client address + username, the
   * login's limit and budget (429).
   */
  'password_rate',
  /** First-admin setup from a non-loopback address without a valid setup code (403). */
  'setup_refused',
  /** Wall pairing code refused: too many asked from one address, or too many pending (429). */
  'screen_pairing',
  /** Wall pairing claim polls over the per-address rate (429). */
  'screen_claim_rate',
  /** MQTT CONNECT without credentials while ANONYMOUS_DEVICES=false (CONNACK 5, not authorized). */
  'mqtt_unauthenticated',
  /** MQTT CONNECT with an unknown username or a wrong/revoked secret (CONNACK 4). */
  'mqtt_auth_failed',
  /** MQTT CONNECT after too many failures for one address + username (CONNACK 5, not checked). */
  'mqtt_auth_rate',
  /** MQTT CONNECT reusing a connected client's id under another identity (CONNACK 2). */
  'mqtt_takeover',
  /**
   * MQTT CONNECT with a client id that belongs to another identity's credential — a device's own
   * id, the id a bridge last connected with — held or not (CONNACK 2; security/broker-auth.ts).
   */
  'mqtt_client_id_reserved',
  /**
   * A connected MQTT client closed because its client id was taken over by the id's owner, or by
   * a device or bridge from an anonymous client (the newcomer is accepted).
   */
  'mqtt_client_id_reclaimed',
  /** MQTT message over a client's MQTT_MAX_PUBLISH_PER_SECOND budget (dropped; security/publish-rate.ts). */
  'mqtt_publish_rate',
  /** MQTT client disconnected for publishing twice its budget in one window. */
  'mqtt_publish_flood',
  /** Retained MQTT message on a new topic at the bound of retained topics (delivered, not kept). */
  'mqtt_retained_full',
] as const;
export type SecurityRefusal = (typeof SECURITY_REFUSALS)[number];

/**
 * The one place where every refusal of the entry points (HTTP, Socket.IO handshake, embedded
 * broker) is counted by reason and logged — at most one line per reason per 10 s, since a
 * refusal is usually one of a flood. Owns the counters only: it decides nothing, and the
 * checks that call it own their policy.
 */
@Injectable()
export class SecurityCounters implements OnApplicationShutdown {
  private readonly logger = new Logger('Security');
  private readonly log = new RateLimitedLog((line) => this.logger.warn(line));
  private readonly refused = Object.fromEntries(
    SECURITY_REFUSALS.map((reason) => [reason, 0]),
  ) as Record<SecurityRefusal, number>;

  /** Count one refusal; `detail` is for the log line (outside values quoted, nothing secret). */
  refuse(reason: SecurityRefusal, detail: string): void {
    this.refused[reason]++;
    this.log.report(reason, `refused (${reason}): ${detail}`);
  }

  stats(): { refused: Record<SecurityRefusal, number> } {
    return { refused: { ...this.refused } };
  }

  /** The gateway stops: refusals held back are written now, with no timer left after it. */
  onApplicationShutdown(): void {
    this.log.close();
  }
}

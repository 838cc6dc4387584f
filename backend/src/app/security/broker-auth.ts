import { BRIDGE_USERNAME_PREFIX, quote } from '@pulse/protocol';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { SecurityCounters, SecurityRefusal } from './security-counters.service';

/**
 * Who an MQTT connection to the embedded broker is, decided once at CONNECT by the
 * `authenticate` hook, and what its identity may do — the rule that follows it to every
 * publish and subscription (broker-guard.ts reads it with {@link identityOf}).
 *
 * Owns the CONNECT decision (credentials, failure limit, client-id takeover), the identity of
 * each connection and the client ids they hold; must not store or hash secrets (the
 * device-credentials feature does, behind {@link BrokerAuthority}) nor own the broker.
 */

/** A connection's identity on the embedded broker. */
export type BrokerIdentity =
  /** No username: allowed only with ANONYMOUS_DEVICES; publishes for any id not reserved. */
  | { kind: 'anonymous' }
  /** Username = device id with that device's secret: publishes under its own id only. */
  | { kind: 'device'; deviceId: string }
  /**
   * Username `bridge:<name>` with that bridge's secret (zigbee2mqtt, a Home Assistant discovery
   * publisher: one connection for many devices): publishes as an anonymous client may, for any
   * id not reserved, and reads under the ingest sources' topics (decision 0067).
   */
  | { kind: 'bridge'; name: string }
  /**
   * Pulse's own client (the built-in simulator): a per-process secret, and only the device ids
   * it was started for, never a reserved one.
   */
  | { kind: 'service'; name: string; mayPublishFor(deviceId: string): boolean };

/** The identities an admin's credentials prove: closed when those are rotated or revoked. */
export type CredentialIdentity = Extract<BrokerIdentity, { kind: 'device' | 'bridge' }>;

/** What the broker hooks need from the credential store (DeviceCredentialsService). */
export interface BrokerAuthority {
  /** ANONYMOUS_DEVICES: may a connection without a username publish at all? */
  readonly anonymousDevices: boolean;
  /** The identity these credentials prove, or null (unknown user, wrong or revoked secret). */
  identify(username: string, password: string): BrokerIdentity | null;
  /**
   * True when `deviceId` has (or had: revoked) its own credentials: only that device's identity
   * may publish or subscribe under it — not an anonymous client, a bridge or the simulator.
   */
  isReserved(deviceId: string): boolean;
  /**
   * The credential a client id belongs to, or null: the client id a bridge last connected with,
   * or else a device's own id (reserved, as {@link isReserved}). Only that identity may connect
   * with it, and it takes the id over from whoever holds it (decision 0067, addendum).
   */
  ownerOfClientId(clientId: string): CredentialIdentity | null;
  /** A connection with this identity was accepted under `clientId` (last-connect time; a bridge's id). */
  connected(identity: BrokerIdentity, clientId: string): void;
}

export const ANONYMOUS: BrokerIdentity = { kind: 'anonymous' };

/**
 * Failed CONNECTs (wrong secret, unknown username) per client address + username before that
 * pair is refused without a check, for {@link AUTH_FAILURE_WINDOW_SECONDS}. Device secrets are
 * 256 random bits, so this is not what stops guessing: it bounds the work and the log lines of
 * a misconfigured fleet or a scripted flood.
 */
export const AUTH_FAILURES_ALLOWED = 10;
export const AUTH_FAILURE_WINDOW_SECONDS = 60;

const identities = new WeakMap<Client, BrokerIdentity>();

/** The identity the `authenticate` hook gave `client` (anonymous for a Last Will with no client). */
export function identityOf(client: Client | null): BrokerIdentity {
  return (client && identities.get(client)) || ANONYMOUS;
}

/** Same identity: the only one allowed to take over a connected client's id. */
export function sameIdentity(a: BrokerIdentity, b: BrokerIdentity): boolean {
  if (a.kind === 'device') return b.kind === 'device' && a.deviceId === b.deviceId;
  if (a.kind === 'service') return b.kind === 'service' && a.name === b.name;
  if (a.kind === 'bridge') return b.kind === 'bridge' && a.name === b.name;
  return b.kind === 'anonymous';
}

/** How an identity is named in a log line (never with a secret). */
export function describeIdentity(identity: BrokerIdentity): string {
  if (identity.kind === 'device') return `device ${quote(identity.deviceId)}`;
  if (identity.kind === 'service') return `service ${quote(identity.name)}`;
  if (identity.kind === 'bridge') return `bridge ${quote(identity.name)}`;
  return 'anonymous';
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 (Aedes sends MQTT 5 clients 0x85, 0x86, 0x87). */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
/** MQTT 5 DISCONNECT reason code (§3.14.2.1). */
const ADMINISTRATIVE_ACTION = 0x98;

function refusal(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * The Aedes `authenticate` hook, and the client ids each identity holds.
 *
 * Aedes would close a connected client — and fire its Last Will — for a newcomer with the same
 * client id (MQTT 3.1.1 §3.1.4-2, `registerClient` in aedes.js); here only the same identity
 * may, with two exceptions that make a client id held by a squatter its owner's again
 * ({@link clientIdRuling}). The check runs in `authenticate`, before Aedes replaces the stored
 * will or registers the newcomer, so a refused one changes nothing. Claims are taken when a CONNECT
 * is accepted (not when Aedes registers the client a few callbacks later), so two CONNECTs
 * racing for one id are decided here too, and released when that connection's socket closes.
 */
export class BrokerAuthenticator {
  private readonly failures = new RateLimiterMemory({
    points: AUTH_FAILURES_ALLOWED,
    duration: AUTH_FAILURE_WINDOW_SECONDS,
  });
  /** Client id → the accepted connection holding it (until its socket closes). */
  private readonly claims = new Map<string, Client>();

  constructor(
    private readonly counters: SecurityCounters,
    private readonly authority: BrokerAuthority,
  ) {}

  /**
   * The Aedes `preConnect` hook, before `authenticate`: a CONNECT as a bridge is made a clean
   * session (MQTT 3.1.1 Clean Session, MQTT 5 Clean Start with a Session Expiry of 0), whatever
   * it asked. A bridge's session would queue every QoS 1 message under its sources' prefixes
   * (`zigbee2mqtt/#`) for as long as it is away, without bound in Aedes's memory, under as many
   * client ids as it cares to leave behind, and outlive its revocation; zigbee2mqtt never asks
   * for one (mqtt.js's default `clean: true`, a QoS 0 subscription, and it publishes its
   * retained state again after a reconnect). A client id's earlier session is dropped on the way
   * (Aedes's clean CONNECT). Decided on the username alone: a CONNECT that claims `bridge:` and
   * fails the secret is refused anyway (decision 0067, docs/limits.md).
   */
  readonly preConnect: NonNullable<AedesOptions['preConnect']> = (_client, packet, done) => {
    if (packet.username?.startsWith(BRIDGE_USERNAME_PREFIX)) {
      packet.clean = true;
      if (packet.properties?.sessionExpiryInterval !== undefined)
        packet.properties.sessionExpiryInterval = 0;
    }
    done(null, true);
  };

  readonly authenticate: NonNullable<AedesOptions['authenticate']> = (
    client,
    username,
    password,
    done,
  ) => {
    this.decide(client, username, password).then(
      (result) => {
        if ('refuse' in result) {
          this.counters.refuse(result.refuse, result.detail);
          return done(refusal(result.code, result.refuse), false);
        }
        const ruling = this.clientIdRuling(client, result);
        if (ruling && 'refuse' in ruling) {
          this.counters.refuse(ruling.refuse, ruling.detail);
          return done(refusal(IDENTIFIER_REJECTED, ruling.refuse), false);
        }
        // Aedes closes the holder as it registers this client; counted as the holder's refusal.
        if (ruling) this.counters.refuse('mqtt_client_id_reclaimed', ruling.reclaim);
        identities.set(client, result);
        this.claim(client);
        this.authority.connected(result, client.id);
        done(null, true);
      },
      (error: Error) => done(refusal(NOT_AUTHORIZED, error.message), false),
    );
  };

  /** Close every connection of one device's or bridge's identity (revoked or rotated credentials). */
  disconnect(identity: CredentialIdentity): void {
    for (const client of [...this.claims.values()]) {
      // MQTT 5 clients are told why (DISCONNECT 0x98, Administrative action); 3.1.1 is closed.
      if (sameIdentity(identityOf(client), identity))
        client.disconnect({ reasonCode: ADMINISTRATIVE_ACTION });
    }
  }

  /**
   * Whether `identity` may hold `client`'s id: null when it may as MQTT intends (free, or held
   * by the same identity), `reclaim` when it takes the id over from a different holder, `refuse`
   * when it may not. A client id that belongs to a credential
   * ({@link BrokerAuthority.ownerOfClientId}: a device's own id, the id a bridge last connected
   * with) is refused to every other identity, held or not, and its owner takes it over from
   * whoever holds it. Any other id is taken over by the same identity, and from an anonymous
   * holder by any identity with credentials (a device, a bridge, Pulse's simulator). Each
   * takeover goes one way — the one who lost the id is refused it on its retry — so no two
   * identities take an id from each other in a loop; what stays refused is a credential taking
   * an id nobody owns from another credential: neither has the better claim (decision 0067).
   */
  private clientIdRuling(
    client: Client,
    identity: BrokerIdentity,
  ): { refuse: SecurityRefusal; detail: string } | { reclaim: string } | null {
    const id = client.id;
    const claimed = `claimed by ${describeIdentity(identity)} from ${remoteAddress(client)}`;
    const owner = this.authority.ownerOfClientId(id);
    if (owner && !sameIdentity(owner, identity))
      return {
        refuse: 'mqtt_client_id_reserved',
        detail: `client id ${quote(id)} belongs to ${describeIdentity(owner)}, ${claimed}`,
      };
    const holder = this.claims.get(id);
    if (!holder || holder === client) return null;
    const held = identityOf(holder);
    if (sameIdentity(held, identity)) return null;
    const heldBy = `client id ${quote(id)} held by ${describeIdentity(held)}`;
    if (owner || (held.kind === 'anonymous' && identity.kind !== 'anonymous'))
      return { reclaim: `${heldBy} from ${remoteAddress(holder)}, taken over: ${claimed}` };
    return { refuse: 'mqtt_takeover', detail: `${heldBy}, ${claimed}` };
  }

  private claim(client: Client): void {
    const conn = client.conn as Client['conn'] & { destroyed?: boolean };
    if (conn.destroyed) return;
    const id = client.id;
    this.claims.set(id, client);
    conn.once('close', () => {
      if (this.claims.get(id) === client) this.claims.delete(id);
    });
  }

  private async decide(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<BrokerIdentity | { refuse: SecurityRefusal; code: number; detail: string }> {
    const who = `client ${quote(client.id)} from ${remoteAddress(client)}`;
    if (username === undefined || username === '') {
      if (password !== undefined)
        return {
          refuse: 'mqtt_auth_failed',
          code: BAD_USERNAME_OR_PASSWORD,
          detail: `${who}: password without username`,
        };
      return this.authority.anonymousDevices
        ? ANONYMOUS
        : {
            refuse: 'mqtt_unauthenticated',
            code: NOT_AUTHORIZED,
            detail: `${who} without credentials (ANONYMOUS_DEVICES=false)`,
          };
    }
    const key = `${remoteAddress(client)}|${username}`;
    const seen = await this.failures.get(key);
    if (seen !== null && seen.consumedPoints >= AUTH_FAILURES_ALLOWED)
      return {
        refuse: 'mqtt_auth_rate',
        code: NOT_AUTHORIZED,
        detail: `${who} as ${quote(username)}: too many failures`,
      };
    const identity =
      password === undefined ? null : this.authority.identify(username, password.toString('utf8'));
    if (identity === null) {
      await this.failures.penalty(key, 1);
      return {
        refuse: 'mqtt_auth_failed',
        code: BAD_USERNAME_OR_PASSWORD,
        detail: `${who} as ${quote(username)}: unknown username or wrong secret`,
      };
    }
    return identity;
  }
}

function remoteAddress(client: Client): string {
  return (client.conn as { remoteAddress?: string }).remoteAddress ?? 'a client';
}

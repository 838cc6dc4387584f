import { quote } from '@pulse/protocol';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { SecurityCounters, SecurityRefusal } from './security-counters.service';

/**
 * Who an MQTT connection to the embedded broker is, decided once at CONNECT by the
 * `authenticate` hook, and what its identity may do — the rule that follows it to every
 * publish and subscription (broker-guard.ts reads it with {@link identityOf}).
 *
 * Owns the CONNECT decision (credentials, failure limit, client-id takeover) and the identity
 * of each connection; must not store or hash secrets (the device-credentials feature does, behind
 * {@link BrokerAuthority}) nor read Aedes internals (the broker repository hands in a lookup).
 */

/** A connection's identity on the embedded broker. */
export type BrokerIdentity =
  /** No username: allowed only with ANONYMOUS_DEVICES; publishes for any id not reserved. */
  | { kind: 'anonymous' }
  /** Username = device id with that device's secret: publishes under its own id only. */
  | { kind: 'device'; deviceId: string }
  /**
   * Pulse's own client (the built-in simulator): a per-process secret, and only the device ids
   * it was started for, never a reserved one.
   */
  | { kind: 'service'; name: string; mayPublishFor(deviceId: string): boolean };

/** What the broker hooks need from the credential store (DeviceCredentialsService). */
export interface BrokerAuthority {
  /** ANONYMOUS_DEVICES: may a connection without a username publish at all? */
  readonly anonymousDevices: boolean;
  /** The identity these credentials prove, or null (unknown user, wrong or revoked secret). */
  identify(username: string, password: string): BrokerIdentity | null;
  /**
   * True when `deviceId` has (or had: revoked) its own credentials: only that device's identity
   * may publish or subscribe under it — not an anonymous client, not the simulator.
   */
  isReserved(deviceId: string): boolean;
  /** A connection with this identity was accepted (last-connect time). */
  connected(identity: BrokerIdentity): void;
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
  return b.kind === 'anonymous';
}

/** How an identity is named in a log line (never with a secret). */
export function describeIdentity(identity: BrokerIdentity): string {
  if (identity.kind === 'device') return `device ${quote(identity.deviceId)}`;
  if (identity.kind === 'service') return `service ${quote(identity.name)}`;
  return 'anonymous';
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 (Aedes answers MQTT 5 clients with these too). */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function refusal(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * The Aedes `authenticate` hook. `connectedClient(id)` is the live client holding that client
 * id, if any (Aedes would disconnect it — and fire its Last Will — for a newcomer with the same
 * id, MQTT 3.1.1 §3.1.4-2; here only the same identity may do that).
 */
export function brokerAuthenticate(
  counters: SecurityCounters,
  authority: BrokerAuthority,
  connectedClient: (clientId: string) => Client | undefined,
): Pick<AedesOptions, 'authenticate'> {
  const failures = new RateLimiterMemory({
    points: AUTH_FAILURES_ALLOWED,
    duration: AUTH_FAILURE_WINDOW_SECONDS,
  });
  const from = (client: Client): string =>
    (client.conn as { remoteAddress?: string }).remoteAddress ?? 'a client';

  const decide = async (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<BrokerIdentity | { refuse: SecurityRefusal; code: number; detail: string }> => {
    const who = `client ${quote(client.id)} from ${from(client)}`;
    if (username === undefined || username === '') {
      if (password !== undefined)
        return {
          refuse: 'mqtt_auth_failed',
          code: BAD_USERNAME_OR_PASSWORD,
          detail: `${who}: password without username`,
        };
      return authority.anonymousDevices
        ? ANONYMOUS
        : {
            refuse: 'mqtt_unauthenticated',
            code: NOT_AUTHORIZED,
            detail: `${who} without credentials (ANONYMOUS_DEVICES=false)`,
          };
    }
    const key = `${from(client)}|${username}`;
    const seen = await failures.get(key);
    if (seen !== null && seen.consumedPoints >= AUTH_FAILURES_ALLOWED)
      return {
        refuse: 'mqtt_auth_rate',
        code: NOT_AUTHORIZED,
        detail: `${who} as ${quote(username)}: too many failures`,
      };
    const identity =
      password === undefined ? null : authority.identify(username, password.toString('utf8'));
    if (identity === null) {
      await failures.penalty(key, 1);
      return {
        refuse: 'mqtt_auth_failed',
        code: BAD_USERNAME_OR_PASSWORD,
        detail: `${who} as ${quote(username)}: unknown username or wrong secret`,
      };
    }
    return identity;
  };

  return {
    authenticate: (client, username, password, done) => {
      decide(client, username, password).then(
        (result) => {
          if ('refuse' in result) {
            counters.refuse(result.refuse, result.detail);
            return done(refusal(result.code, result.refuse), false);
          }
          const holder = connectedClient(client.id);
          if (holder && holder !== client && !holder.closed) {
            const current = identityOf(holder);
            if (!sameIdentity(current, result)) {
              counters.refuse(
                'mqtt_takeover',
                `client id ${quote(client.id)} held by ${describeIdentity(current)}, claimed by ${describeIdentity(result)} from ${from(client)}`,
              );
              return done(refusal(IDENTIFIER_REJECTED, 'mqtt_takeover'), false);
            }
          }
          identities.set(client, result);
          authority.connected(result);
          done(null, true);
        },
        (error: Error) => done(refusal(NOT_AUTHORIZED, error.message), false),
      );
    },
  };
}

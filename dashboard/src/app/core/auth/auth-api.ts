/*
 * The `/api/auth/*` calls behind the injectable fetch, and the validation of their answers; its
 * `authRequest` is also how the other signed-in writes (screens, alert rules) are sent, with the
 * session cookie and a JSON body. It owns URLs, request bodies and turning HTTP statuses into
 * readable refusals; it must not hold state (AuthService does) nor touch the live socket.
 */

import type { AuthUser, BackoffOptions, MeResponse, Role } from '@pulse/protocol/core';
import { ANONYMOUS_ROLES, ROLES, backoffDelay } from '@pulse/protocol/core';

export type { AnonymousRole, AuthUser, Role } from '@pulse/protocol/core';

/** `GET /api/auth/me`, validated. */
export type AuthState = MeResponse;

/**
 * A refused or failed call: `status` 0 when the server was never reached. `serverMessages` is the
 * refusal's `message` as the server sent it, a list (a 400's validation issues, `path: message`
 * each) or one sentence; empty when it sent none. Callers outside sign-in word a refusal from it:
 * `message` is worded for the sign-in forms.
 */
export class AuthRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly serverMessages: readonly string[] = [],
    /** The refusal's JSON body as the server sent it (null: none), for a route's own fields. */
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'AuthRequestError';
  }
}

/** A user record from the server, or null when `value` is not one. */
export function parseUser(value: unknown): AuthUser | null {
  if (!value || typeof value !== 'object') return null;
  const { username, role } = value as Record<string, unknown>;
  if (typeof username !== 'string' || !username || typeof role !== 'string') return null;
  return (ROLES as readonly string[]).includes(role) ? { username, role: role as Role } : null;
}

/** The `/api/auth/me` body; throws on anything else rather than guess permissions. */
export function parseAuthState(value: unknown): AuthState {
  if (!value || typeof value !== 'object') throw new AuthRequestError(0, 'malformed /api/auth/me');
  const body = value as Record<string, unknown>;
  const user = body['user'] === null ? null : parseUser(body['user']);
  if (body['user'] !== null && !user)
    throw new AuthRequestError(0, 'malformed user in /api/auth/me');
  const anonymousRole = body['anonymousRole'];
  if (!ANONYMOUS_ROLES.some((r) => r === anonymousRole))
    throw new AuthRequestError(0, 'malformed anonymousRole in /api/auth/me');
  const screen = body['screen'] as Record<string, unknown> | null | undefined;
  const state: AuthState = {
    user,
    anonymousRole: anonymousRole as AuthState['anonymousRole'],
    setupRequired: body['setupRequired'] === true,
  };
  // Only a paired wall screen's display token comes back with a screen.
  if (screen && typeof screen['id'] === 'string' && typeof screen['name'] === 'string')
    state.screen = { id: screen['id'], name: screen['name'] };
  return state;
}

/**
 * What a refusal means to the person at the keyboard. `retryAfterSeconds`: the answer's
 * Retry-After, which a 429 of the login budget carries (up to its 15 minutes' lock).
 */
export function refusalMessage(
  status: number,
  serverMessage: string,
  retryAfterSeconds?: number,
): string {
  if (status === 401) return 'Wrong username or password.';
  if (status === 429)
    return retryAfterSeconds === undefined
      ? 'Too many attempts; wait a while and try again.'
      : `Too many attempts; try again in ${waitInWords(retryAfterSeconds)}.`;
  if (status === 409) return 'An account already exists: sign in instead.';
  if (status === 403) return serverMessage || 'The setup code is missing or wrong.';
  if (status === 503 && serverMessage === 'busy')
    return 'Pulse is busy checking other sign-ins; try again in a moment.';
  return serverMessage ? `HTTP ${status}: ${serverMessage}` : `HTTP ${status}`;
}

/**
 * A 502, 503 or 504 with no sentence of the gateway's: it is down or restarting, or a proxy in
 * front of it (nginx's bad gateway or timeout) says so for it.
 */
const UNAVAILABLE = 'The gateway is unavailable right now; try again in a moment.';
const UNAVAILABLE_STATUSES: readonly number[] = [502, 503, 504];

/**
 * Said after a write answered 502, 503 or 504 with no sentence (a proxy's page): the gateway may
 * have made the change and then not answered in time (a proxy's timeout, or a gateway that hung
 * after its write), so "try again" alone could send it twice (a second token, a second screen).
 * A sentence is the gateway's own (it answered, and says what it did) or the bundled nginx's,
 * which says this itself (deploy/nginx/pulse.conf).
 */
const MAYBE_MADE = 'The change may or may not have been made: look before sending it again.';

/**
 * A refused admin request (pages other than sign-in: Screens, Rules, Access) in words for the
 * person who asked: signed out, not an admin, busy or unavailable, or what the gateway said (a
 * 400's issues, a 404 or 409's sentence); `action` completes "sign in again to …" and "Only
 * admins …" ("manage screens"). A `write` a proxy answered unavailable without a sentence adds
 * that the change may have been made; a read (a list) has nothing to make.
 */
export function adminRefusal(
  error: unknown,
  action: string,
  asked: 'write' | 'read' = 'write',
): string {
  if (!(error instanceof AuthRequestError))
    return error instanceof Error ? error.message : String(error);
  if (error.status === 0) return error.message;
  if (error.status === 401) return `Signed out: sign in again to ${action}.`;
  if (error.status === 403) return `Only admins ${action}.`;
  // Still busy after the retries (a password check): its own words, already for a person.
  if (error instanceof BusyError) return error.message;
  const said = error.serverMessages.join('; ');
  if (said) return said;
  if (!UNAVAILABLE_STATUSES.includes(error.status)) return `HTTP ${error.status}`;
  return asked === 'write' ? `${UNAVAILABLE} ${MAYBE_MADE}` : UNAVAILABLE;
}

/**
 * A 503 `busy` (the gateway is checking as many passwords as it allows: decision 0062) was not
 * processed, so it is sent again ({@link BUSY_BACKOFF}), this many times, before the person is
 * told.
 */
export const BUSY_RETRIES = 3;

/**
 * When a busy request is sent again: `baseMs` is each answer's Retry-After (1–5 s; the gateway
 * says 1), and the wait is that times a draw in [1, 2), growing ×1.5 a retry: never sooner than
 * the server asked, and people refused together (a gateway restart brings them back at once)
 * come back spread over a second, then 1.5 s, then 2.25 s, not in step to be refused together
 * again. With Retry-After 1 a person is told "busy" after 4.75–9.5 s (3 s without jitter).
 */
export const BUSY_BACKOFF: BackoffOptions = {
  baseMs: 1000,
  /** At least; 4 × Retry-After when that is more. */
  maxMs: 10_000,
  factor: 1.5,
  jitterMin: 1,
  jitterMax: 2,
};

export interface AuthRequestOptions {
  /** The jitter of busy retries, in [0, 1) (the app's RANDOM; a fixed value in tests). */
  random?: () => number;
  /**
   * Aborted: no busy retry is sent any more (the wait rejects with its reason at once). A
   * request already sent is not aborted: the gateway may be signing the person in, and the
   * caller must learn that it did.
   */
  signal?: AbortSignal;
  /** More request headers (a write's `If-Match`), sent with every try. */
  headers?: Readonly<Record<string, string>>;
}

export type RequestMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The JSON body of a signed-in request's answer (null: none). */
export function authRequest(
  fetchFn: typeof fetch,
  method: RequestMethod,
  url: string,
  body?: unknown,
  options: AuthRequestOptions = {},
): Promise<unknown> {
  return authExchange(fetchFn, method, url, body, options).then((answer) => answer.body);
}

/** An answer's JSON body (null: none) and its `ETag` (null: none). */
export interface AuthAnswer {
  body: unknown;
  etag: string | null;
}

/**
 * As {@link authRequest}, with the answer's `ETag` too: a rule write's answer tags the version
 * it made, which the next write of it names (decision 0072).
 */
export async function authExchange(
  fetchFn: typeof fetch,
  method: RequestMethod,
  url: string,
  body?: unknown,
  { random = Math.random, signal, headers = {} }: AuthRequestOptions = {},
): Promise<AuthAnswer> {
  for (let retry = 0; ; retry++) {
    try {
      return await authRequestOnce(fetchFn, method, url, body, headers);
    } catch (error) {
      if (!(error instanceof BusyError) || retry >= BUSY_RETRIES) throw error;
      // The cap scales with Retry-After, so a proxy's longer one (up to 5 s) still spreads.
      const backoff = {
        ...BUSY_BACKOFF,
        baseMs: error.retryAfterMs,
        maxMs: Math.max(BUSY_BACKOFF.maxMs, 4 * error.retryAfterMs),
      };
      const delayMs = Math.max(error.retryAfterMs, backoffDelay(retry + 1, random(), backoff));
      await wait(delayMs, signal);
    }
  }
}

/** Resolves after `ms`, or rejects with `signal`'s reason once it aborts (the timer cleared). */
function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** A 503 `busy` answer, with when to try again. */
class BusyError extends AuthRequestError {
  constructor(readonly retryAfterMs: number) {
    super(503, refusalMessage(503, 'busy'));
  }
}

async function authRequestOnce(
  fetchFn: typeof fetch,
  method: RequestMethod,
  url: string,
  body: unknown,
  headers: Readonly<Record<string, string>>,
): Promise<AuthAnswer> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new AuthRequestError(0, 'The server cannot be reached.');
  }
  const json: unknown = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 503 && serverMessage(json) === 'busy') {
    const seconds = Number(res.headers?.get('retry-after'));
    throw new BusyError(Math.min(Math.max(Number.isFinite(seconds) ? seconds : 1, 1), 5) * 1000);
  }
  if (!res.ok)
    throw new AuthRequestError(
      res.status,
      refusalMessage(
        res.status,
        serverMessage(json),
        retryAfterSeconds(res.headers?.get('retry-after')),
      ),
      serverMessages(json),
      json,
    );
  return { body: json, etag: res.headers?.get('etag') ?? null };
}

/** A Retry-After in seconds (its date form, which Pulse does not send, read as absent). */
function retryAfterSeconds(header: string | null | undefined): number | undefined {
  const seconds = header ? Number(header) : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** "15 minutes", "a minute", "40 seconds": a wait as a person reads it, rounded up. */
export function waitInWords(seconds: number): string {
  if (seconds <= 60) return seconds <= 1 ? 'a second' : `${Math.ceil(seconds)} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? 'a minute' : `${minutes} minutes`;
}

function serverMessage(json: unknown): string {
  if (!json || typeof json !== 'object') return '';
  const { error, message } = json as Record<string, unknown>;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof error === 'string' ? error : '';
}

/** The body's `message` as a list (decision 0056: a sentence, or the validation's issues). */
function serverMessages(json: unknown): string[] {
  const message = json && typeof json === 'object' ? (json as { message?: unknown }).message : '';
  if (typeof message === 'string') return message ? [message] : [];
  return Array.isArray(message) ? message.filter((m): m is string => typeof m === 'string') : [];
}

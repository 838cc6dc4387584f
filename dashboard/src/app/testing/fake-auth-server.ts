import type { AnonymousRole, AuthUser, Role } from '../core/auth/auth-api';

/*
 * A tiny in-memory `/api/auth/*` server behind a fake `fetch`, with the statuses of the real
 * one (401 wrong password, 409 setup done, 403 setup code, 429 when told to). Other URLs go to
 * `other`. Test-only: production code must never import it.
 */

export interface FakeAuthOptions {
  /** Signed in from the start (a session cookie the browser already has). */
  user?: AuthUser | null;
  anonymousRole?: AnonymousRole;
  /** Accounts: username → password and role. No account → setup required. */
  accounts?: Record<string, { password: string; role: Role }>;
  /** The setup code the server insists on (a non-loopback bind), if any. */
  setupCode?: string;
  /** Any other URL; `headers`: the answer's (an `etag`), by lower-case name. */
  other?: (
    url: string,
    init?: RequestInit,
  ) => { status: number; body: unknown; headers?: Record<string, string> };
}

export function fakeAuthServer(options: FakeAuthOptions = {}) {
  const accounts = { ...(options.accounts ?? {}) };
  if (options.user && !accounts[options.user.username])
    accounts[options.user.username] = { password: 'secret-password', role: options.user.role };
  const server = {
    user: options.user ?? null,
    anonymousRole: options.anonymousRole ?? 'viewer',
    accounts,
    rateLimited: false,
    /** Logins answered 503 `busy` (Retry-After: 1) before they are checked again. */
    busy: 0,
    /** Every request, `METHOD url`. */
    calls: [] as string[],
    fetch: jest.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      const method = init?.method ?? 'GET';
      server.calls.push(`${method} ${url}`);
      const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, string>) : {};
      const { status, json, retryAfter, headers = {} } = answer(method, url, body, init);
      const all: Record<string, string> = {
        ...headers,
        ...(retryAfter ? { 'retry-after': retryAfter } : {}),
      };
      return {
        ok: status < 400,
        status,
        headers: { get: (name: string) => all[name.toLowerCase()] ?? null },
        json: async () => (json === undefined ? Promise.reject(new Error('no body')) : json),
      } as Response;
    }),
  };

  function answer(
    method: string,
    url: string,
    body: Record<string, string>,
    init?: RequestInit,
  ): { status: number; json?: unknown; retryAfter?: string; headers?: Record<string, string> } {
    if (url === '/api/auth/me')
      return {
        status: 200,
        json: {
          user: server.user,
          anonymousRole: server.anonymousRole,
          setupRequired: Object.keys(server.accounts).length === 0,
        },
      };
    if (url === '/api/auth/login' && method === 'POST') {
      // As the gateway's login budget answers: how long until the next attempt counts (15 min).
      if (server.rateLimited)
        return { status: 429, json: { error: 'too many attempts' }, retryAfter: '900' };
      if (server.busy > 0) {
        server.busy--;
        return { status: 503, json: { error: 'busy' }, retryAfter: '1' };
      }
      const account = server.accounts[body['username']];
      if (!account || account.password !== body['password'])
        return { status: 401, json: { error: 'invalid credentials' } };
      server.user = { username: body['username'], role: account.role };
      return { status: 200, json: { user: server.user } };
    }
    if (url === '/api/auth/logout' && method === 'POST') {
      server.user = null;
      return { status: 204 };
    }
    if (url === '/api/auth/setup' && method === 'POST') {
      if (Object.keys(server.accounts).length > 0)
        return { status: 409, json: { error: 'already set up' } };
      if (options.setupCode && body['setupCode'] !== options.setupCode)
        return { status: 403, json: { error: 'setup code required' } };
      server.accounts[body['username']] = { password: body['password'], role: 'admin' };
      server.user = { username: body['username'], role: 'admin' };
      return { status: 201, json: { user: server.user } };
    }
    if (options.other) {
      const { status, body: json, headers } = options.other(url, init);
      return { status, json, headers };
    }
    return { status: 404, json: { message: `no route ${url}` } };
  }

  return server;
}

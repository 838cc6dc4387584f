import type { Role, TokenInfo, UserInfo } from '@pulse/protocol/core';
import { fakeAuthServer } from './fake-auth-server';

/*
 * The gateway of the Access page's specs: `/api/users` and `/api/auth/tokens|password` over
 * {@link fakeAuthServer}, with the answers and refusal bodies of the real one (read from
 * users.controller.ts and auth.controller.ts and tried against a built gateway): 409 for a
 * username taken and for the last enabled admin, 403 `wrong password`, 204 for deletions.
 * Records every write. Test-only: production code must never import it.
 */

export interface Write {
  method: string;
  url: string;
  body: unknown;
}

/** When the specs' accounts were made (2026-11-01 09:30 UTC). */
const CREATED = Date.UTC(2026, 10, 1, 9, 30);

export function fakeAccessServer(
  options: {
    /** Signed in; an admin unless told otherwise. */
    me?: { username: string; role: Role };
    /** Everyone (the signed-in person added if missing). */
    users?: { username: string; role: Role; lastSignInAt?: number }[];
    tokens?: (TokenInfo & { owner: string })[];
  } = {},
) {
  const me = options.me ?? { username: 'ann', role: 'admin' as Role };
  const users: UserInfo[] = (options.users ?? [me]).map((u) => ({
    ...u,
    createdAt: CREATED,
    disabled: false,
  }));
  if (!users.some((u) => u.username === me.username))
    users.unshift({ ...me, createdAt: CREATED, disabled: false });
  const tokens = [...(options.tokens ?? [])];
  const writes: Write[] = [];
  let refusal: { status: number; body: unknown } | null = null;
  let issued = 0;
  const passwords: Record<string, string> = { [me.username]: 'secret-password' };

  const server = fakeAuthServer({
    user: me,
    other: (url, init) => {
      const method = init?.method ?? 'GET';
      const [path, query = ''] = url.split('?');
      if (method === 'GET' && path === '/api/users')
        return { status: 200, body: { users: users.map((u) => ({ ...u })) } };
      if (method === 'GET' && path === '/api/auth/tokens') {
        const owner = new URLSearchParams(query).get('user') ?? me.username;
        const theirs = tokens
          .filter((t) => t.owner === owner)
          .map(({ id, name, createdAt, expiresAt, groups, lastUsedAt }) => ({
            id,
            name,
            createdAt,
            expiresAt,
            ...(groups ? { groups } : {}),
            ...(lastUsedAt === undefined ? {} : { lastUsedAt }),
          }));
        return { status: 200, body: { tokens: theirs } };
      }
      const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
      writes.push({ method, url, body });
      const refused = refusal;
      refusal = null;
      return refused ?? write(method, path, body as Record<string, unknown>);
    },
  });

  function write(
    method: string,
    path: string,
    body: Record<string, unknown>,
  ): { status: number; body: unknown } {
    const name = decodeURIComponent(path.split('/').pop() ?? '');
    const at = users.findIndex((u) => u.username === name);
    const lastAdmin = () => users.filter((u) => u.role === 'admin' && !u.disabled).length <= 1;
    const noAdminLeft = conflict('Pulse needs at least one enabled admin: promote another first');
    if (path === '/api/users' && method === 'POST') {
      const username = String(body['username']);
      if (users.some((u) => u.username === username)) return conflict(`user "${username}" exists`);
      const user = { username, role: body['role'] as Role, createdAt: CREATED, disabled: false };
      users.push(user);
      return { status: 201, body: user };
    }
    if (path.startsWith('/api/users/') && (method === 'PATCH' || method === 'DELETE')) {
      if (at < 0) return { status: 404, body: error(404, 'Not Found', `no user "${name}"`) };
      const user = users[at];
      const demoted =
        method === 'DELETE' || (body['role'] !== undefined && body['role'] !== 'admin');
      if (user.role === 'admin' && demoted && lastAdmin()) return noAdminLeft;
      if (method === 'DELETE') {
        users.splice(at, 1);
        return { status: 204, body: null };
      }
      if (body['role']) user.role = body['role'] as Role;
      return { status: 200, body: { ...user } };
    }
    if (path === '/api/auth/tokens' && method === 'POST') {
      const id = `tok-${++issued}`;
      const ttl = typeof body['ttlSeconds'] === 'number' ? body['ttlSeconds'] : 3600;
      const expiresAt = Date.now() + ttl * 1000;
      const groups = body['groups'] as string[] | undefined;
      tokens.unshift({
        id,
        name: String(body['name']),
        createdAt: Date.now(),
        expiresAt,
        ...(groups ? { groups } : {}),
        owner: me.username,
      });
      return { status: 201, body: { id, token: `secret-of-${id}`, expiresAt } };
    }
    if (path.startsWith('/api/auth/tokens/') && method === 'DELETE') {
      const t = tokens.findIndex((token) => token.id === name);
      if (t < 0) return { status: 404, body: error(404, 'Not Found', `no token "${name}"`) };
      tokens.splice(t, 1);
      return { status: 204, body: null };
    }
    if (path === '/api/auth/password' && method === 'POST') {
      if (body['currentPassword'] !== passwords[me.username])
        return {
          status: 403,
          body: { error: 'wrong password', statusCode: 403, message: 'wrong password' },
        };
      passwords[me.username] = String(body['newPassword']);
      tokens.splice(0, tokens.length, ...tokens.filter((t) => t.owner !== me.username));
      return { status: 204, body: null };
    }
    return { status: 404, body: error(404, 'Not Found', `Cannot ${method} ${path}`) };
  }

  return {
    server,
    users,
    tokens,
    writes,
    /** The next write is answered with this (status and body as the gateway sends them). */
    refuseNext: (status: number, body: unknown) => (refusal = { status, body }),
  };
}

function error(statusCode: number, error: string, message: string) {
  return { message, error, statusCode };
}

function conflict(message: string) {
  return { status: 409, body: error(409, 'Conflict', message) };
}

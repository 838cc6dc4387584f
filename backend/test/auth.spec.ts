import type {
  CreateTokenResponse,
  IngestStats,
  LoginResponse,
  MeResponse,
  TokenListResponse,
  UserListResponse,
} from '@pulse/protocol';
import { getJson, sendJson } from '@pulse/test-support';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartupError } from '../src/app/config/config';
import { login, startTestPulse, TEST_ADMIN_PASSWORD, tokenFor, usePulse } from './support/pulse';

/** A non-loopback IPv4 address of this machine, to reach Pulse as a remote client would. */
function externalAddress(): string | undefined {
  for (const entries of Object.values(networkInterfaces()))
    for (const entry of entries ?? [])
      if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  return undefined;
}

/** Everything written to stdout and stderr while `run` runs (the console logger writes there). */
async function captureOutput(run: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    }),
  );
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return chunks.join('');
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

// Real: the whole backend with its SQLite store in a temp DATA_DIR, argon2 and jose; plain fetch.
describe('sessions and tokens', () => {
  const backend = usePulse();
  const { api } = backend;
  const url = () => backend.pulse.httpUrl;
  const adminBearer = async () =>
    `Bearer ${(await tokenFor(url(), 'admin', TEST_ADMIN_PASSWORD)).token}`;
  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(api('/stats'))).body.security?.refused ?? {};

  it('seeds admin from PULSE_ADMIN_PASSWORD: no setup, anonymous viewer on loopback', async () => {
    expect((await getJson<MeResponse>(api('/auth/me'))).body).toEqual({
      user: null,
      anonymousRole: 'viewer',
      setupRequired: false,
    });
    const users = await getJson<UserListResponse>(api('/users'), {
      cookie: await login(url(), 'admin', TEST_ADMIN_PASSWORD),
    });
    expect(users.body.users).toEqual([
      {
        username: 'admin',
        role: 'admin',
        createdAt: expect.any(Number),
        disabled: false,
        lastSignInAt: expect.any(Number), // the sign-in that asked for this list
      },
    ]);
  });

  it('signs in with an HttpOnly SameSite=Strict cookie, shows the user, and logs out for good', async () => {
    const response = await fetch(
      api('/auth/login'),
      json({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ user: { username: 'admin', role: 'admin' } });
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^pulse_session=[^;]+;/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP
    const cookie = setCookie.split(';')[0];

    const me = await getJson<MeResponse>(api('/auth/me'), { cookie });
    expect(me.body.user).toEqual({ username: 'admin', role: 'admin' });

    const out = await fetch(api('/auth/logout'), { method: 'POST', headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^pulse_session=;.*Expires=Thu, 01 Jan 1970/);
    // The old cookie is revoked, not merely forgotten by the browser.
    expect((await getJson<MeResponse>(api('/auth/me'), { cookie })).body.user).toBeNull();
    expect((await getJson(api('/users'), { cookie })).status).toBe(401);
  });

  it('tells every cache to keep no answer that carries a session or a token (no-store)', async () => {
    const signIn = await fetch(
      api('/auth/login'),
      json({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    );
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('cache-control')).toBe('no-store'); // the cookie is the session
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
    const made = await fetch(api('/auth/tokens'), json({ name: 'cached?' }, { cookie }));
    expect(made.status).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    const { token } = (await made.json()) as CreateTokenResponse;
    const chained = await fetch(
      api('/auth/tokens'),
      json({ name: 'chained' }, { authorization: `Bearer ${token}` }),
    );
    expect(chained.status).toBe(201);
    expect(chained.headers.get('cache-control')).toBe('no-store');
  });

  it('issues bearer tokens that work on REST until revoked', async () => {
    const authorizationOfAdmin = await adminBearer();
    const user = { username: 'ops', password: 'ops-password', role: 'operator' };
    await sendJson(api('/users'), 'POST', user, { authorization: authorizationOfAdmin });
    const { id, token, expiresAt } = await tokenFor(url(), 'ops', 'ops-password', {
      ttlSeconds: 120,
    });
    expect(expiresAt).toBeGreaterThan(Date.now() + 110_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
    const authorization = `Bearer ${token}`;
    expect((await getJson<MeResponse>(api('/auth/me'), { authorization })).body.user).toEqual({
      username: 'ops',
      role: 'operator',
    });
    expect(
      (await sendJson(api(`/auth/tokens/${id}`), 'DELETE', undefined, { authorization })).status,
    ).toBe(204);
    expect((await getJson(api('/devices'), { authorization })).status).toBe(401);
    expect((await getJson<MeResponse>(api('/auth/me'), { authorization })).body.user).toBeNull();
  });

  it('caps a token asked for with a bearer token at the asking token’s expiry; a session keeps the 30 days', async () => {
    const admin = { authorization: await adminBearer() };
    const user = { username: 'chain', password: 'chain-password', role: 'operator' };
    expect((await sendJson(api('/users'), 'POST', user, admin)).status).toBe(201);
    const hour = await tokenFor(url(), 'chain', 'chain-password', { ttlSeconds: 3600 });
    const asHour = { authorization: `Bearer ${hour.token}` };
    const month = 30 * 86_400;

    const chained = await sendJson<CreateTokenResponse>(
      api('/auth/tokens'),
      'POST',
      { name: 'thirty days, please', ttlSeconds: month },
      asHour,
    );
    expect(chained.status).toBe(201);
    expect(chained.body.expiresAt).toBe(hour.expiresAt);
    // The default hour, asked for a moment later, would outlive it too.
    const byDefault = await sendJson<CreateTokenResponse>(
      api('/auth/tokens'),
      'POST',
      { name: 'default' },
      asHour,
    );
    expect(byDefault.body.expiresAt).toBe(hour.expiresAt);
    // Nor does a chain of them get any further.
    const second = await sendJson<CreateTokenResponse>(
      api('/auth/tokens'),
      'POST',
      { name: 'and again', ttlSeconds: month },
      { authorization: `Bearer ${chained.body.token}` },
    );
    expect(second.body.expiresAt).toBe(hour.expiresAt);
    // Shorter than the asking token is as asked.
    const minute = await sendJson<CreateTokenResponse>(
      api('/auth/tokens'),
      'POST',
      { name: 'a minute', ttlSeconds: 60 },
      asHour,
    );
    expect(minute.body.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);

    // A signed-in session keeps the documented limits.
    const cookie = await login(url(), 'chain', 'chain-password');
    const before = Date.now();
    const fromSession = await sendJson<CreateTokenResponse>(
      api('/auth/tokens'),
      'POST',
      { name: 'a month', ttlSeconds: month },
      { cookie },
    );
    expect(fromSession.status).toBe(201);
    expect(fromSession.body.expiresAt).toBeGreaterThanOrEqual(before + month * 1000);
  });

  it('revokes the tokens a token made (and theirs) with it, sockets included; a session’s stay', async () => {
    const admin = { authorization: await adminBearer() };
    const user = { username: 'heir', password: 'heir-password', role: 'viewer' };
    expect((await sendJson(api('/users'), 'POST', user, admin)).status).toBe(201);
    const cookie = await login(url(), 'heir', 'heir-password');
    const mint = async (name: string, headers: Record<string, string>) => {
      const made = await sendJson<CreateTokenResponse>(
        api('/auth/tokens'),
        'POST',
        { name, ttlSeconds: 3600 },
        headers,
      );
      expect(made.status).toBe(201);
      return made.body;
    };
    const parent = await mint('parent', { cookie });
    const child = await mint('child', { authorization: `Bearer ${parent.token}` });
    const grandchild = await mint('grandchild', { authorization: `Bearer ${child.token}` });
    const sibling = await mint('sibling', { cookie });
    const works = async (token: string) =>
      (await getJson(api('/devices'), { authorization: `Bearer ${token}` })).status;

    // The list says which token each was made with (a session's: nothing).
    const listed = await getJson<TokenListResponse>(api('/auth/tokens'), { cookie });
    const byId = new Map(listed.body.tokens.map((token) => [token.id, token]));
    expect(byId.get(child.id)?.parentId).toBe(parent.id);
    expect(byId.get(grandchild.id)?.parentId).toBe(child.id);
    expect(byId.get(parent.id)).not.toHaveProperty('parentId');

    const socket = await backend.live(['websocket'], (s) => (s.auth = { token: grandchild.token }));
    const cut = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
    expect(
      (await sendJson(api(`/auth/tokens/${parent.id}`), 'DELETE', undefined, { cookie })).status,
    ).toBe(204);
    expect(await works(parent.token)).toBe(401);
    expect(await works(child.token)).toBe(401);
    expect(await works(grandchild.token)).toBe(401);
    await cut;
    expect(await works(sibling.token)).toBe(200);
    expect((await getJson<MeResponse>(api('/auth/me'), { cookie })).body.user?.username).toBe(
      'heir',
    );

    // Signing out with a bearer token takes its children along too.
    const root = await mint('root', { cookie });
    const leaf = await mint('leaf', { authorization: `Bearer ${root.token}` });
    expect(
      (
        await fetch(api('/auth/logout'), {
          method: 'POST',
          headers: { authorization: `Bearer ${root.token}` },
        })
      ).status,
    ).toBe(204);
    expect(await works(leaf.token)).toBe(401);
    expect(await works(sibling.token)).toBe(200);
  });

  it('lists the caller’s own live tokens, newest first, without the tokens themselves', async () => {
    const admin = { authorization: await adminBearer() };
    const user = { username: 'lister', password: 'lister-password', role: 'viewer' };
    expect((await sendJson(api('/users'), 'POST', user, admin)).status).toBe(201);
    const cookie = await login(url(), 'lister', 'lister-password');
    const create = async (name: string, ttlSeconds = 600) =>
      (
        await sendJson<CreateTokenResponse>(
          api('/auth/tokens'),
          'POST',
          { name, ttlSeconds },
          { cookie },
        )
      ).body;
    const first = await create('first');
    const revoked = await create('revoked');
    const last = await create('last', 7200);
    await sendJson(api(`/auth/tokens/${revoked.id}`), 'DELETE', undefined, { cookie });

    const mine = await getJson<TokenListResponse>(api('/auth/tokens'), { cookie });
    expect(mine.status).toBe(200);
    // No session, no revoked token, no other user's; never a token's secret.
    expect(mine.body).toEqual({
      tokens: [
        { id: last.id, name: 'last', createdAt: expect.any(Number), expiresAt: last.expiresAt },
        { id: first.id, name: 'first', createdAt: expect.any(Number), expiresAt: first.expiresAt },
      ],
    });
    expect(mine.body.tokens[0].createdAt).toBeGreaterThanOrEqual(mine.body.tokens[1].createdAt);
    // A bearer token lists the same, itself included, now with when it was last used: this call.
    const asLast = { authorization: `Bearer ${last.token}` };
    const before = Date.now();
    const byLast = (await getJson<TokenListResponse>(api('/auth/tokens'), asLast)).body;
    expect(byLast).toEqual({
      tokens: [{ ...mine.body.tokens[0], lastUsedAt: expect.any(Number) }, mine.body.tokens[1]],
    });
    expect(byLast.tokens[0].lastUsedAt).toBeGreaterThanOrEqual(before);
    expect((await getJson(api('/auth/tokens?user=lister'), asLast)).body).toEqual(byLast);

    // Someone else's: an admin may look (to revoke one), no one else.
    expect((await getJson(api('/auth/tokens?user=lister'), admin)).body).toEqual(byLast);
    expect((await getJson(api('/auth/tokens?user=nobody'), admin)).status).toBe(404);
    const other = await getJson(api('/auth/tokens?user=admin'), asLast);
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    expect((await getJson(api('/auth/tokens?owner=admin'), admin)).status).toBe(400);

    // A scoped token shows its groups; it may not list (as it may not create).
    const scoped = await sendJson<CreateTokenResponse>(
      api('/auth/tokens'),
      'POST',
      { name: 'hall-a screen', groups: ['hall-a'] },
      admin,
    );
    const adminTokens = await getJson<TokenListResponse>(api('/auth/tokens'), admin);
    expect(adminTokens.body.tokens[0]).toEqual({
      id: scoped.body.id,
      name: 'hall-a screen',
      createdAt: expect.any(Number),
      expiresAt: scoped.body.expiresAt,
      groups: ['hall-a'],
      parentId: expect.any(String), // asked for with the admin's bearer token
    });
    const byScoped = { authorization: `Bearer ${scoped.body.token}` };
    expect((await getJson(api('/auth/tokens'), byScoped)).status).toBe(403);
    expect((await getJson(api('/auth/tokens'))).status).toBe(401); // anonymous viewer
  });

  it('shows when each person last signed in and each token was last used, to the minute', async () => {
    const admin = { authorization: await adminBearer() };
    const person = { username: 'dormant', password: 'dormant-password', role: 'viewer' };
    expect((await sendJson(api('/users'), 'POST', person, admin)).status).toBe(201);
    const listed = async () =>
      (await getJson<UserListResponse>(api('/users'), admin)).body.users.find(
        (u) => u.username === 'dormant',
      );
    expect(await listed()).toEqual({
      username: 'dormant',
      role: 'viewer',
      createdAt: expect.any(Number),
      disabled: false,
    }); // never signed in: no lastSignInAt

    const signInFrom = Date.now();
    const cookie = await login(url(), 'dormant', 'dormant-password');
    const signedIn = (await listed())?.lastSignInAt;
    expect(signedIn).toBeGreaterThanOrEqual(signInFrom);
    expect(signedIn).toBeLessThanOrEqual(Date.now());

    const script = (
      await sendJson<CreateTokenResponse>(
        api('/auth/tokens'),
        'POST',
        { name: 'script' },
        { cookie },
      )
    ).body;
    const lastUse = async () =>
      (await getJson<TokenListResponse>(api('/auth/tokens?user=dormant'), admin)).body.tokens.find(
        (t) => t.id === script.id,
      )?.lastUsedAt;
    expect(await lastUse()).toBeUndefined(); // made, never presented

    const usedFrom = Date.now();
    const authorization = `Bearer ${script.token}`;
    expect((await getJson(api('/devices'), { authorization })).status).toBe(200);
    const used = await lastUse();
    expect(used).toBeGreaterThanOrEqual(usedFrom);
    // A second use within the minute writes nothing: the row keeps the first.
    expect((await getJson(api('/devices'), { authorization })).status).toBe(200);
    expect(await lastUse()).toBe(used);
    // Signing in again moves lastSignInAt; presenting the session cookie does not.
    await getJson(api('/devices'), { cookie });
    expect((await listed())?.lastSignInAt).toBe(signedIn);
  });

  it('refuses a token for someone else (404 unless admin) and a disabled user at once', async () => {
    const admin = await adminBearer();
    await sendJson(
      api('/users'),
      'POST',
      { username: 'vic', password: 'vic-password', role: 'viewer' },
      { authorization: admin },
    );
    const vic = await tokenFor(url(), 'vic', 'vic-password');
    const other = await tokenFor(url(), 'admin', TEST_ADMIN_PASSWORD);
    const asVic = { authorization: `Bearer ${vic.token}` };
    expect(
      (await sendJson(api(`/auth/tokens/${other.id}`), 'DELETE', undefined, asVic)).status,
    ).toBe(404);
    expect((await getJson(api('/devices'), asVic)).status).toBe(200);

    const disabled = await sendJson(
      api('/users/vic'),
      'PATCH',
      { disabled: true },
      { authorization: admin },
    );
    expect(disabled).toMatchObject({ status: 200, body: { username: 'vic', disabled: true } });
    expect((await getJson(api('/devices'), asVic)).status).toBe(401);
    expect(
      (await fetch(api('/auth/login'), json({ username: 'vic', password: 'vic-password' }))).status,
    ).toBe(401);
    expect(
      (await sendJson(api('/users/vic'), 'DELETE', undefined, { authorization: admin })).status,
    ).toBe(204);
    expect(
      (await sendJson(api('/users/admin'), 'DELETE', undefined, { authorization: admin })).status,
    ).toBe(409);
  });

  it('lets a signed-in user change their own password, which signs out their other sessions and tokens', async () => {
    const admin = { authorization: await adminBearer() };
    const user = { username: 'pat', password: 'pat-password', role: 'viewer' };
    expect((await sendJson(api('/users'), 'POST', user, admin)).status).toBe(201);
    const cookie = await login(url(), 'pat', 'pat-password');
    const otherCookie = await login(url(), 'pat', 'pat-password');
    const { token } = await tokenFor(url(), 'pat', 'pat-password');
    const socket = await backend.live(['websocket'], (s) => (s.auth = { token }));
    const cut = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
    const change = (body: unknown, headers: Record<string, string>) =>
      sendJson(api('/auth/password'), 'POST', body, headers);
    const before = await refused();

    // Not through the admin's route, and not without the current password.
    expect(
      (await sendJson(api('/users/pat'), 'PATCH', { password: 'x'.repeat(12) }, { cookie })).status,
    ).toBe(403);
    expect(
      (await change({ currentPassword: 'pat-password', newPassword: 'short' }, { cookie })).status,
    ).toBe(400);
    expect((await change({ newPassword: 'pat-new-password' }, { cookie })).status).toBe(400);
    const wrong = await change(
      { currentPassword: 'not-it', newPassword: 'pat-new-password' },
      { cookie },
    );
    expect(wrong).toEqual({
      status: 403,
      body: { statusCode: 403, error: 'wrong password', message: 'wrong password' },
    });
    expect((await refused())['password_failed']).toBe((before['password_failed'] ?? 0) + 1);

    const changed = await change(
      { currentPassword: 'pat-password', newPassword: 'pat-new-password' },
      { cookie },
    );
    expect(changed.status).toBe(204);
    // The session that changed it stays; every other session and token of pat is revoked.
    expect((await getJson<MeResponse>(api('/auth/me'), { cookie })).body.user).toEqual({
      username: 'pat',
      role: 'viewer',
    });
    expect(
      (await getJson<MeResponse>(api('/auth/me'), { cookie: otherCookie })).body.user,
    ).toBeNull();
    expect((await getJson(api('/devices'), { authorization: `Bearer ${token}` })).status).toBe(401);
    await cut;
    expect(
      (await fetch(api('/auth/login'), json({ username: 'pat', password: 'pat-password' }))).status,
    ).toBe(401);

    // With a bearer token too: it stays, the session goes.
    const fresh = await tokenFor(url(), 'pat', 'pat-new-password');
    const bearer = { authorization: `Bearer ${fresh.token}` };
    expect(
      (
        await change(
          { currentPassword: 'pat-new-password', newPassword: 'pat-third-password' },
          bearer,
        )
      ).status,
    ).toBe(204);
    expect((await getJson(api('/devices'), bearer)).status).toBe(200);
    expect((await getJson<MeResponse>(api('/auth/me'), { cookie })).body.user).toBeNull();
    await login(url(), 'pat', 'pat-third-password');

    // Not for a group-scoped token (an admin's), nor anonymously.
    const scoped = await sendJson<CreateTokenResponse>(
      api('/auth/tokens'),
      'POST',
      { name: 'hall-a screen', groups: ['hall-a'] },
      admin,
    );
    const asScoped = { authorization: `Bearer ${scoped.body.token}` };
    const body = { currentPassword: TEST_ADMIN_PASSWORD, newPassword: 'admin-new-password' };
    expect((await change(body, asScoped)).status).toBe(403);
    expect((await change(body, {})).status).toBe(401);
  });

  it('rate-limits wrong current passwords with the login limiter (per client address + username)', async () => {
    const admin = { authorization: await adminBearer() };
    const user = { username: 'guess', password: 'guess-password', role: 'operator' };
    expect((await sendJson(api('/users'), 'POST', user, admin)).status).toBe(201);
    const cookie = await login(url(), 'guess', 'guess-password');
    const before = await refused();
    for (let i = 0; i < 10; i++)
      expect(
        (
          await sendJson(
            api('/auth/password'),
            'POST',
            { currentPassword: `guess-${i}`, newPassword: 'guess-new-password' },
            { cookie },
          )
        ).status,
      ).toBe(403);
    const limited = await fetch(
      api('/auth/password'),
      json({ currentPassword: 'guess-password', newPassword: 'guess-new-password' }, { cookie }),
    );
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({
      statusCode: 429,
      error: 'too many attempts',
      message: 'too many attempts',
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // One budget of guesses for the pair, whichever door: the login is refused too.
    expect(
      (await fetch(api('/auth/login'), json({ username: 'guess', password: 'guess-password' })))
        .status,
    ).toBe(429);
    const after = await refused();
    expect(after['password_failed']).toBe((before['password_failed'] ?? 0) + 10);
    expect(after['password_rate']).toBe((before['password_rate'] ?? 0) + 1);
    // The password did not change.
    expect((await getJson<MeResponse>(api('/auth/me'), { cookie })).body.user?.username).toBe(
      'guess',
    );
  });

  // Last: it locks `admin` out of this backend for the window.
  it('answers a wrong password and an unknown user alike (401), then rate-limits per IP + username', async () => {
    const before = await refused();
    const wrong = await fetch(api('/auth/login'), json({ username: 'admin', password: 'nope' }));
    const unknown = await fetch(api('/auth/login'), json({ username: 'ghost', password: 'nope' }));
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const invalid = {
      statusCode: 401,
      error: 'invalid credentials',
      message: 'invalid credentials',
    };
    expect(await wrong.json()).toEqual(invalid);
    expect(await unknown.json()).toEqual(invalid);

    for (let i = 1; i < 10; i++)
      expect(
        (await fetch(api('/auth/login'), json({ username: 'admin', password: `x${i}` }))).status,
      ).toBe(401);
    // Even the right password is refused now, for this address and username.
    const limited = await fetch(
      api('/auth/login'),
      json({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    );
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({
      statusCode: 429,
      error: 'too many attempts',
      message: 'too many attempts',
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const after = await refused();
    expect(after['login_failed']).toBe((before['login_failed'] ?? 0) + 11);
    expect(after['login_rate']).toBe((before['login_rate'] ?? 0) + 1);
  });
});

// Its own backend at the most verbose level, so every line a login could write is captured.
describe('logs', () => {
  const backend = usePulse({ env: { LOG_LEVEL: 'verbose' } });
  const { api } = backend;
  const url = () => backend.pulse.httpUrl;
  const adminBearer = async () =>
    `Bearer ${(await tokenFor(url(), 'admin', TEST_ADMIN_PASSWORD)).token}`;

  it('keeps the password and the tokens out of the logs', async () => {
    const password = 'a-secret-password-123';
    let issued: CreateTokenResponse | undefined;
    const output = await captureOutput(async () => {
      const authorization = await adminBearer();
      await sendJson(
        api('/users'),
        'POST',
        { username: 'carol', password, role: 'viewer' },
        { authorization },
      );
      await fetch(api('/auth/login'), json({ username: 'carol', password: `${password}-wrong` }));
      const session = await fetch(api('/auth/login'), json({ username: 'carol', password }));
      expect(((await session.json()) as LoginResponse).user.username).toBe('carol');
      issued = await tokenFor(url(), 'carol', password);
      await getJson(api('/devices'), { authorization: `Bearer ${issued.token}` });
      await getJson(api('/devices'), { authorization: `Bearer ${issued.token}x` });
    });
    // The refusal was logged, naming who was refused and from where…
    expect(output).toMatch(/refused \(login_failed\): login for \\?"carol\\?" from 127\.0\.0\.1/);
    expect(output).not.toContain(password); // …without the password
    expect(output).not.toContain(TEST_ADMIN_PASSWORD);
    expect(output).not.toContain(issued?.token ?? 'no token issued');
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT at all
  });
  it('logs a password change by its owner without either password', async () => {
    const authorization = await adminBearer();
    const user = { username: 'dana', password: 'dana-old-password', role: 'viewer' };
    await sendJson(api('/users'), 'POST', user, { authorization });
    const cookie = await login(url(), 'dana', user.password);
    await tokenFor(url(), 'dana', user.password);
    const newPassword = 'dana-new-password-456';
    const output = await captureOutput(async () => {
      const change = (currentPassword: string) =>
        sendJson(api('/auth/password'), 'POST', { currentPassword, newPassword }, { cookie });
      expect((await change(`${user.password}-wrong`)).status).toBe(403);
      expect((await change(user.password)).status).toBe(204);
    });
    expect(output).toMatch(
      /refused \(password_failed\): password change for \\?"dana\\?" from 127\.0\.0\.1/,
    );
    expect(output).toMatch(
      /password of \\?"dana\\?" changed by its owner from 127\.0\.0\.1: 2 other sessions and tokens revoked/i,
    );
    expect(output).not.toContain(user.password);
    expect(output).not.toContain(newPassword);
  });
});

describe('first start without users', () => {
  it('keeps the setup code in a file only its owner reads, never on the console, and drops it once an admin exists', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pulse-setup-'));
    const file = join(dataDir, 'setup-code');
    let pulse: Awaited<ReturnType<typeof startTestPulse>> | undefined;
    try {
      const boot = await captureOutput(async () => {
        pulse = await startTestPulse({
          PULSE_ADMIN_PASSWORD: '',
          DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          LOG_FORMAT: 'json',
        });
      });
      const code = readFileSync(file, 'utf8').trim();
      expect(code).toMatch(/^[A-Z2-9]{12}$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // Where to find it, in one JSON log line like every other…
      const notice = boot.split('\n').find((line) => line.includes('no users yet'));
      expect(JSON.parse(notice ?? '{}').msg ?? JSON.parse(notice ?? '{}').message).toContain(file);
      expect(boot).not.toContain(code); // …not the code: the console is a container's log
      await pulse?.close();
      // A second start before anyone signed up: the same code, in the same file.
      await captureOutput(async () => {
        pulse = await startTestPulse({ PULSE_ADMIN_PASSWORD: '', DATA_DIR: dataDir });
      });
      expect(readFileSync(file, 'utf8').trim()).toBe(code);
      const body = { username: 'root', password: 'root-password' };
      expect((await fetch(`${pulse?.httpUrl}/api/auth/setup`, json(body))).status).toBe(201);
      expect(existsSync(file)).toBe(false);
    } finally {
      await pulse?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('lets the first admin be created once from loopback, without a code', async () => {
    const pulse = await startTestPulse({ PULSE_ADMIN_PASSWORD: '' });
    try {
      const me = await getJson<MeResponse>(`${pulse.httpUrl}/api/auth/me`);
      expect(me.body).toMatchObject({ user: null, setupRequired: true });
      const body = { username: 'root', password: 'root-password' };
      const created = await fetch(`${pulse.httpUrl}/api/auth/setup`, json(body));
      expect(created.status).toBe(201);
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(await created.json()).toEqual({ user: { username: 'root', role: 'admin' } });
      const cookie = (created.headers.get('set-cookie') ?? '').split(';')[0];
      expect(
        (await getJson<MeResponse>(`${pulse.httpUrl}/api/auth/me`, { cookie })).body,
      ).toMatchObject({
        user: { username: 'root', role: 'admin' },
        setupRequired: false,
      });
      const again = await fetch(
        `${pulse.httpUrl}/api/auth/setup`,
        json({ ...body, username: 'eve' }),
      );
      expect(again.status).toBe(409);
    } finally {
      await pulse.close();
    }
  });

  it('leaves exactly one admin when setups race, and logs who was created from where', async () => {
    let pulse: Awaited<ReturnType<typeof startTestPulse>> | undefined;
    const racers = Array.from({ length: 8 }, (_, i) => ({
      username: `racer${i}`,
      password: `racer-password-${i}`,
    }));
    let answers: Response[] = [];
    try {
      // At the production log level, in JSON: the creation must show there.
      const output = await captureOutput(async () => {
        pulse = await startTestPulse({
          PULSE_ADMIN_PASSWORD: '',
          LOG_LEVEL: 'warn',
          LOG_FORMAT: 'json',
        });
        const setupUrl = `${pulse.httpUrl}/api/auth/setup`;
        // Each passes "no users yet" before its (slow) hash: they all race to the insert.
        answers = await Promise.all(racers.map((racer) => fetch(setupUrl, json(racer))));
      });
      if (!pulse) throw new Error('not started');
      const base = pulse.httpUrl;
      expect(answers.map((answer) => answer.status).sort()).toEqual([
        201, 409, 409, 409, 409, 409, 409, 409,
      ]);
      const winner = answers.find((answer) => answer.status === 201);
      const cookie = (winner?.headers.get('set-cookie') ?? '').split(';')[0];
      const users = await getJson<UserListResponse>(`${base}/api/users`, { cookie });
      expect(users.body.users).toHaveLength(1);
      const [admin] = users.body.users;
      expect(admin.role).toBe('admin');
      // No loser's account exists to sign in with.
      for (const racer of racers.filter((r) => r.username !== admin.username))
        expect((await fetch(`${base}/api/auth/login`, json(racer))).status).toBe(401);
      // One warn line: who, from where; never a password.
      const created = output
        .split('\n')
        .filter((line) => /created by first-admin setup/i.test(line));
      expect(created).toHaveLength(1);
      const line = JSON.parse(created[0]) as { level: string; msg: string };
      expect(line.level).toBe('warn');
      expect(line.msg).toContain(`"${admin.username}"`);
      expect(line.msg).toContain('127.0.0.1');
      for (const racer of racers) expect(output).not.toContain(racer.password);
    } finally {
      await pulse?.close();
    }
  });

  const external = externalAddress();
  (external ? it : it.skip)(
    'from another address: 403 without the setup code of DATA_DIR/setup-code, 201 with it',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'pulse-setup-'));
      let pulse: Awaited<ReturnType<typeof startTestPulse>> | undefined;
      await captureOutput(async () => {
        pulse = await startTestPulse({
          PULSE_ADMIN_PASSWORD: '',
          HOST: '0.0.0.0',
          DATA_DIR: dataDir,
        });
      });
      if (!pulse) throw new Error('not started');
      try {
        const code = readFileSync(join(dataDir, 'setup-code'), 'utf8').trim();
        const port = new URL(pulse.httpUrl).port;
        const remote = `http://${external}:${port}/api`;
        const me = await getJson<MeResponse>(`${remote}/auth/me`);
        expect(me.body).toEqual({ user: null, anonymousRole: 'none', setupRequired: true });
        const body = { username: 'root', password: 'root-password' };
        expect((await fetch(`${remote}/auth/setup`, json(body))).status).toBe(403);
        expect(
          (await fetch(`${remote}/auth/setup`, json({ ...body, setupCode: 'AAAAAAAAAAAA' })))
            .status,
        ).toBe(403);
        expect(
          (await fetch(`${remote}/auth/setup`, json({ ...body, setupCode: code }))).status,
        ).toBe(201);
        expect(
          (await fetch(`${remote}/auth/setup`, json({ ...body, setupCode: code }))).status,
        ).toBe(409);
      } finally {
        await pulse.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );

  it('refuses to start with ANONYMOUS_ROLE=operator or admin, saying why', async () => {
    for (const role of ['operator', 'admin']) {
      const attempt = startTestPulse({ ANONYMOUS_ROLE: role });
      await expect(attempt).rejects.toBeInstanceOf(StartupError);
      await expect(attempt).rejects.toThrow(
        new RegExp(`ANONYMOUS_ROLE=${role} .* use viewer or none`),
      );
    }
    await expect(startTestPulse({ ANONYMOUS_ROLE: 'everyone' })).rejects.toThrow(/ANONYMOUS_ROLE/);
  });
});

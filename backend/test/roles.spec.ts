import type { AckResponse, IngestStats, SubscribeAck } from '@pulse/protocol';
import {
  connectLive,
  getJson,
  LiveClient,
  sendJson,
  subscribe,
  Transport,
} from '@pulse/test-support';
import { LIVE_NAMESPACE } from '@pulse/protocol';
import { io } from 'socket.io-client';
import {
  adminAuth,
  login,
  tokenFor,
  TEST_ADMIN_PASSWORD,
  usePulse,
  userToken,
} from './support/pulse';

const RULE = {
  id: 'roles-rule',
  kind: 'threshold',
  metric: 'temperature',
  op: 'above',
  value: 30,
  severity: 'minor',
};

/** Resolves 'connected' or the connect_error message of a `/live` handshake. */
function handshake(url: string, transport: Transport, token?: string): Promise<string> {
  return connectLive(url, [transport], (socket) => {
    if (token !== undefined) socket.auth = { token };
  }).then(
    (socket) => {
      socket.close();
      return 'connected';
    },
    (error: Error) => error.message,
  );
}

const ack = (socket: LiveClient, by = 'mallory'): Promise<AckResponse> =>
  socket.timeout(5000).emitWithAck('ack', { id: 'al-unknown', by });

// Real: the whole backend; users, tokens and sessions in its temp store; real HTTP and Socket.IO.
describe('role checks (ANONYMOUS_ROLE=viewer, the loopback default)', () => {
  const backend = usePulse();
  const { api, live } = backend;
  const tokens = { viewer: '', operator: '', admin: '' };
  beforeAll(async () => {
    const url = backend.pulse.httpUrl;
    tokens.viewer = await userToken(url, 'val', 'viewer');
    tokens.operator = await userToken(url, 'otto', 'operator');
    tokens.admin = (await adminAuth(url)).authorization.slice('Bearer '.length);
  });
  const bearer = (who: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[who]}` });
  const liveAs = (who: keyof typeof tokens) =>
    live(undefined, (socket) => (socket.auth = { token: tokens[who] }));
  const refused = async (): Promise<Record<string, number>> =>
    (await getJson<IngestStats>(api('/stats'))).body.security?.refused ?? {};

  it('lets anonymous clients read and subscribe, but not acknowledge (unauthorized)', async () => {
    expect((await getJson(api('/devices'))).status).toBe(200);
    const anonymous = await live();
    expect(await subscribe(anonymous, { fleet: true, history: false })).toMatchObject({ ok: true });
    const before = await refused();
    expect(await ack(anonymous)).toMatchObject({ ok: false, error: 'unauthorized' });
    expect((await sendJson(api('/alerts/al-unknown/ack'), 'POST', {})).status).toBe(401);
    const after = await refused();
    expect(after['live_unauthorized']).toBe((before['live_unauthorized'] ?? 0) + 1);
    expect(after['http_unauthorized']).toBe((before['http_unauthorized'] ?? 0) + 1);
  });

  it('refuses acknowledging to a viewer (forbidden) and lets an operator through', async () => {
    const viewer = await liveAs('viewer');
    expect(await ack(viewer)).toMatchObject({ ok: false, error: 'forbidden' });
    expect(
      (await sendJson(api('/alerts/al-unknown/ack'), 'POST', {}, bearer('viewer'))).status,
    ).toBe(403);
    // Past the role check: the alert itself is unknown (alerts.spec acknowledges real ones,
    // recorded under the user's name whatever the body's `by` says).
    const operator = await liveAs('operator');
    expect(await ack(operator)).toMatchObject({ ok: false, error: 'not_found' });
    const http = await sendJson(
      api('/alerts/al-unknown/ack'),
      'POST',
      { by: 'x' },
      bearer('operator'),
    );
    expect(http.status).toBe(404);
  });

  it('lets only an admin write alert rules: anonymous 401, operator 403, admin 201', async () => {
    expect((await sendJson(api('/alert-rules'), 'POST', RULE)).status).toBe(401);
    expect((await sendJson(api('/alert-rules'), 'POST', RULE, bearer('operator'))).status).toBe(
      403,
    );
    expect(
      (await sendJson(api('/alert-rules/roles-rule'), 'DELETE', undefined, bearer('operator')))
        .status,
    ).toBe(403);
    expect((await sendJson(api('/alert-rules'), 'POST', RULE, bearer('admin'))).status).toBe(201);
    expect(
      (await sendJson(api('/alert-rules/roles-rule'), 'DELETE', undefined, bearer('admin'))).status,
    ).toBe(204);
  });

  it('lets only an admin manage users', async () => {
    expect((await getJson(api('/users'))).status).toBe(401);
    expect((await getJson(api('/users'), bearer('operator'))).status).toBe(403);
    expect((await getJson(api('/users'), bearer('admin'))).status).toBe(200);
    const weak = { username: 'weak', password: 'short', role: 'viewer' };
    expect((await sendJson(api('/users'), 'POST', weak, bearer('admin'))).status).toBe(400);
  });

  it.each<Transport>(['websocket', 'polling'])(
    'takes a bearer token in the %s handshake and refuses a revoked one',
    async (transport) => {
      const url = backend.pulse.httpUrl;
      const { id, token } = await tokenFor(url, 'admin', TEST_ADMIN_PASSWORD);
      expect(await handshake(url, transport, token)).toBe('connected');
      await sendJson(api(`/auth/tokens/${id}`), 'DELETE', undefined, bearer('admin'));
      expect(await handshake(url, transport, token)).toBe('unauthorized');
      expect(await handshake(url, transport, 'not-a-token')).toBe('unauthorized');
      expect(await handshake(url, transport)).toBe('connected'); // anonymous viewer
    },
  );

  it('keeps a group-scoped token inside its groups', async () => {
    const url = backend.pulse.httpUrl;
    const scoped = await sendJson<{ token: string }>(
      api('/auth/tokens'),
      'POST',
      { name: 'hall-a screen', groups: ['hall-a'] },
      bearer('admin'),
    );
    expect(scoped.status).toBe(201);
    const screen = backend.track(
      await connectLive(
        url,
        ['websocket'],
        (socket) => (socket.auth = { token: scoped.body.token }),
      ),
    );
    const within = await subscribe(screen, { groups: ['hall-a'], history: false });
    expect(within).toMatchObject({ ok: true, rooms: ['group:hall-a'] });
    const refusedAcks: SubscribeAck[] = [
      await subscribe(screen, { groups: ['hall-b'], history: false }),
      await subscribe(screen, { groups: ['hall-a', 'hall-b'], history: false }),
      await subscribe(screen, { fleet: true, history: false }),
      await subscribe(screen, { devices: ['somewhere-else'], history: false }),
    ];
    for (const response of refusedAcks) expect(response).toEqual({ ok: false, error: 'forbidden' });
    // Only an admin hands out scopes; a scoped token cannot mint a wider one.
    const byOperator = await sendJson(
      api('/auth/tokens'),
      'POST',
      { name: 's', groups: ['hall-a'] },
      bearer('operator'),
    );
    expect(byOperator.status).toBe(403);
    const byScoped = await sendJson(
      api('/auth/tokens'),
      'POST',
      { name: 'wider' },
      {
        authorization: `Bearer ${scoped.body.token}`,
      },
    );
    expect(byScoped.status).toBe(403);
  });
  it('keeps a group-scoped admin token away from every credential but its own (403, counted)', async () => {
    const url = backend.pulse.httpUrl;
    const scoped = await sendJson<{ id: string; token: string }>(
      api('/auth/tokens'),
      'POST',
      { name: 'hall-a watcher', groups: ['hall-a'] },
      bearer('admin'),
    );
    expect(scoped.status).toBe(201);
    const asScoped = { authorization: `Bearer ${scoped.body.token}` };
    const viewers = await tokenFor(url, 'val', 'val-password');
    const admins = await tokenFor(url, 'admin', TEST_ADMIN_PASSWORD);

    // Another user's token, and another token of its own user (the admin's): 403, counted.
    for (const id of [viewers.id, admins.id]) {
      const before = await refused();
      const response = await sendJson(api(`/auth/tokens/${id}`), 'DELETE', undefined, asScoped);
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      expect((await refused())['http_forbidden']).toBe((before['http_forbidden'] ?? 0) + 1);
    }
    expect(
      (await getJson(api('/devices'), { authorization: `Bearer ${viewers.token}` })).status,
    ).toBe(200);
    expect(
      (await getJson(api('/devices'), { authorization: `Bearer ${admins.token}` })).status,
    ).toBe(200);

    // Every other route that manages users or credentials, or writes what an admin owns.
    const writes: [string, string, unknown?][] = [
      ['GET', '/users'],
      ['POST', '/users', { username: 'sneaky', password: 'sneaky-password', role: 'admin' }],
      ['PATCH', '/users/val', { role: 'admin' }],
      ['DELETE', '/users/val'],
      ['GET', '/auth/tokens'],
      ['GET', '/auth/tokens?user=val'],
      ['POST', '/auth/tokens', { name: 'wider' }],
      ['POST', '/auth/password', { currentPassword: 'x'.repeat(10), newPassword: 'y'.repeat(10) }],
      ['GET', '/device-credentials'],
      ['POST', '/devices/hall-a-1/credentials'],
      ['DELETE', '/devices/hall-a-1/credentials'],
      ['GET', '/screens'],
      ['POST', '/screens', { code: 'ABCDEF', name: 'x', board: '' }],
      ['PATCH', '/screens/some-screen', { name: 'x' }],
      ['DELETE', '/screens/some-screen'],
      ['POST', '/alert-rules', RULE],
      ['PUT', `/alert-rules/${RULE.id}`, RULE],
      ['DELETE', `/alert-rules/${RULE.id}`],
    ];
    for (const [method, path, body] of writes) {
      const before = await refused();
      const response =
        method === 'GET'
          ? await getJson(api(path), asScoped)
          : await sendJson(api(path), method, body, asScoped);
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 403 });
      expect((await refused())['http_forbidden']).toBe((before['http_forbidden'] ?? 0) + 1);
    }

    // Its own token it may give up.
    expect(
      (await sendJson(api(`/auth/tokens/${scoped.body.id}`), 'DELETE', undefined, asScoped)).status,
    ).toBe(204);
    expect((await getJson(api('/devices'), asScoped)).status).toBe(401);
  });
});

describe('ANONYMOUS_ROLE=none', () => {
  const backend = usePulse({ env: { ANONYMOUS_ROLE: 'none' } });
  const { api } = backend;

  it.each<Transport>(['websocket', 'polling'])(
    'refuses the anonymous %s handshake with "unauthorized" and admits a token',
    async (transport) => {
      const url = backend.pulse.httpUrl;
      expect(await handshake(url, transport)).toBe('unauthorized');
      const { token } = await tokenFor(url, 'admin', TEST_ADMIN_PASSWORD);
      expect(await handshake(url, transport, token)).toBe('connected');
    },
  );

  it.each<Transport>(['websocket', 'polling'])(
    'admits the browser session cookie in the %s handshake',
    async (transport) => {
      const url = backend.pulse.httpUrl;
      const cookie = await login(url, 'admin', TEST_ADMIN_PASSWORD);
      const socket = io(`${url}${LIVE_NAMESPACE}`, {
        transports: [transport],
        reconnection: false,
        forceNew: true,
        extraHeaders: { cookie },
      });
      backend.track(socket);
      const outcome = await new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (error) => resolve(error.message));
      });
      expect(outcome).toBe('connected');
      // The session carries its role: an admin may acknowledge (the alert is unknown).
      expect(await ack(socket)).toMatchObject({ ok: false, error: 'not_found' });
    },
  );

  it('answers anonymous REST reads with 401 but keeps health and me open', async () => {
    expect((await getJson(api('/devices'))).status).toBe(401);
    expect((await getJson(api('/stats'))).status).toBe(401);
    expect((await getJson(api('/health'))).status).toBe(200);
    expect(await getJson(api('/auth/me'))).toMatchObject({
      status: 200,
      body: { user: null, anonymousRole: 'none', setupRequired: false },
    });
    expect((await getJson(api('/devices'), await adminAuth(backend.pulse.httpUrl))).status).toBe(
      200,
    );
  });
});

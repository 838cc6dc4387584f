import type {
  AckResponse,
  ActiveAlertsResponse,
  AlertHistoryResponse,
  DeviceListResponse,
  IngestStats,
  MeResponse,
  PairingClaimResponse,
  PairingStartResponse,
  ScreenInfo,
  ScreenListResponse,
  ScreenSelf,
} from '@pulse/protocol';
import { parseAlertsVersion } from '@pulse/protocol';
import { metaTopic, SCREEN_LIMITS } from '@pulse/protocol';
import {
  collectAlerts,
  connectLive,
  getJson,
  LiveClient,
  publish,
  publishTelemetry,
  sendJson,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PulseHandle } from '../src/app/pulse';
import { adminAuth, startTestPulse, tokenFor, usePulse, userToken } from './support/pulse';

/** Resolves 'connected' or the connect_error message of a `/live` handshake with `token`. */
function handshake(url: string, token: string): Promise<string> {
  return connectLive(url, ['websocket'], (socket) => (socket.auth = { token })).then(
    (socket) => {
      socket.close();
      return 'connected';
    },
    (error: Error) => error.message,
  );
}

/** Resolves with the time (ms after `since`) the socket was disconnected. */
function disconnected(socket: LiveClient, since: () => number): Promise<number> {
  return new Promise((resolve) => socket.once('disconnect', () => resolve(Date.now() - since())));
}

// Real: the whole backend with its SQLite store and embedded broker, real HTTP and Socket.IO.
describe('wall screens: pairing, display tokens, scope and revocation', () => {
  const backend = usePulse({ env: { ANONYMOUS_ROLE: 'none' }, device: true });
  const { api } = backend;
  let admin: { authorization: string };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    admin = await adminAuth(backend.pulse.httpUrl);
    const rule = { id: 'hot', kind: 'threshold', metric: 't', op: 'above', value: 30 };
    const created = await sendJson(
      api('/alert-rules'),
      'POST',
      { ...rule, severity: 'major' },
      admin,
    );
    expect(created.status).toBe(201);
    // Two devices in two groups, known to the registry before any alert.
    for (const [id, group] of [
      ['dev-a', 'hall-a'],
      ['dev-b', 'hall-b'],
    ])
      await publish(backend.device, metaTopic(id), JSON.stringify({ group }), 1, true);
    await waitFor(
      async () => {
        const { body } = await getJson<DeviceListResponse>(api('/devices'), admin);
        return body.devices.filter((d) => d.meta?.group).length === 2;
      },
      { message: 'both devices with their groups' },
    );
  });

  /** What a wall does: ask for a code; then the admin pairs it; then the wall claims its token. */
  async function pairScreen(
    options: { name?: string; board?: string; groups?: string[] } = {},
  ): Promise<{ screen: ScreenInfo; token: string }> {
    const start = await sendJson<PairingStartResponse>(api('/screens/pairing'), 'POST', {});
    expect(start.status).toBe(201);
    const paired = await sendJson<ScreenInfo>(
      api('/screens'),
      'POST',
      { code: start.body.code, name: 'wall', ...options },
      admin,
    );
    expect(paired.status).toBe(201);
    const claim = await sendJson<PairingClaimResponse>(api('/screens/pairing/claim'), 'POST', {
      pairingId: start.body.pairingId,
    });
    expect(claim.body).toMatchObject({ status: 'paired' });
    if (claim.body.status !== 'paired') throw new Error('not paired');
    return { screen: paired.body, token: claim.body.token };
  }

  it('tells every cache to keep no pairing answer: the id claims the token, the claim carries it (no-store)', async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(api(path), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const start = await post('/screens/pairing', {});
    expect(start.status).toBe(201);
    expect(start.headers.get('cache-control')).toBe('no-store');
    const { code, pairingId } = (await start.json()) as PairingStartResponse;
    const pending = await post('/screens/pairing/claim', { pairingId });
    expect(pending.status).toBe(200);
    expect(pending.headers.get('cache-control')).toBe('no-store');
    const paired = await post('/screens', { code, name: 'cache test' }, admin);
    expect(paired.status).toBe(201);
    const claimed = await post('/screens/pairing/claim', { pairingId });
    expect(await claimed.json()).toMatchObject({ status: 'paired', token: expect.any(String) });
    expect(claimed.headers.get('cache-control')).toBe('no-store');
    const { id } = (await paired.json()) as ScreenInfo;
    expect((await sendJson(api(`/screens/${id}`), 'DELETE', undefined, admin)).status).toBe(204);
  });

  it('pairs a wall: a short code, pending until an admin enters it, then a token handed over once', async () => {
    const start = await sendJson<PairingStartResponse>(api('/screens/pairing'), 'POST', {});
    expect(start.status).toBe(201);
    expect(start.body.code).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/);
    expect(start.body.pairingId.length).toBeGreaterThanOrEqual(20);
    expect(start.body.expiresAt - Date.now()).toBeGreaterThan(SCREEN_LIMITS.pendingTtlMs - 60_000);
    const claim = () =>
      sendJson<PairingClaimResponse>(api('/screens/pairing/claim'), 'POST', {
        pairingId: start.body.pairingId,
      });
    expect((await claim()).body).toMatchObject({ status: 'pending' });

    const request = { code: start.body.code, name: 'Hall A wall', board: 'group=hall-a&cols=2' };
    // Nobody but an admin pairs; a code no wall shows is 404.
    expect((await sendJson(api('/screens'), 'POST', request)).status).toBe(401);
    const viewer = await userToken(backend.pulse.httpUrl, 'vic', 'viewer');
    expect((await sendJson(api('/screens'), 'POST', request, bearer(viewer))).status).toBe(403);
    const wrong = { ...request, code: start.body.code === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA' };
    expect((await sendJson(api('/screens'), 'POST', wrong, admin)).status).toBe(404);

    // Typed in lower case across the room: still the code.
    const paired = await sendJson<ScreenInfo>(
      api('/screens'),
      'POST',
      { ...request, code: start.body.code.toLowerCase(), groups: ['hall-a'] },
      admin,
    );
    expect(paired.status).toBe(201);
    expect(paired.body).toMatchObject({
      name: 'Hall A wall',
      board: 'group=hall-a&cols=2',
      groups: ['hall-a'],
      createdBy: 'admin',
      connected: false,
    });
    const collected = await claim();
    expect(collected.body).toMatchObject({ status: 'paired', screen: { id: paired.body.id } });
    // Once: the pairing id is spent.
    expect((await claim()).status).toBe(404);
    // The code cannot pair a second screen either.
    expect((await sendJson(api('/screens'), 'POST', request, admin)).status).toBe(404);

    const token = (collected.body as { token: string }).token;
    const me = await getJson<ScreenSelf>(api('/screens/me'), bearer(token));
    expect(me.body).toEqual({
      id: paired.body.id,
      name: 'Hall A wall',
      board: 'group=hall-a&cols=2',
      groups: ['hall-a'],
    });
    const auth = await getJson<MeResponse>(api('/auth/me'), bearer(token));
    expect(auth.body).toMatchObject({ user: null, screen: { id: paired.body.id } });
    expect(await handshake(backend.pulse.httpUrl, token)).toBe('connected');
    // A screen watches; it does not administer, read fleet-wide counters or mint tokens.
    expect((await getJson(api('/stats'), bearer(token))).status).toBe(403);
    expect((await getJson(api('/screens'), bearer(token))).status).toBe(403);
    expect((await sendJson(api('/auth/tokens'), 'POST', { name: 'x' }, bearer(token))).status).toBe(
      403,
    );
    // A user's token is not a screen.
    expect((await getJson(api('/screens/me'), admin)).status).toBe(404);
  });

  it('shows a scoped screen only the alerts and REST data of its groups', async () => {
    const { token } = await pairScreen({ name: 'scoped', groups: ['hall-a'] });
    const screen = backend.track(
      await connectLive(backend.pulse.httpUrl, ['websocket'], (s) => (s.auth = { token })),
    );
    const everyone = await backend.live(
      ['websocket'],
      (s) => (s.auth = { token: admin.authorization.slice(7) }),
    );
    const screenAlerts = collectAlerts(screen);
    const allAlerts = collectAlerts(everyone);

    await publishTelemetry(backend.device, 'dev-b', { values: { t: 50 } });
    await publishTelemetry(backend.device, 'dev-a', { values: { t: 50 } });
    await allAlerts.waitForEvent((e) => e.deviceId === 'dev-b', 'dev-b raised');
    await allAlerts.waitForEvent((e) => e.deviceId === 'dev-a', 'dev-a raised');
    await screenAlerts.waitForEvent((e) => e.deviceId === 'dev-a', 'dev-a raised on the screen');
    // dev-b's alert went out first: had the screen been sent it, it would be here by now.
    expect(screenAlerts.events.map((e) => e.deviceId)).toEqual(['dev-a']);

    // The snapshot on connect is filtered the same way.
    const again = collectAlertsOnConnect(token);
    expect((await again).map((a) => a.deviceId)).toEqual(['dev-a']);

    const devices = await getJson<DeviceListResponse>(api('/devices'), bearer(token));
    expect(devices.body.devices.map((d) => d.deviceId)).toEqual(['dev-a']);
    expect((await getJson(api('/devices/dev-a'), bearer(token))).status).toBe(200);
    expect((await getJson(api('/devices/dev-b'), bearer(token))).status).toBe(404);
    expect((await getJson(api('/devices/dev-b/history'), bearer(token))).status).toBe(404);
    const active = await getJson<ActiveAlertsResponse>(api('/alerts'), bearer(token));
    expect(active.body.alerts.map((a) => a.deviceId)).toEqual(['dev-a']);
    // With the version its deltas follow (0054), as the whole list's.
    expect(parseAlertsVersion(active.body.version)).not.toBeNull();
    const history = await getJson<AlertHistoryResponse>(api('/alerts/history'), bearer(token));
    expect(new Set(history.body.events.map((a) => a.deviceId))).toEqual(new Set(['dev-a']));
    // Its rules as its list shows them, one by one too: a fleet-wide rule and its groups'; another
    // group's rule is 404, as an unknown one.
    const hallBRule = { id: 'hall-b-only', kind: 'threshold', metric: 't', op: 'above', value: 40 };
    await sendJson(
      api('/alert-rules'),
      'POST',
      { ...hallBRule, severity: 'minor', scope: { group: 'hall-b' } },
      admin,
    );
    const rules = await getJson<{ rules: { id: string }[] }>(api('/alert-rules'), bearer(token));
    expect(rules.body.rules.map((r) => r.id)).toContain('hot');
    expect(rules.body.rules.map((r) => r.id)).not.toContain('hall-b-only');
    expect((await getJson(api('/alert-rules/hot'), bearer(token))).status).toBe(200);
    expect((await getJson(api('/alert-rules/hall-b-only'), bearer(token))).status).toBe(404);
    expect((await getJson(api('/alert-rules/hall-b-only'), admin)).status).toBe(200);
    await sendJson(api('/alert-rules/hall-b-only'), 'DELETE', undefined, admin);
    // The admin still sees both.
    const all = await getJson<ActiveAlertsResponse>(api('/alerts'), admin);
    expect(new Set(all.body.alerts.map((a) => a.deviceId))).toEqual(new Set(['dev-a', 'dev-b']));
    // A scoped bearer token (not a screen) is filtered alike.
    const scopedToken = await sendJson<{ token: string }>(
      api('/auth/tokens'),
      'POST',
      { name: 'hall-b script', groups: ['hall-b'] },
      admin,
    );
    const scoped = await getJson<DeviceListResponse>(
      api('/devices'),
      bearer(scopedToken.body.token),
    );
    expect(scoped.body.devices.map((d) => d.deviceId)).toEqual(['dev-b']);
    // The limit counts the events of its scope: dev-a's, newer, do not use it up.
    const newest = await getJson<AlertHistoryResponse>(
      api('/alerts/history?limit=1'),
      bearer(scopedToken.body.token),
    );
    expect(newest.body.events.map((e) => e.deviceId)).toEqual(['dev-b']);
    expect(await subscribe(screen, { groups: ['hall-b'], history: false })).toEqual({
      ok: false,
      error: 'forbidden',
    });

    // A scoped token acknowledges only alerts of its groups, over /live and REST alike; one
    // outside its scope is not found, as its device is.
    const [alertA, alertB] = ['dev-a', 'dev-b'].map(
      (id) => all.body.alerts.find((a) => a.deviceId === id)?.id ?? '',
    );
    const hallB = await backend.live(
      ['websocket'],
      (s) => (s.auth = { token: scopedToken.body.token }),
    );
    const ackOverLive = (id: string) => hallB.timeout(5000).emitWithAck('ack', { id });
    expect(await ackOverLive(alertA)).toMatchObject({ ok: false, error: 'not_found' });
    const restAck = (id: string) =>
      sendJson(api(`/alerts/${id}/ack`), 'POST', {}, bearer(scopedToken.body.token));
    expect((await restAck(alertA)).status).toBe(404);
    expect(await ackOverLive(alertB)).toMatchObject({
      ok: true,
      alert: { acknowledgedBy: 'admin' },
    });
    const stillOpen = await getJson<ActiveAlertsResponse>(api('/alerts'), admin);
    expect(stillOpen.body.alerts.find((a) => a.id === alertA)?.acknowledgedBy).toBeNull();
  });

  /** The `alerts` snapshot a new connection with `token` receives. */
  async function collectAlertsOnConnect(token: string) {
    let snapshot: ActiveAlertsResponse['alerts'] | undefined;
    backend.track(
      await connectLive(backend.pulse.httpUrl, ['polling'], (s) => {
        s.auth = { token };
        s.on('alerts', (alerts) => (snapshot = alerts));
      }),
    );
    return waitFor(() => snapshot, { message: 'the alerts snapshot' });
  }

  it('lists screens with presence; revoking cuts the open socket within 5 s and the token is dead', async () => {
    const { screen, token } = await pairScreen({ name: 'to revoke', board: 'cols=3' });
    const socket = backend.track(
      await connectLive(backend.pulse.httpUrl, ['polling'], (s) => (s.auth = { token })),
    );
    const list = await getJson<ScreenListResponse>(api('/screens'), admin);
    expect(list.body.screens.find((s) => s.id === screen.id)).toMatchObject({
      name: 'to revoke',
      board: 'cols=3',
      groups: null,
      connected: true,
      transport: 'polling',
      lagEvents: 0,
    });

    let revokedAt = 0;
    const gone = disconnected(socket, () => revokedAt);
    revokedAt = Date.now();
    expect((await sendJson(api(`/screens/${screen.id}`), 'DELETE', undefined, admin)).status).toBe(
      204,
    );
    expect(await gone).toBeLessThan(5000);
    expect(await handshake(backend.pulse.httpUrl, token)).toBe('unauthorized');
    expect((await getJson(api('/screens/me'), bearer(token))).status).toBe(401);
    const after = await getJson<ScreenListResponse>(api('/screens'), admin);
    expect(after.body.screens.some((s) => s.id === screen.id)).toBe(false);
    expect((await sendJson(api(`/screens/${screen.id}`), 'DELETE', undefined, admin)).status).toBe(
      404,
    );
  });

  it('moves a board edit to the wall: its socket is cut and /me has the new board', async () => {
    const { screen, token } = await pairScreen({ name: 'editable', board: 'cols=2' });
    const socket = backend.track(
      await connectLive(backend.pulse.httpUrl, ['websocket'], (s) => (s.auth = { token })),
    );
    const gone = disconnected(socket, () => 0);
    const edited = await sendJson<ScreenInfo>(
      api(`/screens/${screen.id}`),
      'PATCH',
      { board: 'group=hall-b&cols=4', groups: ['hall-b'] },
      admin,
    );
    expect(edited.body).toMatchObject({ board: 'group=hall-b&cols=4', groups: ['hall-b'] });
    await gone;
    const me = await getJson<ScreenSelf>(api('/screens/me'), bearer(token));
    expect(me.body).toMatchObject({ board: 'group=hall-b&cols=4', groups: ['hall-b'] });
    // Still paired: the token works, with the new scope.
    const devices = await getJson<DeviceListResponse>(api('/devices'), bearer(token));
    expect(devices.body.devices.map((d) => d.deviceId)).toEqual(['dev-b']);
  });

  it('cuts the open sockets of a revoked token, a disabled user and a deleted user; a new role applies at once', async () => {
    const url = backend.pulse.httpUrl;
    const open = async (token: string) =>
      backend.track(await connectLive(url, ['websocket'], (s) => (s.auth = { token })));

    const revokable = await tokenFor(url, 'admin', 'test-admin-password', { name: 'r' });
    const revokedSocket = await open(revokable.token);
    const revokedGone = disconnected(revokedSocket, () => 0);
    expect(
      (await sendJson(api(`/auth/tokens/${revokable.id}`), 'DELETE', undefined, admin)).status,
    ).toBe(204);
    await revokedGone;

    const disabledToken = await userToken(url, 'dora', 'viewer');
    const disabledSocket = await open(disabledToken);
    const disabledGone = disconnected(disabledSocket, () => 0);
    expect((await sendJson(api('/users/dora'), 'PATCH', { disabled: true }, admin)).status).toBe(
      200,
    );
    await disabledGone;
    expect(await handshake(url, disabledToken)).toBe('unauthorized');

    const deletedToken = await userToken(url, 'dave', 'viewer');
    const deletedSocket = await open(deletedToken);
    const deletedGone = disconnected(deletedSocket, () => 0);
    expect((await sendJson(api('/users/dave'), 'DELETE', undefined, admin)).status).toBe(204);
    await deletedGone;

    // Demoted while connected: the next ack is refused on the same socket.
    const operatorToken = await userToken(url, 'olga', 'operator');
    const operator = await open(operatorToken);
    const ack = (): Promise<AckResponse> =>
      operator.timeout(5000).emitWithAck('ack', { id: 'al-unknown' });
    expect(await ack()).toMatchObject({ ok: false, error: 'not_found' });
    expect((await sendJson(api('/users/olga'), 'PATCH', { role: 'viewer' }, admin)).status).toBe(
      200,
    );
    expect(await ack()).toMatchObject({ ok: false, error: 'forbidden' });
    expect(operator.connected).toBe(true);
  });
});

// Real: two runs of the whole backend on one DATA_DIR; the wall's socket open when the first stops.
describe('a screen last seen, across a restart', () => {
  it('keeps when a screen was last seen over HTTP with its token', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pulse-screens-'));
    const env = { DATA_DIR: dataDir, ANONYMOUS_ROLE: 'none' };
    let pulse: PulseHandle | undefined;
    try {
      pulse = await startTestPulse(env);
      const url = pulse.httpUrl;
      const admin = await adminAuth(url);
      const start = await sendJson<PairingStartResponse>(`${url}/api/screens/pairing`, 'POST', {});
      const paired = await sendJson<ScreenInfo>(
        `${url}/api/screens`,
        'POST',
        { code: start.body.code, name: 'hall' },
        admin,
      );
      expect(paired.status).toBe(201);
      const claim = await sendJson<PairingClaimResponse>(
        `${url}/api/screens/pairing/claim`,
        'POST',
        { pairingId: start.body.pairingId },
      );
      if (claim.body.status !== 'paired') throw new Error('not paired');
      const token = claim.body.token;
      // The wall reads what it shows over HTTP with its token (then its socket would open).
      const me = await getJson<ScreenSelf>(`${url}/api/screens/me`, {
        authorization: `Bearer ${token}`,
      });
      expect(me.body).toMatchObject({ name: 'hall' });
      const seenAt = Date.now();
      await pulse.close(); // an upgrade, a restart of the host

      pulse = await startTestPulse(env);
      const after = await getJson<ScreenListResponse>(
        `${pulse.httpUrl}/api/screens`,
        await adminAuth(pulse.httpUrl),
      );
      const screen = after.body.screens.find((s) => s.id === paired.body.id);
      // Not "never": it was on the wall until the stop (QA: a screen in use read "never" after).
      expect(screen?.connected).toBe(false);
      expect(screen?.lastSeen).toBeGreaterThanOrEqual(seenAt - 1000);
    } finally {
      await pulse?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('wall pairing bounds', () => {
  const backend = usePulse();
  const { api } = backend;

  it('refuses more pending codes per address than the bound, and too fast claims, counted', async () => {
    for (let i = 0; i < SCREEN_LIMITS.maxPendingPerAddress; i++)
      expect((await sendJson(api('/screens/pairing'), 'POST', {})).status).toBe(201);
    const refused = await fetch(api('/screens/pairing'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const claims = await Promise.all(
      Array.from({ length: SCREEN_LIMITS.claimsPerMinute + 1 }, () =>
        sendJson(api('/screens/pairing/claim'), 'POST', { pairingId: 'not-a-pairing' }),
      ),
    );
    const statuses = claims.map((c) => c.status);
    expect(statuses.filter((s) => s === 404)).toHaveLength(SCREEN_LIMITS.claimsPerMinute);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);

    const stats = await getJson<IngestStats>(api('/stats'));
    expect(stats.body.security?.refused).toMatchObject({ screen_pairing: 1, screen_claim_rate: 1 });
  });
});

// Real: the gateway's HTTP server, pairing asked over plain HTTP from distinct loopback source
// addresses (Linux routes all of 127/8 to lo; none of these is exempt from anything here).
describe('wall pairing table fairness', () => {
  const backend = usePulse();
  const { api } = backend;

  /** `POST /api/screens/pairing` from source address `from`: the status. */
  const pairFrom = (from: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        api('/screens/pairing'),
        {
          method: 'POST',
          localAddress: from,
          agent: false,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });

  it('keeps room for a wall on another network while 20 addresses of one /24 ask for every code they may', async () => {
    const flood: number[] = [];
    for (let host = 10; host < 32; host++)
      for (let i = 0; i < SCREEN_LIMITS.maxPendingPerAddress; i++)
        flood.push(await pairFrom(`127.0.0.${host}`));
    // One network holds a bounded share of the table, whatever its number of addresses.
    expect(flood.filter((s) => s === 201)).toHaveLength(SCREEN_LIMITS.maxPendingPerPrefix);
    expect(flood.filter((s) => s !== 201 && s !== 429)).toEqual([]);
    // A real wall elsewhere still gets its code.
    expect(await pairFrom('127.0.1.7')).toBe(201);
    expect(await pairFrom('127.0.2.7')).toBe(201);
  });
});

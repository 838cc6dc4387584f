import { getJson, sendJson } from '@pulse/test-support';
import { adminAuth, userToken, usePulse } from './support/pulse';

// Decision 0056: every refusal over HTTP answers `{statusCode, error, message}`, whichever part of
// the gateway refused (Nest's exceptions, the routes that name their refusal, the body parser, the
// read budget). Real gateway, real HTTP.
describe('HTTP error bodies', () => {
  // A small read budget, so that a client can spend it here.
  const backend = usePulse({ env: { API_READ_BUDGET: '100' } });
  const api = (path: string) => backend.api(path);

  /** The one shape: the status again, a short name, and a sentence (or a list of them). */
  function expectErrorBody(response: { status: number; body: unknown }, status: number) {
    expect(response.status).toBe(status);
    const body = response.body as Record<string, unknown>;
    expect(body.statusCode).toBe(status);
    expect(typeof body.error).toBe('string');
    expect((body.error as string).length).toBeGreaterThan(0);
    const messages = [body.message].flat();
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) expect(message).toEqual(expect.stringMatching(/\S/));
    return body;
  }

  it('answers a named refusal with its name kept, and the status and a message added', async () => {
    const login = await sendJson(api('/auth/login'), 'POST', { username: 'ghost', password: 'x' });
    expect(expectErrorBody(login, 401)).toEqual({
      statusCode: 401,
      error: 'invalid credentials',
      message: 'invalid credentials',
    });
    const claim = await sendJson(api('/screens/pairing/claim'), 'POST', { pairingId: 'nope' });
    expect(expectErrorBody(claim, 404).error).toMatch(/unknown or expired pairing/);
    const admin = await adminAuth(backend.pulse.httpUrl);
    const ack = await sendJson(api('/alerts/al-nope/ack'), 'POST', {}, admin);
    // An acknowledgement's own answer (`ok`, `error`) is kept whole.
    expect(expectErrorBody(ack, 404)).toMatchObject({ ok: false, error: 'not_found' });
  });

  it("answers Nest's refusals as before: the status's name and what was wrong", async () => {
    expect(expectErrorBody(await getJson(api('/no-such-route')), 404).error).toBe('Not Found');
    const invalid = expectErrorBody(await getJson(api('/devices/d1/history?maxPoints=oops')), 400);
    expect(invalid.message).toEqual([expect.stringMatching(/^maxPoints: /)]);
    const viewer = await userToken(backend.pulse.httpUrl, 'vera', 'viewer');
    const forbidden = await sendJson(
      api('/alert-rules/r1'),
      'PUT',
      {},
      {
        authorization: `Bearer ${viewer}`,
      },
    );
    expect(expectErrorBody(forbidden, 403).message).toMatch(/admin role/);
    expectErrorBody(await getJson(api('/screens'), { authorization: 'Bearer not-a-token' }), 401);
  });

  it('answers a body the parser refuses in the same shape', async () => {
    const response = await fetch(api('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username":',
    });
    expectErrorBody({ status: response.status, body: await response.json() }, 400);
  });

  it('answers a read over the budget in the same shape, with Retry-After', async () => {
    let last = await fetch(api('/alerts/history?limit=1'));
    for (let i = 0; i < 120 && last.status === 200; i++)
      last = await fetch(api('/alerts/history?limit=1'));
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(expectErrorBody({ status: last.status, body: await last.json() }, 429).message).toMatch(
      /too many history reads/,
    );
  });
});

import { AUTH_ERRORS } from '@pulse/protocol';
import type { Principal } from './principal';
import { createAuthHarness } from './testing/auth.harness';

// Real: the SQLite store in a temp dir, the signer and AuthService behind LiveAuth; the socket is
// the small part of a Socket.IO socket that LiveAuth reads.
describe('LiveAuth.authenticate (the /live handshake)', () => {
  const harness = createAuthHarness('none');
  afterAll(() => harness.close());

  function handshake(auth: Record<string, unknown>) {
    const socket = {
      id: 's1',
      handshake: { auth },
      data: {} as { principal?: Principal },
      conn: { transport: { name: 'websocket' } },
      once: () => socket,
      disconnect: () => socket,
      use: () => socket,
    };
    const outcome = new Promise<Error | undefined>((resolve) =>
      harness.liveAuth.authenticate(socket, undefined, resolve),
    );
    return { socket, outcome };
  }

  it('admits a valid token and keeps the principal, not the token', async () => {
    const token = await harness.tokenFor('carol', 'operator');
    const { socket, outcome } = handshake({ token });
    expect(await outcome).toBeUndefined();
    expect(socket.data.principal).toMatchObject({ kind: 'user', username: 'carol' });
    expect(socket.handshake.auth).toEqual({});
    expect(JSON.stringify(socket)).not.toContain(token);
  });

  it('refuses a bad token with unauthorized, counted', async () => {
    const before = harness.counters.stats().refused['live_handshake'];
    const { socket, outcome } = handshake({ token: 'not-a-token' });
    expect((await outcome)?.message).toBe(AUTH_ERRORS.unauthorized);
    expect(socket.data.principal).toBeUndefined();
    expect(harness.counters.stats().refused['live_handshake']).toBe(before + 1);
  });
});

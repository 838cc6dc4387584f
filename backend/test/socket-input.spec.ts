import { LIVE_NAMESPACE } from '@pulse/protocol';
import { io } from 'socket.io-client';
import { getJson, LiveClient, waitFor } from '@pulse/test-support';
import { usePulse } from './support/pulse';

type RawSocket = {
  timeout(ms: number): {
    emitWithAck(event: string, ...args: unknown[]): Promise<unknown>;
  };
  emit(event: string, ...args: unknown[]): void;
};
const raw = (socket: LiveClient) => socket as unknown as RawSocket;

// Real: HTTP + Socket.IO server with a socket.io-client sending hostile input.
describe('live gateway with bad client input', () => {
  const backend = usePulse();
  const { live } = backend;

  it('sends the gateway status on connect', async () => {
    const socket: LiveClient = backend.track(
      io(`${backend.pulse.httpUrl}${LIVE_NAMESPACE}`, {
        transports: ['websocket'],
        autoConnect: false,
        forceNew: true,
      }),
    );
    const status = new Promise((resolve) => socket.once('gateway', resolve));
    socket.connect();
    expect(await status).toEqual({
      broker: 'connected',
      serverTime: expect.any(Number),
      flushMs: 20,
    });
  });

  it.each([
    ['a non-object', 42, '(root)'],
    ['null', null, '(root)'],
    ['devices as a string', { devices: 'sensor-1' }, 'devices'],
    ['a bad device id', { devices: ['bad id!'] }, 'devices.0'],
    ['an unknown key', { device: ['a'] }, '(root)'],
    ['a negative since', { devices: ['a'], since: -1 }, 'since'],
    ['too many devices', { devices: Array.from({ length: 1001 }, (_, i) => `d${i}`) }, 'devices'],
  ])('answers subscribe with %s by {ok:false, error}', async (_name, request, path) => {
    const socket = await live();
    const ack = (await raw(socket).timeout(5000).emitWithAck('subscribe', request)) as {
      ok: boolean;
      error: string;
    };
    expect(ack.ok).toBe(false);
    expect(ack.error).toContain(`${path}: `);
  });

  it('answers unsubscribe with a bad shape by {ok:false, error}', async () => {
    const socket = await live();
    const ack = (await raw(socket).timeout(5000).emitWithAck('unsubscribe', { fleet: 'yes' })) as {
      ok: boolean;
      error: string;
    };
    expect(ack).toEqual({
      ok: false,
      error: expect.stringContaining('fleet: '),
    });
  });

  it('caps the rooms one connection may join, unknown devices included', async () => {
    const socket = await live();
    const devices = Array.from({ length: 1000 }, (_, i) => `unknown-${i}`);
    const first = await socket.timeout(5000).emitWithAck('subscribe', { devices, history: false });
    expect(first).toMatchObject({ ok: true });
    expect(first.ok && first.rooms).toHaveLength(1000);
    const second = await socket.timeout(5000).emitWithAck('subscribe', { fleet: true });
    expect(second).toEqual({
      ok: false,
      error: expect.stringContaining('at most 1000'),
    });
    const afterLeave = await socket
      .timeout(5000)
      .emitWithAck('unsubscribe', { devices: ['unknown-0'] });
    expect(afterLeave.ok && afterLeave.rooms).toHaveLength(999);
    expect(await socket.timeout(5000).emitWithAck('subscribe', { fleet: true })).toMatchObject({
      ok: true,
    });
  });

  it('ignores a subscribe without an acknowledgement callback', async () => {
    const socket = await live();
    raw(socket).emit('subscribe', { devices: ['a'] });
    raw(socket).emit('subscribe');
    raw(socket).emit('unsubscribe', 'nonsense');
    const ack = await socket.timeout(5000).emitWithAck('subscribe', { devices: ['b'] });
    expect(ack.ok && ack.rooms.sort()).toEqual(['device:a', 'device:b']);
  });

  /** `live_unknown_event` refusals so far (GET /api/stats → security.refused). */
  const unknownRefusals = async () =>
    (await getJson<{ security: { refused: Record<string, number> } }>(backend.api('/stats'))).body
      .security.refused['live_unknown_event'];

  it('answers an event the gateway does not know by {ok:false, error}, counted', async () => {
    const socket = await live();
    const before = await unknownRefusals();
    const typo = await raw(socket)
      .timeout(5000)
      .emitWithAck('subscribe-typo', { devices: ['a'] });
    expect(typo).toEqual({ ok: false, error: 'unknown event "subscribe-typo"' });
    // A name of Object's prototype is no event either, and a long name is cut in the answer.
    expect(await raw(socket).timeout(5000).emitWithAck('constructor')).toEqual({
      ok: false,
      error: 'unknown event "constructor"',
    });
    expect(await raw(socket).timeout(5000).emitWithAck('x'.repeat(5000), {})).toEqual({
      ok: false,
      error: `unknown event "${'x'.repeat(40)}…"`,
    });
    expect(await unknownRefusals()).toBe(before + 3);
    // Still connected and served.
    expect(await socket.timeout(5000).emitWithAck('subscribe', { devices: ['a'] })).toMatchObject({
      ok: true,
    });
  });

  it('counts an unknown event without an acknowledgement callback, and nothing else', async () => {
    const socket = await live();
    const before = await unknownRefusals();
    raw(socket).emit('subscribe-typo', { devices: ['a'] });
    raw(socket).emit('readings', []); // the server's event, not one a client sends
    await waitFor(async () => (await unknownRefusals()) === before + 2, {
      message: 'two unknown events counted',
    });
    // The events of the contract are no unknown events, answered or refused.
    expect(await socket.timeout(5000).emitWithAck('subscribe', { devices: ['a'] })).toMatchObject({
      ok: true,
    });
    expect(await socket.timeout(5000).emitWithAck('unsubscribe', { devices: ['a'] })).toMatchObject(
      { ok: true },
    );
    // Anonymous here: refused for its role, not as unknown.
    expect(await socket.timeout(5000).emitWithAck('ack', { id: 'al-1' })).toMatchObject({
      ok: false,
      error: 'unauthorized',
    });
    raw(socket).emit('subscribe', { devices: ['b'] });
    // Handled in order: once this one is answered, the one without an ack was seen.
    await socket.timeout(5000).emitWithAck('subscribe', { devices: ['c'] });
    expect(await unknownRefusals()).toBe(before + 2);
  });

  it("never takes Socket.IO's reserved event names for unknown events", async () => {
    const socket = await live();
    const before = await unknownRefusals();
    // socket.io-client refuses to send them: written as a raw packet. The server's parser
    // refuses the packet and closes the connection before any handler sees it.
    const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.io.engine.send(`2${LIVE_NAMESPACE},["disconnecting",{}]`);
    expect(await reason).toMatch(/transport (close|error)/);
    expect(await unknownRefusals()).toBe(before);
  });

  it('drops a connection that sends an oversize message and keeps serving others', async () => {
    const socket = await live();
    const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    raw(socket).emit('subscribe', { devices: ['x'.repeat(100 * 1024)] });
    expect(await reason).toMatch(/transport (close|error)/);

    const other = await live();
    expect(await other.timeout(5000).emitWithAck('subscribe', { devices: ['ok'] })).toMatchObject({
      ok: true,
    });
    const health = await getJson<{ status: string }>(backend.api('/health'));
    expect(health).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ok', broker: 'connected' }),
    });
    await waitFor(
      async () =>
        (await getJson<{ live: { clients: number } }>(backend.api('/stats'))).body.live.clients ===
        1,
    );
  });
});

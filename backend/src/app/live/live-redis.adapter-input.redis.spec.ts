import { AlertEvent } from '@pulse/protocol';
import { closeLive, connectLive, LiveClient, waitFor } from '@pulse/test-support';
import { Redis } from 'ioredis';
import { useLoggedWarnings } from './testing/peer-input';
import { useRedisNamespaces } from './testing/redis-namespaces';

/** What a gateway of another version, a bug or anyone who can publish on Redis might send. */
type Crafted = string | Buffer;

// Real: a redis-server, two gateways' `/live` namespaces joined through Socket.IO's Redis adapter
// as LiveRedis installs it, a real socket.io client on one of them. A raw Redis client publishes
// on the adapter's own channels (`pulse:io…`) what a broken peer, or anyone, might.
describe("LiveRedis: what arrives on the Redis adapter's own channels is checked", () => {
  const warnings = useLoggedWarnings();
  let raw: Redis | null = null;
  let client: LiveClient | null = null;
  afterEach(async () => {
    if (client) await closeLive(client);
    raw?.disconnect();
    client = raw = null;
  });
  const { namespace, listen, joined, redisUrl } = useRedisNamespaces();

  it("a malformed or foreign adapter message neither stops the gateway nor reaches its screens; a peer's server-side event after it does", async () => {
    const here = await namespace();
    const peer = await namespace();
    await joined(here.nsp, 2);
    await joined(peer.nsp, 2);
    client = await connectLive(await listen(here.http));
    const told: unknown[] = [];
    client.on('alert', (alert: AlertEvent) => told.push(alert));
    const rules: unknown[] = [];
    here.nsp.on('pulse:rules', (change: unknown) => rules.push(change));
    raw = new Redis(redisUrl());

    const crafted: [string, Crafted][] = [
      // Pulse broadcasts nothing through Redis: a broadcast is no gateway's.
      ['pulse:io#/live#', Buffer.from([0xc1])], // not msgpack: threw in the subscriber's callback
      ['pulse:io#/live#', Buffer.from([0x2a])], // msgpack 42: no [uid, packet, opts]
      // msgpack [uid, an `alert` event to every screen, no rooms]
      ['pulse:io#/live#', broadcastOfAlert()],
      // A request whose data is no list: an unhandled rejection.
      ['pulse:io-request#/live#', '{"type":6,"uid":"u","requestId":"r1","data":null}'],
      // Requests Pulse never makes: disconnect every socket, make one join a room.
      [
        'pulse:io-request#/live#',
        '{"type":4,"uid":"u","requestId":"r2","opts":{"rooms":[],"except":[]},"close":true}',
      ],
      ['pulse:io-request#/live#', Buffer.from([0xc0])], // msgpack nil
      // A response that is no object: threw reading its requestId.
      ['pulse:io-response#/live#', Buffer.from([0xc0])],
      ['pulse:io-response#/live#', 'null'],
    ];
    for (const [channel, message] of crafted) await raw.publish(channel, message);
    // What every gateway sends as it stops (LiveEmitter.close): not counted.
    peer.nsp.server.disconnectSockets(true);
    peer.nsp.serverSideEmit('pulse:rules', { rules: [], version: { at: 1, by: 'peer' } });

    await waitFor(() => rules.length > 0 || undefined, { message: "the peer's event" });
    expect(rules).toEqual([{ rules: [], version: { at: 1, by: 'peer' } }]);
    expect(client.connected).toBe(true);
    expect(told).toEqual([]);
    expect(here.peers.adapterRefused()).toBe(crafted.length);
    expect(warnings.some((line) => line.includes('Redis adapter'))).toBe(true);
    expect(warnings.length).toBeLessThanOrEqual(3);
  });
  it("a server-side event no gateway sends (a name of the namespace's own, an answered one asked without an answer) neither throws nor is handed on; a peer's after it is", async () => {
    const here = await namespace();
    const peer = await namespace();
    await joined(here.nsp, 2);
    await joined(peer.nsp, 2);
    // As a gateway's: its connection handler (Nest's) and the answered events (PeerAcks, PeerRules).
    const connected: string[] = [];
    here.nsp.on('connection', (socket) => connected.push(socket.id));
    here.nsp.on('pulse:ack', (_request, answer) => answer({ ok: false }));
    here.nsp.on('pulse:rules-since', (_since, answer) => answer(null));
    client = await connectLive(await listen(here.http));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const rules: unknown[] = [];
    here.nsp.on('pulse:rules', (change: unknown) => rules.push(change));
    raw = new Redis(redisUrl());

    const crafted = [
      // EventEmitter's own: no listener, so emitting it threw (an unhandled rejection).
      { type: 6, uid: 'u', data: ['error', 'boom'] },
      // Socket.IO's: the namespace's connection handlers given a plain object as a socket.
      { type: 6, uid: 'u', data: ['connection', { id: 'x' }] },
      // Events a gateway answers, asked without an answer: the handler called undefined.
      { type: 6, uid: 'u', data: ['pulse:ack', { alertId: 'a', by: 'b', at: 1 }] },
      { type: 6, uid: 'u', data: ['pulse:rules-since', null] },
      // No event name at all.
      { type: 6, uid: 'u', data: [] },
      { type: 6, uid: 'u', data: [42] },
    ];
    try {
      for (const message of crafted)
        await raw.publish('pulse:io-request#/live#', JSON.stringify(message));
      peer.nsp.serverSideEmit('pulse:rules', { rules: [], version: { at: 2, by: 'peer' } });
      await waitFor(() => rules.length > 0 || undefined, { message: "the peer's event" });
      // What the adapter hands on runs before the next message is read: nothing is still due.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }

    expect(unhandled).toEqual([]);
    expect(rules).toEqual([{ rules: [], version: { at: 2, by: 'peer' } }]);
    expect(client.connected).toBe(true);
    expect(connected).toEqual([client.id]);
    expect(here.peers.adapterRefused()).toBe(crafted.length);
  });
});

/** notepack's msgpack of ["u", {type: 2, data: ["alert", {id: "x"}], nsp: "/live"}, {}]. */
function broadcastOfAlert(): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s)]);
  return Buffer.concat([
    Buffer.from([0x93]),
    str('u'),
    Buffer.from([0x83]),
    str('type'),
    Buffer.from([0x02]),
    str('data'),
    Buffer.from([0x92]),
    str('alert'),
    Buffer.from([0x81]),
    str('id'),
    str('x'),
    str('nsp'),
    str('/live'),
    Buffer.from([0x80]),
  ]);
}

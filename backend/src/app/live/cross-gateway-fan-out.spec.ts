import { RedisServer, startRedis, waitFor } from '@pulse/test-support';
import { CrossGatewayFanOut, INTEREST_LEARN_MAX_MS } from './cross-gateway-fan-out';
import { LiveEmitter } from './live-emitter';
import { LiveRedis } from './live-redis.repository';
import { LocalReadingsFanOut } from './readings-fan-out';
import { INTEREST_REPEAT_MS } from './room-interest';

// Two gateways' fan-outs over a real redis-server. A gateway's own sockets are stood in for by
// the rooms its emitter reports (the socket side: test/scale-out.spec.ts, rolling-restart.spec.ts).
describe('CrossGatewayFanOut: a gateway that starts beside others', () => {
  let redis: RedisServer;
  const open: LiveRedis[] = [];
  const fanOuts: CrossGatewayFanOut[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const fanOut of fanOuts.splice(0)) fanOut.beforeApplicationShutdown();
    await Promise.all(open.splice(0).map((connection) => connection.onApplicationShutdown()));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** A connection of a gateway to the Redis. */
  function connect(): LiveRedis {
    const connection = new LiveRedis({ REDIS_URL: redis.url, REDIS_PASSWORD_FILE: undefined });
    open.push(connection);
    return connection;
  }

  /** A gateway whose screens watch `rooms`. */
  function gateway(rooms: string[], connection = connect()): CrossGatewayFanOut {
    const emitter = {
      watchRooms: () => undefined,
      readingsRooms: () => rooms,
    } as unknown as LiveEmitter;
    const local = { hasMembers: (room: string) => rooms.includes(room) } as LocalReadingsFanOut;
    const fanOut = new CrossGatewayFanOut(local, emitter, connection);
    fanOuts.push(fanOut);
    return fanOut;
  }

  it("knows what the others' screens watch before it may ingest, without waiting for their repeat", async () => {
    const watching = gateway(['device:line-1']);
    await watching.interestKnown();
    const started = Date.now();
    const joining = gateway([]);
    await joining.interestKnown();
    const waited = Date.now() - started;
    // The ingest starts now (PulseRuntime waits for this): its first reading reaches that screen.
    expect(joining.hasMembers('device:line-1')).toBe(true);
    expect(joining.hasMembers('device:line-2')).toBe(false);
    // Learned from the answers to its hello, not from the next periodic repeat.
    expect(waited).toBeLessThan(INTEREST_REPEAT_MS);
  });

  it('starts at once when it is the only gateway, and at most INTEREST_LEARN_MAX_MS when Redis is away', async () => {
    const started = Date.now();
    await gateway([]).interestKnown();
    expect(Date.now() - started).toBeLessThan(INTEREST_REPEAT_MS);

    const unreachable = new LiveRedis({
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_PASSWORD_FILE: undefined,
    });
    open.push(unreachable);
    const emitter = { watchRooms: () => undefined, readingsRooms: () => [] };
    const alone = new CrossGatewayFanOut(
      { hasMembers: () => false } as unknown as LocalReadingsFanOut,
      emitter as unknown as LiveEmitter,
      unreachable,
    );
    fanOuts.push(alone);
    const before = Date.now();
    await alone.interestKnown();
    expect(Date.now() - before).toBeGreaterThanOrEqual(INTEREST_LEARN_MAX_MS - 50);
  }, 15_000);

  it('starts at once when its Redis connection was up before it was made (Nest awaiting the PostgreSQL stores in between)', async () => {
    const connection = connect();
    await waitFor(() => connection.ping().catch(() => false), { message: 'Redis to be ready' });

    const started = Date.now();
    await gateway([], connection).interestKnown();
    expect(Date.now() - started).toBeLessThan(INTEREST_REPEAT_MS);
  }, 15_000);
});

import { Logger } from '@nestjs/common';
import { RedisServer, startRedis, waitFor } from '@pulse/test-support';
import { Redis } from 'ioredis';
import { RedisConnections } from './redis-connections';

// Real redis-server on a free loopback port.
describe('RedisConnections', () => {
  let redis: RedisServer;
  let connections: RedisConnections;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    connections = new RedisConnections({ REDIS_URL: redis.url }, new Logger('test'));
  });
  afterEach(async () => {
    await connections.closeAll();
    jest.restoreAllMocks();
  });

  it("holds a subscriber's channels whatever happened to the connection before it was ready", async () => {
    // ioredis would re-subscribe after a reconnect by itself, but only what it saw subscribed: a
    // handshake that failed first (redis/ioredis#2037) left nothing to re-subscribe. With its own
    // re-subscribing off, the connection must still hold the channel after the server drops it.
    const subscriber = connections.connect('subscriber', { autoResubscribe: false });
    const got: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => got.push(message));
    await connections.subscribe(subscriber, 'pulse:test');
    const admin = new Redis(redis.url);
    try {
      await admin.publish('pulse:test', 'one');
      await waitFor(() => (got.includes('one') ? true : null), { timeoutMs: 2000 });
      await admin.client('KILL', 'TYPE', 'pubsub'); // the server drops the subscriber
      await waitFor(async () => ((await admin.publish('pulse:test', 'two')) > 0 ? true : null), {
        timeoutMs: 5000,
        intervalMs: 50,
        message: 'the subscriber to hold the channel again',
      });
      await waitFor(() => (got.includes('two') ? true : null), { timeoutMs: 2000 });
    } finally {
      admin.disconnect();
    }
  });

  it('writes its held-back error count when closed, not in whatever runs after it (CI: a line 10 s later broke another spec)', async () => {
    const lines: string[] = [];
    const logger = new Logger('test');
    jest
      .spyOn(logger, 'error')
      .mockImplementation((line: unknown) => void lines.push(String(line)));
    const unreachable = new RedisConnections({ REDIS_URL: 'redis://127.0.0.1:1' }, logger);
    unreachable.connect('publisher');
    await waitFor(() => (lines.length > 0 ? true : null), { timeoutMs: 5000 });
    // A second refusal within the interval is held back (reconnects come every 100–2000 ms).
    unreachable.report('publisher', 'publisher on redis://127.0.0.1:1: held back');
    await unreachable.closeAll();
    expect(lines.at(-1)).toMatch(/held back \(\+\d+ more "publisher" in the last 10 s\)$/);
  });
});

import { Logger } from '@nestjs/common';
import { createServer } from 'node:net';
import { OwnershipRedis } from './ownership-redis.repository';

/** A loopback port nobody listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('OwnershipRedis', () => {
  it('leaves no ready listener behind when Redis does not answer in time', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const redis = new OwnershipRedis({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    const command = (redis as unknown as { command: { listenerCount(e: string): number } }).command;
    try {
      const before = command.listenerCount('ready');
      await redis.whenReady(50);
      await redis.whenReady(50);
      expect(command.listenerCount('ready')).toBe(before);
    } finally {
      await redis.onApplicationShutdown();
      jest.restoreAllMocks();
    }
  });
});

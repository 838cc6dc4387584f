import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
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
    const command = (redis as unknown as { command: EventEmitter }).command;
    // ioredis adds and drops a `ready` listener of its own on every reconnect attempt, so the
    // count moves by itself; the test follows the listeners whenReady itself adds.
    const added: unknown[] = [];
    const whenReady = (ms: number): Promise<void> => {
      const once = jest.spyOn(command, 'once').mockImplementation(function (
        this: EventEmitter,
        event: string | symbol,
        listener: (...args: unknown[]) => void,
      ) {
        if (event === 'ready') added.push(listener);
        return EventEmitter.prototype.once.call(this, event, listener);
      });
      try {
        return redis.whenReady(ms);
      } finally {
        once.mockRestore();
      }
    };
    try {
      await whenReady(50);
      await whenReady(50);
      expect(added).toHaveLength(2);
      expect(command.listeners('ready').filter((l) => added.includes(l))).toEqual([]);
    } finally {
      await redis.onApplicationShutdown();
      jest.restoreAllMocks();
    }
  });
});

import { Logger } from '@nestjs/common';
import { RedisServer, startRedis } from '@pulse/test-support';
import { Redis } from 'ioredis';

/**
 * The warn lines the code under test logs (Nest's Logger), fresh for each test, with its `log`
 * lines kept off the output: a refusal is logged at a bounded rate, and the specs of what
 * gateways read from each other count those lines. Call at the top of a `describe`.
 */
export function useLoggedWarnings(): string[] {
  const warnings: string[] = [];
  beforeEach(() => {
    warnings.length = 0;
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((line: unknown) => void warnings.push(String(line)));
  });
  afterEach(() => jest.restoreAllMocks());
  return warnings;
}

/**
 * A redis-server for the spec file and a raw client on it: what another gateway of any build, a
 * bug or anyone who can reach Redis publishes and writes. Call at the top of a `describe`.
 */
export function useRawRedis(): { url: () => string; raw: () => Redis } {
  let server: RedisServer | null = null;
  let raw: Redis | null = null;
  beforeAll(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await server?.stop();
  });
  const started = <T>(value: T | null): T => {
    if (value === null) throw new Error('redis-server is started in beforeAll');
    return value;
  };
  return { url: () => started(server).url, raw: () => started(raw) };
}

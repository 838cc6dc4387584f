import { RedisServer, startRedis } from '@pulse/test-support';
import { LOGIN_ADDRESS_ATTEMPTS, LOGIN_ATTEMPTS } from '../src/app/auth/login.service';
import { PulseHandle } from '../src/app/pulse';
import { startTestPulse, TEST_ADMIN_PASSWORD } from './support/pulse';

// Real: redis-server, and two gateways in this process sharing it (REDIS_URL), each with its own
// embedded broker and DATA_DIR (user `admin` seeded on both, as an operator seeds every gateway
// of a deployment). A password guesser behind a load balancer reaches every gateway: the
// limiter's budget for an address + username must be one budget, not one per gateway.
describe('the login limit across gateways', () => {
  let redis: RedisServer;
  let a: PulseHandle;
  let b: PulseHandle;

  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all(
      ['gw-a', 'gw-b'].map((id) => startTestPulse({ REDIS_URL: redis.url, GATEWAY_ID: id })),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a, b].map((g) => g?.close()));
    await redis?.stop();
  });

  const login = (gateway: PulseHandle, password: string, username = 'admin') =>
    fetch(`${gateway.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
      signal: AbortSignal.timeout(5_000),
    });

  it('counts wrong passwords on every gateway against one budget', async () => {
    for (let i = 0; i < LOGIN_ATTEMPTS; i++)
      expect((await login(i % 2 === 0 ? a : b, `guess-${i}`)).status).toBe(401);
    // Half the guesses went to each: the right password is refused on both now.
    for (const gateway of [a, b]) {
      const limited = await login(gateway, TEST_ADMIN_PASSWORD);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  // After the test above: its LOGIN_ATTEMPTS failures from this address count here too.
  it('counts failures from one address over many usernames on every gateway against one budget', async () => {
    for (let i = LOGIN_ATTEMPTS; i < LOGIN_ADDRESS_ATTEMPTS; i++)
      expect((await login(i % 2 === 0 ? a : b, 'Summer2026!!', `user-${i}`)).status).toBe(401);
    // No username reached its own limit; the address did, on both gateways.
    for (const gateway of [a, b]) {
      const limited = await login(gateway, 'Summer2026!!', `user-${gateway === a ? 'x' : 'y'}`);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  }, 60_000);

  // Last: it stops Redis.
  it('still limits logins, each gateway on its own, while Redis is down, and none waits for it', async () => {
    await redis.stop();
    const started = Date.now();
    for (let i = 0; i < LOGIN_ATTEMPTS; i++)
      expect((await login(a, `guess-${i}`, 'mallory')).status).toBe(401);
    expect((await login(a, 'guess-last', 'mallory')).status).toBe(429);
    // b counted none of them: its own budget meanwhile.
    expect((await login(b, 'guess-b', 'mallory')).status).toBe(401);
    // The right password signs in (its budget reset in b's memory), without waiting for Redis.
    expect((await login(b, TEST_ADMIN_PASSWORD)).status).toBe(200);
    // Argon2 takes tens of ms a check; a login waiting on Redis would take seconds.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

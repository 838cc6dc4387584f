import type { IngestStats } from '@pulse/protocol';
import { getJson } from '@pulse/test-support';
import { PulseHandle } from '../src/app/pulse';
import { adminAuth, startTestPulse } from './support/pulse';

/** Fixed before measuring: the health check a load balancer polls must answer within this. */
const HEALTH_BOUND_MS = 1_000;
/**
 * A login over the bound of password checks is answered at once, not queued behind them. 1 s
 * failed once (1.05 s) with this spec beside nine others on a 2-core machine at load 14: the
 * flood's own clients share this process's event loop.
 */
const BUSY_ANSWER_MS = 2_000;
/** Logins in flight at every moment of the flood, each from its own address, for this long. */
const FLOODERS = 16;
const FLOOD_MS = 3_000;

// Real: the whole backend (argon2 on libuv's threadpool, the limiters, Express) in this process,
// flooded with logins of distinct unknown usernames while a client polls /api/health. Each login
// costs an argon2 check (19 MiB, tens of ms of a core): unbounded, hundreds of them held the
// health check for seconds on a 2-core machine. The flood comes from many addresses (behind a
// trusted proxy on loopback, X-Forwarded-For): a botnet, which no per-address budget stops.
describe('a flood of concurrent logins', () => {
  let pulse: PulseHandle;
  beforeAll(async () => {
    pulse = await startTestPulse({ TRUST_PROXY: 'loopback' });
  }, 60_000);
  afterAll(() => pulse?.close());

  it('answers the logins over the bound of password checks 503 at once, and health stays answered', async () => {
    const health: number[] = [];
    const logins: { status: number; retryAfter: number; ms: number }[] = [];
    const until = performance.now() + FLOOD_MS;
    let sent = 0;
    const flooder = async () => {
      while (performance.now() < until) {
        const n = sent++;
        const started = performance.now();
        const answer = await fetch(`${pulse.httpUrl}/api/auth/login`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-forwarded-for': `10.9.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`,
          },
          body: JSON.stringify({ username: `flood-${n}`, password: 'flood-password' }),
          signal: AbortSignal.timeout(60_000),
        });
        await answer.arrayBuffer();
        logins.push({
          status: answer.status,
          retryAfter: Number(answer.headers.get('retry-after')),
          ms: performance.now() - started,
        });
      }
    };
    const poll = async () => {
      while (performance.now() < until) {
        const started = performance.now();
        const answer = await fetch(`${pulse.httpUrl}/api/health`, {
          signal: AbortSignal.timeout(30_000),
        });
        await answer.arrayBuffer();
        health.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await Promise.all([poll(), ...Array.from({ length: FLOODERS }, flooder)]);

    for (const login of logins) expect([401, 503]).toContain(login.status);
    const busy = logins.filter((login) => login.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const login of busy) expect(login.retryAfter).toBeGreaterThan(0);
    // At once: the slowest tenth aside (a shared CI machine stalls the whole process now and then).
    const sorted = busy.map((login) => login.ms).sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.9)]).toBeLessThan(BUSY_ANSWER_MS);
    expect(health.length).toBeGreaterThan(0);
    expect(Math.max(...health)).toBeLessThan(HEALTH_BOUND_MS);
    const stats = await getJson<IngestStats>(
      `${pulse.httpUrl}/api/stats`,
      await adminAuth(pulse.httpUrl),
    );
    expect(stats.body.security?.refused['login_busy']).toBe(busy.length);
  }, 120_000);
});

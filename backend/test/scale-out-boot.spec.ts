import {
  postgresAvailable,
  PostgresCluster,
  RedisServer,
  startPostgres,
  startRedis,
} from '@pulse/test-support';
import type { PulseHandle } from '../src/app/pulse';
import { INTEREST_LEARN_MAX_MS } from '../src/app/live/cross-gateway-fan-out';
import { tapLogs } from './support/logs';
import { startTestPulse } from './support/pulse';

// Real: redis-server, a PostgreSQL cluster and the backend in this process, configured as
// docker-compose.yml runs it (REDIS_URL and DATABASE_URL). The PostgreSQL stores are set up
// asynchronously while Nest makes the providers, long enough for the Redis connections to be up
// before the cross-gateway fan-out is made: every start used to wait INTEREST_LEARN_MAX_MS for a
// `ready` that had already fired, and warn that Redis was unreachable.
const run = postgresAvailable() ? describe : describe.skip;

run('a gateway with REDIS_URL and a healthy Redis', () => {
  let postgres: PostgresCluster;
  let redis: RedisServer;
  const gateways: PulseHandle[] = [];

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  }, 60_000);

  afterAll(async () => {
    for (const gateway of gateways.splice(0)) await gateway.close();
    await Promise.all([redis?.stop(), postgres?.stop()]);
  });

  it("starts without waiting out its peers' rooms, alone and beside a peer", async () => {
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.createDatabase('pulse_scale_out_boot'),
      LOG_LEVEL: 'warn',
    };
    const took: number[] = [];
    const logs = tapLogs();
    try {
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        gateways.push(await startTestPulse(env));
        took.push(Date.now() - started);
      }
    } finally {
      logs.stop();
    }

    expect(logs.text()).not.toMatch(/rooms not known/);
    // The whole start, PostgreSQL migrations included, well within the wait it used to make.
    for (const ms of took) expect(ms).toBeLessThan(INTEREST_LEARN_MAX_MS);
  }, 60_000);
});

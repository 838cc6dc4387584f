import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { CONFIG, Config } from '../config/config';
import { IngestService } from '../ingest/ingest.service';
import { LiveRedis } from '../live/live-redis.repository';
import { Database } from '../store/database';
import { CHECK_TIMEOUT_MS, ReadinessChecks } from './readiness.service';

/**
 * The readiness checks of the parts every gateway has: `broker` (the ingest's link: subscribed
 * to the embedded Aedes, or connected to MQTT_URL), `sqlite` (`${DATA_DIR}/pulse.db`: users,
 * tokens, registry, alerts), with DATABASE_URL `postgres` (the history store's server
 * answers `select 1`) and with REDIS_URL `redis` (it answers PING). Owns these checks and the one pooled connection the postgres check
 * uses; must not repair anything (the ingest reconnects on its own, the stores own theirs).
 */
@Injectable()
export class BuiltInReadinessChecks implements OnApplicationShutdown {
  private readonly postgres: Pool | null;

  constructor(
    readiness: ReadinessChecks,
    ingest: IngestService,
    database: Database,
    redis: LiveRedis,
    @Inject(CONFIG) config: Pick<Config, 'DATABASE_URL'>,
  ) {
    readiness.register('broker', () => ingest.gatewayStatus().broker === 'connected');
    readiness.register('sqlite', () => database.db.prepare('SELECT 1').get() !== undefined);
    this.postgres = config.DATABASE_URL ? postgresProbe(config.DATABASE_URL) : null;
    const pool = this.postgres;
    if (pool) readiness.register('postgres', () => pool.query('SELECT 1'));
    if (redis.enabled) readiness.register('redis', () => redis.ping());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.postgres?.end().catch(() => undefined);
  }
}

/**
 * One connection of its own (not the history store's pool: a probe must not wait behind a
 * queue of writes, nor take a connection they need), bounded in time at every step.
 */
export function postgresProbe(url: string): Pool {
  const pool = new Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: CHECK_TIMEOUT_MS,
    query_timeout: CHECK_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  });
  // An idle connection the server dropped (restart, failover) emits 'error' on the pool; the
  // next check reconnects and reports what it finds.
  pool.on('error', () => undefined);
  return pool;
}

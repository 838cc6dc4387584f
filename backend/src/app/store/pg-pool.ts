import type { Provider } from '@nestjs/common';
import { Pool, PoolConfig, types } from 'pg';
import { CONFIG, Config } from '../config/config';

/**
 * The gateway's one PostgreSQL connection pool (`pg`), opened when DATABASE_URL is set and
 * shared by every feature's PostgreSQL adapter (history, device registry, alerts). Owns how the
 * pool is made (size, bigint parsing, idle errors); must not know any feature's tables. Who
 * ends it: the history store, whose final flush is the last write of a shutdown (the registry
 * and the alerts write their last changes once the ingest stopped, in PulseRuntime's
 * `beforeApplicationShutdown`, the history writer in `onApplicationShutdown`, after both).
 */

/** DI token of the shared {@link Pool}, or null without DATABASE_URL (SQLite). */
export const PG_POOL = Symbol('PG_POOL');

/** Connections at most: one flush at a time per feature, and a few concurrent history reads. */
export const PG_POOL_SIZE = 6;

/**
 * The history store's reads have a pool of their own (`history.providers.ts`), bounded in time
 * where the shared one is not: a PostgreSQL that accepts connections but never answers (hung,
 * or its host partitioned) held a read for minutes. A read's query waits at most
 * PG_READ_TIMEOUT_MS for its answer (pg's client-side `query_timeout`, the read pool's); the
 * slowest the benchmark makes (7 days → 1,000 points) takes tens of milliseconds. A read that
 * times out fails (503) and its connection is dropped.
 */
export const PG_READ_TIMEOUT_MS = 5000;

/**
 * How long a history read waits for a connection of the read pool (a free one, or a new one's
 * handshake). Writes have none: one that waited 5 s behind a storm of reads, or on a stalled
 * server, would count as a failed try, and the writer gives a batch up after ten.
 */
export const PG_CONNECT_TIMEOUT_MS = 5000;

/** Connections of the history store's read pool: concurrent reads are shared (decision 0033). */
export const PG_READ_POOL_SIZE = 4;

/** bigint columns as numbers: every ts, bucket and epoch-ms time is a safe integer. */
const parseInt8 = (text: string) => Number(text);

/** The shared pool: a query waits for a connection and for its answer as long as it takes. */
export function openPgPool(connectionString: string, max = PG_POOL_SIZE): Pool {
  return makePool({ connectionString, max });
}

/** The history store's read pool, bounded in time at every step (see PG_READ_TIMEOUT_MS). */
export function openPgReadPool(connectionString: string): Pool {
  return makePool({
    connectionString,
    max: PG_READ_POOL_SIZE,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    query_timeout: PG_READ_TIMEOUT_MS,
  });
}

function makePool(config: PoolConfig): Pool {
  const pool = new Pool({
    ...config,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === types.builtins.INT8 ? parseInt8 : types.getTypeParser(oid, format)) as never,
    },
  });
  // An idle client losing its server is reported here; the next query reconnects.
  pool.on('error', () => undefined);
  // A client in use (a write's transaction, a rollup pass) whose server goes away emits 'error'
  // besides failing its queries, and pg-pool listens only while a client is idle: with no
  // listener that event ended the process when PostgreSQL stopped under a write. Its queries
  // reject all the same, and their callers count and log them.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** The {@link PG_POOL} provider: a pool when DATABASE_URL is set, else null. */
export const PG_POOL_PROVIDER: Provider = {
  provide: PG_POOL,
  inject: [CONFIG],
  useFactory: (config: Pick<Config, 'DATABASE_URL'>): Pool | null =>
    config.DATABASE_URL ? openPgPool(config.DATABASE_URL) : null,
};

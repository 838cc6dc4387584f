import { Logger } from '@nestjs/common';
import { Redis, RedisOptions } from 'ioredis';
import type { Config } from '../config/config';
import { readRedisPassword, redactUrl } from '../config/secret-files';
import { RateLimitedLog } from './rate-limited-log';

export type RedisConfig = Pick<Config, 'REDIS_URL' | 'REDIS_PASSWORD_FILE'>;

/**
 * A feature's connections to the shared Redis (REDIS_URL): each made with the password from the
 * URL or REDIS_PASSWORD_FILE, reconnecting forever (a gateway outlives a Redis restart), its
 * errors logged with the URL's password redacted at a bounded rate, all closed together. Used by
 * the live layer (LiveRedis) and device ownership (OwnershipRedis), each with its own set.
 *
 * Owns creating, watching and closing connections; must not decide what is sent on them.
 */
export class RedisConnections {
  private readonly errors: RateLimitedLog;
  private readonly clients: Redis[] = [];

  constructor(
    private readonly config: RedisConfig,
    private readonly logger: Logger,
  ) {
    this.errors = new RateLimitedLog((line) => logger.error(line));
  }

  /** The Redis URL with its password redacted, for logs and stats. */
  get url(): string | null {
    return this.config.REDIS_URL ? redactUrl(this.config.REDIS_URL) : null;
  }

  /** Log `line` under `key` at a bounded rate (errors of commands on these connections). */
  report(key: string, line: string): void {
    this.errors.report(key, line);
  }

  connect(role: string, options: RedisOptions = {}): Redis {
    const password = readRedisPassword(this.config);
    const client = new Redis(this.config.REDIS_URL as string, {
      ...(password !== undefined ? { password } : {}),
      connectionName: `pulse-${role}`,
      // Reconnect forever, at most every 2 s: a gateway outlives a Redis restart.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      maxRetriesPerRequest: null,
      ...options,
    });
    let down = false;
    client.on('error', (error: Error) => {
      down = true;
      // ioredis's messages name host and port, never the password; the URL is redacted anyway.
      this.errors.report(role, `${role} on ${this.url}: ${error.message}`);
    });
    client.on('ready', () => {
      if (down) this.logger.log(`${role} on ${this.url} connected again`);
      down = false;
    });
    this.clients.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    const clients = this.clients.splice(0);
    // QUIT on a connection that is not up would wait in its offline queue for a Redis that may
    // never come back (shutdown hung there): those are dropped at once.
    await Promise.all(
      clients.map((client) =>
        client.status === 'ready'
          ? client.quit().catch(() => client.disconnect())
          : client.disconnect(),
      ),
    );
  }
}

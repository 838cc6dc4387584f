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
  /** Channels each subscriber connection must hold, subscribed again whenever it is ready. */
  private readonly channels = new WeakMap<Redis, Set<string>>();

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
      // ioredis 5.8.2+ sends CLIENT SETINFO after reading its package.json, and a SUBSCRIBE
      // issued meanwhile could go before the ready check's INFO: "Connection in subscriber mode,
      // only subscriber commands may be used", a reconnect, and the channel lost (one gateway in
      // about 1 run of 8 of scale-out.spec relayed nothing; redis/ioredis#2037).
      disableClientInfo: true,
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
      // Whatever happened to the connection before it was ready, its channels are held now
      // (subscribing to a channel held already changes nothing).
      const channels = this.channels.get(client);
      if (channels && channels.size > 0)
        client.subscribe(...channels).catch((error: Error) => {
          this.errors.report(
            'subscribe',
            `${role} on ${this.url}: subscribe failed: ${error.message}`,
          );
        });
    });
    this.clients.push(client);
    return client;
  }

  /**
   * Subscribe `client` to `channel`, now and again each time it is ready (a reconnect, or a
   * handshake that went wrong): the connection holds it for as long as it lives.
   */
  subscribe(client: Redis, channel: string): Promise<unknown> {
    let channels = this.channels.get(client);
    if (!channels) this.channels.set(client, (channels = new Set()));
    channels.add(channel);
    return client.subscribe(channel);
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
    // Their held-back error counts go out now, with no timer left to write after the owner.
    this.errors.close();
  }
}

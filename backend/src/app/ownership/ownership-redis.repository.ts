import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { quote } from '@pulse/protocol';
import type { Redis } from 'ioredis';
import { RateLimitedLog } from '../common/rate-limited-log';
import { RedisConfig, RedisConnections } from '../common/redis-connections';
import { CONFIG, GATEWAY_ID_CHARACTERS, MQTT_CLIENT_ID_PATTERN } from '../config/config';

/** Prefix of every key and channel of device ownership on the shared Redis. */
const KEY = 'pulse:own';
const MEMBERS = `${KEY}:members`;
const leaseKey = (id: string) => `${KEY}:member:${id}`;
const readingsChannel = (id: string) => `${KEY}:readings:${id}`;
/** Each member's MQTT client id (its broker session), for a survivor to drain. */
const SESSIONS = `${KEY}:mqtt-sessions`;
const drainKey = (id: string) => `${KEY}:drain:${id}`;

/**
 * A member id as a gateway can have one: GATEWAY_ID's characters (config.ts), long enough for its
 * default (`<hostname>:<PORT>`, `<hostname>-<pid>`). No `/`: a member's id names its journal's
 * folder (HistoryWriter.replayPeer) and its keys and channel here.
 */
const MEMBER_ID = new RegExp(`^[${GATEWAY_ID_CHARACTERS}]{1,128}$`);

/**
 * One round trip, atomic: renew this gateway's lease when it holds it (its incarnation is the
 * value), take it when nobody does (SET NX PX), then list the members whose lease is alive,
 * dropping the expired ones from the index set. Redis expires the keys on its own clock, so
 * the gateways' clocks do not matter. Keys beyond KEYS are named in the script: fine on one
 * Redis (or a primary with replicas), not on Redis Cluster (noted in decision 0029).
 */
const HEARTBEAT = `
local held = 0
local renewed = 0
local current = redis.call('GET', KEYS[2])
if current == ARGV[2] then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  held = 1
  renewed = 1
elseif not current then
  redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3])
  held = 1
end
if held == 1 then redis.call('SADD', KEYS[1], ARGV[1]) end
local alive = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[4] .. id) == 1 then
    table.insert(alive, id)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return {held, alive, renewed}
`;

/** Give the lease back (only this incarnation's): the others re-own its devices at once. */
const LEAVE = `
if redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[2])
  redis.call('SREM', KEYS[1], ARGV[1])
end
return 1
`;

type OwnershipCommands = Redis & {
  pulseHeartbeat(...args: (string | number)[]): Promise<[number, string[], number]>;
  pulseLeave(...args: (string | number)[]): Promise<number>;
};

/**
 * Device ownership's Redis I/O (REDIS_URL): the members' leases and the per-owner channel
 * readings are forwarded on. A command connection (not queued while Redis is away: a heartbeat
 * or a forward that cannot go now fails at once and is counted by the caller) and a subscriber.
 * Without REDIS_URL it opens nothing.
 *
 * Owns the keys, channels and scripts; must not decide who owns what (DeviceOwnership) nor
 * what is forwarded (AlertRouting).
 */
@Injectable()
export class OwnershipRedis implements OnApplicationShutdown {
  private readonly logger = new Logger('Ownership');
  private readonly connections: RedisConnections;
  private readonly command: OwnershipCommands | null = null;
  private readonly subscriber: Redis | null = null;
  private readonly rejectLog = new RateLimitedLog((line) => this.logger.warn(line));
  /** Member ids and session records read from Redis that no gateway could have written. */
  malformedIds = 0;

  constructor(@Inject(CONFIG) config: RedisConfig) {
    this.connections = new RedisConnections(config, this.logger);
    if (!config.REDIS_URL) return;
    const command = this.connections.connect('ownership', { enableOfflineQueue: false });
    command.defineCommand('pulseHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
    command.defineCommand('pulseLeave', { numberOfKeys: 2, lua: LEAVE });
    this.command = command as OwnershipCommands;
    this.subscriber = this.connections.connect('ownership-sub');
  }

  get enabled(): boolean {
    return this.command !== null;
  }

  /** Once the command connection is ready, or after `timeoutMs` (a heartbeat then fails and is retried). */
  whenReady(timeoutMs: number): Promise<void> {
    const command = this.command;
    if (!command || command.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      // The timeout wins: the listener goes, or it would stay on the connection for good.
      const timer = setTimeout(() => {
        command.off('ready', ready);
        resolve();
      }, timeoutMs);
      timer.unref();
      command.once('ready', ready);
    });
  }

  /**
   * Renew or take `id`'s lease for `ttlMs`; whether it is held, whether it was renewed (held by
   * this incarnation until now) rather than taken, and the live members: those whose id a gateway
   * can have (the others, read from a Redis anyone may write to, are left out and counted).
   */
  async heartbeat(
    id: string,
    incarnation: string,
    ttlMs: number,
  ): Promise<{ held: boolean; renewed: boolean; members: string[] }> {
    if (!this.command) return { held: false, renewed: false, members: [] };
    const [held, members, renewed] = await this.command.pulseHeartbeat(
      MEMBERS,
      leaseKey(id),
      id,
      incarnation,
      ttlMs,
      leaseKey(''),
    );
    return { held: held === 1, renewed: renewed === 1, members: this.memberIds(members) };
  }

  /** The ids in `read` a gateway can have; the others counted and logged at a bounded rate. */
  private memberIds(read: unknown): string[] {
    const list = Array.isArray(read) ? (read as unknown[]) : [];
    const valid = list.filter((id): id is string => typeof id === 'string' && MEMBER_ID.test(id));
    if (valid.length === list.length) return valid;
    this.malformedIds += list.length - valid.length;
    const bad = list.find((id) => !valid.includes(id as string));
    this.rejectLog.report(
      'member',
      `ignored ${list.length - valid.length} member id(s) in Redis that no gateway can have: ${quote(bad, 80)}`,
    );
    return valid;
  }

  async leave(id: string, incarnation: string): Promise<void> {
    await this.command?.pulseLeave(MEMBERS, leaseKey(id), id, incarnation);
  }

  /** Record `id`'s MQTT client id (its session on the shared broker). */
  async setSession(id: string, clientId: string): Promise<void> {
    await this.command?.hset(SESSIONS, id, clientId);
  }

  /** `id` left cleanly: no session of its to drain. */
  async clearSession(id: string): Promise<void> {
    await this.command?.hdel(SESSIONS, id);
  }

  /** `id`'s MQTT client id, if it recorded one that is a client id (else counted, null). */
  async sessionOf(id: string): Promise<string | null> {
    const clientId = (await this.command?.hget(SESSIONS, id)) ?? null;
    if (clientId === null || MQTT_CLIENT_ID_PATTERN.test(clientId)) return clientId;
    this.malformedIds++;
    this.rejectLog.report(
      'session',
      `ignored the MQTT session record of ${id}: ${quote(clientId, 80)} is no client id`,
    );
    return null;
  }

  /** Whether `by` may drain `id`'s session now: one gateway per lost member, for `ttlMs`. */
  async claimDrain(id: string, by: string, ttlMs: number): Promise<boolean> {
    if (!this.command) return false;
    return (await this.command.set(drainKey(id), by, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Publish `message` to `owner`'s channel; how many gateways received it (0: nobody listens). */
  async forward(owner: string, message: Buffer): Promise<number> {
    if (!this.command) return 0;
    return this.command.publish(readingsChannel(owner), message);
  }

  /** Every message forwarded to `id`. */
  listen(id: string, handler: (message: Buffer) => void): void {
    const subscriber = this.subscriber;
    if (!subscriber) return;
    const channel = readingsChannel(id);
    subscriber.on('messageBuffer', (from: Buffer, message: Buffer) => {
      if (from.toString() === channel) handler(message);
    });
    void this.connections.subscribe(subscriber, channel).catch((error: Error) => {
      this.connections.report('subscribe', `subscribe to ${channel} failed: ${error.message}`);
    });
  }

  /** Log a failed command at a bounded rate. */
  report(key: string, line: string): void {
    this.connections.report(key, line);
  }

  async onApplicationShutdown(): Promise<void> {
    this.rejectLog.close();
    await this.connections.closeAll();
  }
}

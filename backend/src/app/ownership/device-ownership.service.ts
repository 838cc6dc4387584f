import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnModuleInit,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CONFIG, Config } from '../config/config';
import { gatewayId } from '../config/gateway-id';
import { OwnershipRedis } from './ownership-redis.repository';
import { ownerOf } from './rendezvous';

/** A member's lease: a gateway silent this long (SIGKILL, a frozen host) is no longer a member. */
export const LEASE_TTL_MS = 3_000;
/** How often a member renews its lease and reads the member list (a third of the lease). */
export const HEARTBEAT_MS = 1_000;
/** Members taken into account at most (the first ones by id); more are logged and left out. */
export const MAX_MEMBERS = 64;

export type MembershipListener = (previous: readonly string[], current: readonly string[]) => void;

/**
 * Which gateway owns which device (REDIS_URL). Each gateway holds a lease in Redis under its
 * GATEWAY_ID (renewed every HEARTBEAT_MS, expiring LEASE_TTL_MS after its last renewal) and reads
 * the live members on the same beat; a device belongs to the member rendezvous hashing picks
 * (rendezvous.ts), so every gateway computes the same owner from the same list without asking.
 * A gateway whose lease another process holds (the same GATEWAY_ID twice, or its own previous
 * run killed less than LEASE_TTL_MS ago) is not a member and owns nothing until it gets it.
 * While Redis cannot be reached the list stays as last read (see decision 0029).
 *
 * Without REDIS_URL it runs nothing and owns every device (one gateway). Owns the member list
 * and the lease's timer; must not route readings (AlertRouting) nor touch Redis (OwnershipRedis).
 */
@Injectable()
export class DeviceOwnership implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Ownership');
  /** This gateway's member id (GATEWAY_ID, or its default). */
  readonly self: string;
  /** This run of the gateway: a restarted gateway waits for its previous run's lease to lapse. */
  private readonly incarnation = randomUUID();
  private members: string[] = [];
  private held = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private beating = false;
  private readonly listeners: MembershipListener[] = [];
  /** When this gateway last found its lease lapsed (monotonic ms). */
  private lapsedAt = Number.NEGATIVE_INFINITY;
  /** When a heartbeat last ran (monotonic ms), whatever Redis answered: this process was running. */
  private lastBeatAt = Number.NEGATIVE_INFINITY;
  private readonly counters = { changes: 0, heartbeatFailures: 0, lapses: 0 };

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'GATEWAY_ID' | 'PORT'>,
    private readonly redis: OwnershipRedis,
  ) {
    this.self = gatewayId(config);
  }

  get enabled(): boolean {
    return this.redis.enabled;
  }

  /** Before the ingest starts: the first heartbeat, so the first reading already has an owner. */
  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    // Commands are not queued while connecting: the first heartbeat waits for the connection.
    await this.redis.whenReady(LEASE_TTL_MS);
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** The member that owns `deviceId`: this gateway's id, another's, or null (no member known). */
  ownerOf(deviceId: string): string | null {
    if (!this.enabled) return this.self;
    return ownerOf(deviceId, this.members);
  }

  /** The owner of `deviceId` under an earlier member list (for hand-overs). */
  ownerAmong(deviceId: string, members: readonly string[]): string | null {
    return ownerOf(deviceId, members);
  }

  owns(deviceId: string): boolean {
    return this.ownerOf(deviceId) === this.self;
  }

  /** Called with the previous and the new member list on each change (after the change). */
  onChange(listener: MembershipListener): void {
    this.listeners.push(listener);
  }

  currentMembers(): readonly string[] {
    return this.members;
  }

  stats(): {
    members: number;
    member: boolean;
    changes: number;
    heartbeatFailures: number;
    lapses: number;
    malformedIds: number;
  } {
    return {
      members: this.members.length,
      member: this.held,
      changes: this.counters.changes,
      heartbeatFailures: this.counters.heartbeatFailures,
      lapses: this.counters.lapses,
      malformedIds: this.redis.malformedIds,
    };
  }

  /** Stop renewing and give the lease back: the others take this gateway's devices at once. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.enabled) return;
    await this.redis.leave(this.self, this.incarnation).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const now = performance.now();
    this.checkFrozen(now);
    this.lastBeatAt = now;
    if (this.beating) return; // a slow Redis: one heartbeat at a time
    this.beating = true;
    const sentAt = performance.now();
    try {
      const { held, renewed, members } = await this.redis.heartbeat(
        this.self,
        this.incarnation,
        LEASE_TTL_MS,
      );
      // Sent before a lapse this gateway saw since (the loop blocked while it was in flight):
      // the answer says who was a member then, not now; the next heartbeat asks again.
      if (sentAt < this.lapsedAt) return;
      // Taken again rather than renewed: it lapsed while this gateway could not reach Redis (or
      // its answers came too late), and the others may have taken its devices meanwhile.
      if (held && !renewed && this.held)
        this.lapse('its lease had lapsed in Redis (not renewed in time)');
      if (held !== this.held) {
        if (held) this.logger.log(`member ${this.self} (lease ${LEASE_TTL_MS} ms)`);
        else
          this.logger.error(
            `the lease of GATEWAY_ID ${this.self} is held by another process: this gateway owns no device until it lapses`,
          );
      }
      this.held = held;
      this.apply(members.filter((id) => held || id !== this.self));
    } catch (error) {
      this.counters.heartbeatFailures++;
      this.redis.report('heartbeat', `lease not renewed: ${(error as Error).message}`);
    } finally {
      this.beating = false;
    }
  }

  /**
   * This process did not run for longer than the lease (frozen: a stopped VM, a long pause): its
   * lease has lapsed and the others took its devices over, raising and clearing their alerts
   * meanwhile, while its heartbeat would simply take the lease again with the same member list.
   * So it leaves at once, before what was queued while it was frozen is evaluated: the heartbeat
   * (every HEARTBEAT_MS) and the alert routing's flush tick call this first. A Redis that cannot
   * be reached is not this: the heartbeats run (and fail), and the member list stays as last
   * read (decision 0029); the lease taken again once Redis answers says so then (see beat).
   */
  checkFrozen(now = performance.now()): void {
    const gap = now - this.lastBeatAt;
    if (!this.held || gap <= LEASE_TTL_MS) return;
    this.lastBeatAt = now;
    this.lapse(`this process did not run for ${Math.round(gap)} ms`);
  }

  /**
   * The lease lapsed while this gateway counted itself a member: it lets its devices go (their
   * waiting readings to their owner), and the heartbeat's answer brings them back as a hand-over,
   * their open alerts loaded from the store (what the others did meanwhile included).
   */
  private lapse(why: string): void {
    this.lapsedAt = performance.now();
    this.counters.lapses++;
    this.logger.error(
      `lease lapsed: ${why} (lease ${LEASE_TTL_MS} ms); letting this gateway's devices go and taking them back from the store`,
    );
    this.held = false;
    this.apply(this.members.filter((id) => id !== this.self));
  }

  private apply(read: string[]): void {
    const sorted = [...new Set(read)].sort();
    if (sorted.length > MAX_MEMBERS)
      this.redis.report('members', `${sorted.length} members; the first ${MAX_MEMBERS} count`);
    const current = sorted.slice(0, MAX_MEMBERS);
    const previous = this.members;
    if (current.length === previous.length && current.every((id, i) => id === previous[i])) return;
    this.members = current;
    this.counters.changes++;
    this.logger.log(
      `members: ${current.join(', ') || 'none'} (were: ${previous.join(', ') || 'none'})`,
    );
    for (const listener of this.listeners) listener(previous, current);
  }
}

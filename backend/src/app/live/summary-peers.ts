import { Logger } from '@nestjs/common';
import { isValidId, LIMITS, PEER_FUTURE_SKEW_MS } from '@pulse/protocol';
import { randomUUID } from 'node:crypto';
import { LivePublisher } from '../common/live-publisher';
import { RateLimitedLog } from '../common/rate-limited-log';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { SharedDevice } from '../fleet/fleet-summary';
import { FleetSummaryService } from '../fleet/fleet-summary.service';
import { LiveRedis } from './live-redis.repository';

/** Format version of a share message (a gateway skips one of another version, counted). */
const VERSION = 1;

/** Devices per share message: a 10,000-device share goes as 10 messages of ~150 KB. */
export const SHARE_CHUNK = 1000;

/** Devices shared per push interval at most; the rest go with the next one, oldest first. */
export const SHARE_MAX = 20_000;

/** Removals held while Redis is unreachable at most; beyond, one is not sent (`removalsUnsent`). */
export const REMOVALS_HELD_MAX = 10_000;

/** A removal sent is sent once more this much later (a peer's subscriber back late). */
export const REMOVAL_RESEND_MS = 3_000;

/** A removal received is remembered this long, so its repeat is not applied again. */
export const REMOVAL_REPEAT_MS = 4 * REMOVAL_RESEND_MS;

/**
 * Removals remembered at most (all peers together: after a shared outage several may each send
 * REMOVALS_HELD_MAX at once); beyond, the oldest is forgotten and its repeat applied again.
 */
export const REMOVALS_SEEN_MAX = 5 * REMOVALS_HELD_MAX;

/** A removal older than this (held through a long outage) is still valid; older is malformed. */
export const REMOVAL_MAX_AGE_MS = 7 * 24 * 3600_000;

interface ShareMessage {
  v: number;
  g: string;
  m: string[];
  d: SharedDevice[];
}

interface PeerCounters {
  published: number;
  received: number;
  devices: number;
  rejected: number;
  removalsPublished: number;
  removalsUnsent: number;
  removalsReceived: number;
  /** Removals waiting for Redis to be reachable again. */
  removalsHeld: number;
  /** Removals received for a device heard after it was removed (it came back): not applied. */
  removalsStale: number;
}

/**
 * An admin removed device `id` on gateway `g` (`DELETE /api/devices/:id`): that gateway's removal
 * number `n` (a repeat has the same), made `age` ms before it was sent (an age, not a time: the
 * receiver reckons the time on its own clock). Both absent from gateways before them: applied
 * whatever the device did since.
 */
interface RemovalMessage {
  v: number;
  g: string;
  id: string;
  n?: number;
  age?: number;
}

/** A removal not sent yet, or due once more: its number and when it was made (this clock). */
interface PendingRemoval {
  n: number;
  at: number;
}

/**
 * The fleet summary across gateways (REDIS_URL; decision 0027, session 9 addendum). Mosquitto
 * hands each reading to one gateway of the `$share` group, so on its own each gateway's summary
 * would show only what it ingested: a device whose last reading went to A looked stale on B's
 * overview, one that B never heard was missing there. Once per push interval each gateway
 * publishes, on `pulse:live:summary`, the devices it ingested readings of since the previous one
 * (last seen, newest reading time, every latest value with its reading time: see
 * {@link SummaryShare}); every other gateway makes the device known to its registry (a new device
 * or metric goes out as a `devices` event, as if ingested here) and keeps, per metric, the value
 * of the newest reading. Open alerts reach each gateway's summary with the peers' alert events
 * (SummaryPush). Peers' messages are outside input: checked here, a malformed device or message
 * is dropped and counted, the valid ones around it kept.
 *
 * A device an admin removed on one gateway (`DELETE /api/devices/:id`) goes from every gateway:
 * the removal is published on `pulse:live:summary-removals` and each other gateway removes it
 * from its registry too, so its summary entry, its alert states on whichever gateway owns it (the
 * open alerts end "device removed") and its record go everywhere
 * (docs/decisions/0060-removing-a-device.md). Pub/sub keeps nothing, so a removal is held while
 * Redis is unreachable (at most REMOVALS_HELD_MAX, then sent when it is back) and every removal
 * is sent once more REMOVAL_RESEND_MS later (after a Redis restart a peer's subscriber may be back
 * after this gateway's publisher: the device's owner missing it left its open alert for ever).
 * Each carries its number and age: a gateway applies a removal once (its repeat is recognised
 * for REMOVAL_REPEAT_MS), and not at all when it heard the device after the removal was made
 * (it spoke again, which brings a removed device back); the sender sends nothing more of a
 * removal once the device spoke to it again.
 *
 * Owns the share and removal channels and their formats; must not keep summary state (the model
 * does) nor write to sockets.
 */
export class SummaryPeers {
  private readonly logger = new Logger('SummaryPeers');
  private readonly rejectLog = new RateLimitedLog((line) => this.logger.warn(line));
  private readonly gatewayId = randomUUID();
  private readonly channel: string;
  private readonly removalChannel: string;
  /** The device a peer's removal is being applied to (not to be published back). */
  private applyingRemoval: string | null = null;
  private readonly counters: PeerCounters = {
    published: 0,
    received: 0,
    devices: 0,
    rejected: 0,
    removalsPublished: 0,
    removalsUnsent: 0,
    removalsReceived: 0,
    removalsHeld: 0,
    removalsStale: 0,
  };
  /** Removals not sent yet (Redis away), by device. */
  private readonly heldRemovals = new Map<string, PendingRemoval>();
  /** Removals sent, due once more at the resend, by device. */
  private dueRemovals = new Map<string, PendingRemoval>();
  private resendTimer: ReturnType<typeof setTimeout> | null = null;
  /** This gateway's removals so far (their numbers). */
  private removalCount = 0;
  /** Removals received lately (`gateway:number`), when: a repeat is not applied again. */
  private readonly recentRemovals = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly redis: LiveRedis,
    private readonly summary: FleetSummaryService,
    private readonly registry: DeviceRegistryService,
    private readonly hub: Pick<LivePublisher, 'publishDevice'>,
  ) {
    this.channel = redis.channel('summary');
    this.removalChannel = redis.channel('summary-removals');
    summary.startSharing();
    redis.subscribe(this.channel, (message) => this.receive(message));
    redis.subscribe(this.removalChannel, (message) => this.receiveRemoval(message));
    registry.onGone((deviceId, why) => {
      if (why === 'removed' && deviceId !== this.applyingRemoval && !this.closed)
        this.shareRemoval(deviceId, { n: ++this.removalCount, at: Date.now() });
    });
    redis.onPublisherReady(() => {
      if (!this.closed) this.sendHeldRemovals();
    });
  }

  /** The push tick: what this gateway ingested since the last one, to the other gateways. */
  share(): void {
    const share = this.summary.takeShare(SHARE_MAX);
    if (!share) return;
    for (let from = 0; from < share.devices.length; from += SHARE_CHUNK) {
      const message: ShareMessage = {
        v: VERSION,
        g: this.gatewayId,
        m: share.metrics,
        d: share.devices.slice(from, from + SHARE_CHUNK),
      };
      if (this.redis.publish(this.channel, Buffer.from(JSON.stringify(message), 'utf8')))
        this.counters.published++;
    }
  }

  /** The gateway stops: held-back rejection counts are written now, with no timer left. */
  close(): void {
    this.closed = true;
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.resendTimer = null;
    this.rejectLog.close();
  }

  /**
   * Share messages published and received, devices applied, rejected (messages or devices), and
   * removals published, not sent (Redis unreachable) and received from other gateways.
   */
  stats(): PeerCounters {
    return { ...this.counters, removalsHeld: this.heldRemovals.size };
  }

  private shareRemoval(deviceId: string, removal: PendingRemoval): void {
    if (this.publishRemoval(deviceId, removal)) {
      this.counters.removalsPublished++;
      this.resendLater(deviceId, removal);
      return;
    }
    this.hold(deviceId, removal);
  }

  /** Redis (again) reachable: the removals held meanwhile go now, and once more later. */
  private sendHeldRemovals(): void {
    for (const [deviceId, removal] of [...this.heldRemovals]) {
      this.heldRemovals.delete(deviceId);
      if (this.cameBack(deviceId, removal)) continue;
      if (!this.publishRemoval(deviceId, removal)) {
        this.heldRemovals.set(deviceId, removal); // away again: it and the rest stay held
        return;
      }
      this.counters.removalsPublished++;
      this.resendLater(deviceId, removal);
    }
  }

  private resendLater(deviceId: string, removal: PendingRemoval): void {
    this.dueRemovals.set(deviceId, removal);
    if (this.resendTimer) return;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = null;
      const due = this.dueRemovals;
      this.dueRemovals = new Map();
      for (const [id, pending] of due) {
        if (this.cameBack(id, pending)) continue;
        // Not sent now (Redis away again): held, for the next time it is reachable.
        if (!this.publishRemoval(id, pending)) this.hold(id, pending);
      }
    }, REMOVAL_RESEND_MS);
    this.resendTimer.unref();
  }

  /**
   * This gateway heard the device after its removal (a message, or a peer's share of one): it came
   * back, nothing more of the removal is sent. Both times on this clock.
   */
  private cameBack(deviceId: string, removal: PendingRemoval): boolean {
    const heardAt = this.registry.heardAt(deviceId);
    return heardAt !== undefined && heardAt > removal.at;
  }

  private hold(deviceId: string, removal: PendingRemoval): void {
    const held = this.heldRemovals.get(deviceId);
    if (held) {
      if (removal.n > held.n) this.heldRemovals.set(deviceId, removal); // the newer removal
      return;
    }
    if (this.heldRemovals.size < REMOVALS_HELD_MAX) {
      this.heldRemovals.set(deviceId, removal);
      return;
    }
    this.counters.removalsUnsent++;
    this.rejectLog.report(
      'removal',
      `removal of device ${deviceId} not sent to the other gateways (Redis unreachable, ${REMOVALS_HELD_MAX} removals waiting): they keep it until it is evicted or removed there`,
    );
  }

  private publishRemoval(deviceId: string, { n, at }: PendingRemoval): boolean {
    const age = Math.max(0, Date.now() - at);
    const message: RemovalMessage = { v: VERSION, g: this.gatewayId, id: deviceId, n, age };
    return this.redis.publish(this.removalChannel, Buffer.from(JSON.stringify(message), 'utf8'));
  }

  /** A removal from `gateway` numbered `n` was applied (or judged) before: a repeat. */
  private repeated(gateway: string, n: number, now: number): boolean {
    for (const [key, when] of this.recentRemovals) {
      if (now - when < REMOVAL_REPEAT_MS && this.recentRemovals.size < REMOVALS_SEEN_MAX) break;
      this.recentRemovals.delete(key); // oldest first: expired, or the map is full
    }
    const key = `${gateway}:${n}`;
    if (this.recentRemovals.has(key)) return true;
    this.recentRemovals.set(key, now);
    return false;
  }

  /** Another gateway's removal: the device goes here too. Public for the unit spec. */
  receiveRemoval(raw: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(raw.toString('utf8'));
    } catch {
      return this.reject('a removal message that is not JSON');
    }
    if (!isRemovalMessage(message)) return this.reject('a malformed removal message');
    if (message.g === this.gatewayId) return; // our own, back from Redis
    this.counters.removalsReceived++;
    const now = Date.now();
    // The same removal again (its repeat 3 s later): applied once. The device may have come
    // back meanwhile, unknown to this gateway's registry but fed to its alert engine.
    if (message.n !== undefined && this.repeated(message.g, message.n, now)) return;
    // Heard after it was removed: it came back (a message brings a removed device back), and
    // this removal (held through an outage) is older than that. Heard when this gateway learned
    // of it, not its lastSeen: that may be a third gateway's clock, tens of seconds off.
    const heardAt = this.registry.heardAt(message.id);
    if (message.age !== undefined && heardAt !== undefined && heardAt > now - message.age) {
      this.counters.removalsStale++;
      return;
    }
    this.applyingRemoval = message.id;
    try {
      this.registry.removeFromPeer(message.id);
    } finally {
      this.applyingRemoval = null;
    }
  }

  /** Public for the unit spec. */
  receive(raw: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(raw.toString('utf8'));
    } catch {
      return this.reject('a share message that is not JSON');
    }
    if (!isShareMessage(message)) return this.reject('a malformed share message');
    if (message.g === this.gatewayId) return; // our own, back from Redis
    this.counters.received++;
    const now = Date.now();
    const latestTs = now + PEER_FUTURE_SKEW_MS;
    for (const device of message.d) {
      if (!isSharedDevice(device, message.m.length, latestTs)) {
        this.reject(`a malformed shared device ${JSON.stringify(device).slice(0, 80)}`);
        continue;
      }
      const [deviceId, lastSeen, lastTs, values] = device;
      const names: string[] = [];
      for (let i = 0; i < values.length; i += 3) names.push(message.m[values[i]]);
      const changed = this.registry.applyShared(deviceId, lastSeen, lastTs, names, now);
      if (changed === undefined) continue; // registry full: refused and counted there
      if (changed) this.hub.publishDevice(changed);
      this.summary.applyShared(message.m, device);
      this.counters.devices++;
    }
  }

  private reject(what: string): void {
    this.counters.rejected++;
    this.rejectLog.report('share', `ignored ${what} from another gateway`);
  }
}

function isShareMessage(value: unknown): value is ShareMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<ShareMessage>;
  return (
    m.v === VERSION &&
    typeof m.g === 'string' &&
    Array.isArray(m.m) &&
    m.m.length <= LIMITS.maxSummaryMetrics &&
    m.m.every(isValidId) &&
    Array.isArray(m.d) &&
    m.d.length <= SHARE_CHUNK
  );
}

function isRemovalMessage(value: unknown): value is RemovalMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<RemovalMessage>;
  return (
    m.v === VERSION &&
    typeof m.g === 'string' &&
    m.g.length <= 64 &&
    isValidId(m.id) &&
    (m.n === undefined || (Number.isSafeInteger(m.n) && (m.n as number) >= 1)) &&
    (m.age === undefined ||
      (Number.isFinite(m.age) && (m.age as number) >= 0 && (m.age as number) <= REMOVAL_MAX_AGE_MS))
  );
}

/**
 * A device of a share: a contract id, its times no later than `latestTs` (a time far ahead would
 * be the newest for ever here, holding its value and last seen), at most
 * LIMITS.maxMetricsPerReading values, each of a metric in the message's table, finite, its own
 * time (the newest reading time less its offset) no later than `latestTs` either. An offset may
 * be negative: a value the sender's store held newer than its registry's newest reading time
 * (the registry's last save behind the store after a crash), which older builds read as well.
 */
function isSharedDevice(value: unknown, metrics: number, latestTs: number): value is SharedDevice {
  if (!Array.isArray(value) || value.length !== 4) return false;
  const [id, lastSeen, lastTs, values] = value as unknown[];
  if (!isValidId(id) || !isTime(lastSeen, latestTs) || !isTime(lastTs, latestTs)) return false;
  if (!Array.isArray(values) || values.length % 3 !== 0) return false;
  if (values.length > 3 * LIMITS.maxMetricsPerReading) return false;
  for (let i = 0; i < values.length; i += 3) {
    const index = values[i] as unknown;
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= metrics)
      return false;
    const offset = values[i + 2] as unknown;
    if (!Number.isFinite(values[i + 1]) || !Number.isFinite(offset)) return false;
    if ((lastTs as number) - (offset as number) > latestTs) return false;
  }
  return true;
}

/** A time of a share: finite, not after `latestTs` (0: a device with no reading time yet). */
function isTime(value: unknown, latestTs: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value <= latestTs;
}

import { Logger } from '@nestjs/common';
import { isValidId, LIMITS } from '@pulse/protocol';
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
}

/** An admin removed device `id` on gateway `g` (`DELETE /api/devices/:id`). */
interface RemovalMessage {
  v: number;
  g: string;
  id: string;
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
 * (docs/decisions/0060-removing-a-device.md). Sent once, not repeated: a gateway that misses it
 * (Redis unreachable at that moment, counted `removalsUnsent` on the sender) keeps the device
 * until it is evicted or removed again.
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
  };

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
      if (why === 'removed' && deviceId !== this.applyingRemoval) this.shareRemoval(deviceId);
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
    this.rejectLog.close();
  }

  /**
   * Share messages published and received, devices applied, rejected (messages or devices), and
   * removals published, not sent (Redis unreachable) and received from other gateways.
   */
  stats(): PeerCounters {
    return { ...this.counters };
  }

  private shareRemoval(deviceId: string): void {
    const message: RemovalMessage = { v: VERSION, g: this.gatewayId, id: deviceId };
    if (this.redis.publish(this.removalChannel, Buffer.from(JSON.stringify(message), 'utf8')))
      this.counters.removalsPublished++;
    else {
      this.counters.removalsUnsent++;
      this.rejectLog.report(
        'removal',
        `removal of device ${deviceId} not sent to the other gateways (Redis unreachable): they keep it until it is evicted or removed there`,
      );
    }
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
    this.applyingRemoval = message.id;
    try {
      this.registry.remove(message.id);
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
    for (const device of message.d) {
      if (!isSharedDevice(device, message.m.length)) {
        this.reject(`a malformed shared device ${JSON.stringify(device).slice(0, 80)}`);
        continue;
      }
      const [deviceId, lastSeen, lastTs, values] = device;
      const names: string[] = [];
      for (let i = 0; i < values.length; i += 3) names.push(message.m[values[i]]);
      const changed = this.registry.applyShared(deviceId, lastSeen, lastTs, names);
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
  return m.v === VERSION && typeof m.g === 'string' && isValidId(m.id);
}

function isSharedDevice(value: unknown, metrics: number): value is SharedDevice {
  if (!Array.isArray(value) || value.length !== 4) return false;
  const [id, lastSeen, lastTs, values] = value as unknown[];
  if (!isValidId(id) || !Number.isFinite(lastSeen) || !Number.isFinite(lastTs)) return false;
  if (!Array.isArray(values) || values.length % 3 !== 0) return false;
  if (values.length > 3 * LIMITS.maxMetricsPerReading) return false;
  for (let i = 0; i < values.length; i += 3) {
    const index = values[i] as unknown;
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= metrics)
      return false;
    if (!Number.isFinite(values[i + 1]) || !Number.isFinite(values[i + 2])) return false;
  }
  return true;
}

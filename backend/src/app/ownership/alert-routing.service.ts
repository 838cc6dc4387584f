import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { PEER_FUTURE_SKEW_MS, quote, type OwnershipStats, type Reading } from '@pulse/protocol';
import { RateLimitedLog } from '../common/rate-limited-log';
import { AlertsService } from '../alerts/alerts.service';
import { CONFIG, Config } from '../config/config';
import { DeviceGone, DeviceRegistryService } from '../devices/device-registry.service';
import { DeviceOwnership, HEARTBEAT_MS } from './device-ownership.service';
import { EvaluationBuffer } from './evaluation-buffer';
import { ForwardQueue, parseForward } from './forward-queue';
import { OwnershipRedis } from './ownership-redis.repository';

/** A reading waits FLUSH_MS plus this before evaluation: the other gateway's flush tick and the Redis hop. */
export const HOLD_MARGIN_MS = 100;
/**
 * A gateway waits this long after a membership change before it loads the alerts of devices it
 * gained: long enough for the previous owner to have seen the change too (one heartbeat) and
 * written its last events (each is written at once with ownership on).
 */
export const HANDOVER_MS = HEARTBEAT_MS + 500;
/**
 * After a membership change, how long alerts may be between holders: the devices this gateway let
 * go are loaded by their new owner HANDOVER_MS after it sees the change, up to a heartbeat after
 * this one did, plus its store read.
 */
export const HANDOVER_WINDOW_MS = HEARTBEAT_MS + HANDOVER_MS + 1_000;
/** Member lists remembered for one hand-over at most; with more, every owned device counts as gained. */
const MAX_HANDOVER_LISTS = 8;

/**
 * Where the alert engine's inputs go when several gateways share a fleet (REDIS_URL, decision
 * 0029). The ingest hands every accepted reading and status here instead of to the alerts:
 * - a device this gateway owns: its readings wait in the {@link EvaluationBuffer} (time order
 *   across both gateways' halves), then go to the alert engine;
 * - a device another member owns: its readings join that owner's batch ({@link ForwardQueue}),
 *   published on the owner's Redis channel at the next flush tick; the owner evaluates them.
 *   A gateway that no longer owns what it receives passes it on once (views disagree for up to a
 *   heartbeat); passed on already, it is dropped and counted (evaluated by a non-owner, it could
 *   raise an alert nobody would ever clear);
 * - status: evaluated by the owner only (every gateway hears it), not while the device is held.
 * On a membership change the devices lost leave the engine at once and their waiting readings go
 * to their new owner; the ones gained are held for HANDOVER_MS, their open alerts loaded from the
 * shared store (AlertsService.adopt, which also takes their status from the registry), then their
 * held readings evaluated. History and the live fan-out stay with the ingesting gateway.
 *
 * Without REDIS_URL everything goes straight to AlertsService, nothing is buffered, no timer runs.
 * Owns the routing, the hand-over and their counters; must not decide ownership (DeviceOwnership)
 * nor touch Redis (OwnershipRedis).
 */
@Injectable()
export class AlertRouting implements OnApplicationShutdown {
  private readonly logger = new Logger('Ownership');
  /** Refusals of what peers forwarded, logged at a bounded rate (each one counted). */
  private readonly rejectLog = new RateLimitedLog((line) => this.logger.warn(line));
  private readonly buffer: EvaluationBuffer;
  private readonly queue = new ForwardQueue();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Member lists since the last adoption, under which some device now owned was not ours. */
  private pending: (readonly string[])[] | null = null;
  private adopting: (readonly string[])[] | null = null;
  private adoptTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the member list last changed (this gateway's view). */
  private changedAt = Number.NEGATIVE_INFINITY;
  /** Shut down: an adopt still running must not schedule another. */
  private stopped = false;
  private readonly counters = {
    forwarded: 0,
    received: 0,
    passedOn: 0,
    passedDropped: 0,
    refused: 0,
    malformedReadings: 0,
    undelivered: 0,
    failed: 0,
    adopted: 0,
  };

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'FLUSH_MS'>,
    private readonly ownership: DeviceOwnership,
    private readonly redis: OwnershipRedis,
    private readonly alerts: AlertsService,
    private readonly registry: DeviceRegistryService,
  ) {
    this.buffer = new EvaluationBuffer(config.FLUSH_MS + HOLD_MARGIN_MS);
    if (!ownership.enabled) return;
    alerts.saveEventsAtOnce();
    ownership.onChange((previous) => this.membershipChanged(previous));
    redis.listen(ownership.self, (message) => this.receive(message));
    this.timer = setInterval(() => this.tick(), config.FLUSH_MS);
    this.timer.unref();
  }

  // ───────── inputs (ingest hot path) ─────────

  /** One message's accepted readings (one device). */
  onReadings(readings: readonly Reading[]): void {
    if (!this.ownership.enabled) return this.alerts.onReadings(readings);
    if (readings.length === 0) return;
    const deviceId = readings[0].deviceId;
    const owner = this.ownership.ownerOf(deviceId);
    // No member known (Redis unreachable since boot): evaluated here rather than not at all.
    if (owner === this.ownership.self || owner === null)
      this.buffer.add(deviceId, readings, Date.now(), this.held(deviceId));
    else this.queue.add(owner, readings);
  }

  onStatus(deviceId: string, status: 'online' | 'offline', at: number): void {
    const owner = this.ownership.ownerOf(deviceId);
    if (owner !== this.ownership.self && owner !== null) return;
    // In hand-over the engine does not know the device's open alerts yet: an offline rule would
    // raise a second one. The registry keeps the status; adopt() gives it to the engine.
    if (this.held(deviceId)) return;
    this.alerts.onStatus(deviceId, status, at);
  }

  /** The device left the registry: its readings waiting here go with its alert states. */
  forgetDevice(deviceId: string, why: DeviceGone): void {
    this.buffer.forget(deviceId);
    this.alerts.forgetDevice(deviceId, why);
  }

  stats(): OwnershipStats | undefined {
    if (!this.ownership.enabled) return undefined;
    let ownedDevices = 0;
    for (const device of this.registry.list())
      if (this.ownership.owns(device.deviceId)) ownedDevices++;
    return {
      ...this.ownership.stats(),
      ownedDevices,
      ...this.counters,
      forwardDropped: this.queue.dropped,
      evaluationDropped: this.buffer.dropped,
      heldDropped: this.buffer.heldDropped,
      waiting: this.buffer.size,
      handingOver: this.pending !== null || this.adopting !== null,
    };
  }

  /**
   * Open alerts may be held by no gateway now: this one is taking devices over (their alerts not
   * loaded yet), or let some go less than {@link HANDOVER_WINDOW_MS} ago (their new owner may not
   * have loaded them yet). An acknowledgement that finds no holder waits then (PeerAcks).
   */
  inHandOver(now = Date.now()): boolean {
    return (
      this.pending !== null || this.adopting !== null || now - this.changedAt < HANDOVER_WINDOW_MS
    );
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.rejectLog.close();
    if (this.timer) clearInterval(this.timer);
    if (this.adoptTimer) clearTimeout(this.adoptTimer);
    this.timer = this.adoptTimer = null;
  }

  // ───────── the flush tick ─────────

  private tick(): void {
    // First: a gateway that was frozen past its lease lets its devices go before it evaluates
    // what waited here (DeviceOwnership.checkFrozen).
    this.ownership.checkFrozen();
    for (const { owner, message } of this.queue.take(this.ownership.self)) {
      const count = message.r.length;
      this.redis.forward(owner, Buffer.from(JSON.stringify(message), 'utf8')).then(
        // Nobody on the owner's channel: it died and its lease has not lapsed yet.
        (receivers) =>
          receivers > 0 ? (this.counters.forwarded += count) : (this.counters.undelivered += count),
        (error: Error) => {
          this.counters.failed += count;
          this.redis.report('forward', `readings not forwarded to ${owner}: ${error.message}`);
        },
      );
    }
    this.buffer.drain(
      Date.now(),
      (deviceId) => this.held(deviceId),
      (readings) => this.alerts.onReadings(readings),
    );
  }

  /** Readings a peer forwarded to this owner, read through parseForward (the one check). */
  private receive(raw: Buffer): void {
    const parsed = parseForward(raw, Date.now() + PEER_FUTURE_SKEW_MS);
    if (typeof parsed === 'string') {
      this.counters.refused++;
      this.rejectLog.report(
        'message',
        `ignored forwarded readings from another gateway (${parsed}): ${quote(raw.toString('utf8', 0, 120), 80)}`,
      );
      return;
    }
    const { message, refused } = parsed;
    if (refused > 0) {
      this.counters.malformedReadings += refused;
      this.rejectLog.report(
        'reading',
        `ignored ${refused} malformed reading(s) forwarded from another gateway (${quote(message.g, 64)})`,
      );
    }
    if (message.g === this.ownership.self) return;
    const now = Date.now();
    this.counters.received += message.r.length;
    for (const reading of message.r) {
      const owner = this.ownership.ownerOf(reading.deviceId);
      if (owner === this.ownership.self || owner === null)
        this.buffer.add(reading.deviceId, [reading], now, this.held(reading.deviceId));
      else if (message.h === 0) {
        this.queue.add(owner, [reading], true);
        this.counters.passedOn++;
      } else this.counters.passedDropped++; // views still differ: not evaluated by a non-owner
    }
  }

  // ───────── hand-over ─────────

  private membershipChanged(previous: readonly string[]): void {
    this.changedAt = Date.now();
    // What is no longer ours leaves the engine now; the new owner loads it from the store.
    this.alerts.release((deviceId) => !this.ownership.owns(deviceId));
    // Their readings still waiting here go to the new owner, not to this engine (no state now).
    const self = this.ownership.self;
    const moved = this.buffer.remove((deviceId) => {
      const owner = this.ownership.ownerOf(deviceId);
      return owner !== self && owner !== null;
    });
    for (const [deviceId, readings] of moved) {
      const owner = this.ownership.ownerOf(deviceId);
      if (owner !== null) this.queue.add(owner, readings);
    }
    const lists = [...(this.pending ?? []), previous];
    // Too many changes in a row: every device owned now is loaded again (an empty list owns nothing).
    this.pending = lists.length > MAX_HANDOVER_LISTS ? [[]] : lists;
    this.scheduleAdoption();
  }

  private scheduleAdoption(): void {
    if (this.stopped) return;
    if (this.adoptTimer) clearTimeout(this.adoptTimer);
    this.adoptTimer = setTimeout(() => void this.adopt(), HANDOVER_MS);
    this.adoptTimer.unref();
  }

  /** A device owned now that was not under one of `lists`. */
  private gainedSince(deviceId: string, lists: readonly (readonly string[])[] | null): boolean {
    if (lists === null || !this.ownership.owns(deviceId)) return false;
    const self = this.ownership.self;
    return lists.some((members) => this.ownership.ownerAmong(deviceId, members) !== self);
  }

  /** Its readings wait: the device was gained and its alerts are not loaded yet. */
  private held(deviceId: string): boolean {
    return this.gainedSince(deviceId, this.pending) || this.gainedSince(deviceId, this.adopting);
  }

  private async adopt(): Promise<void> {
    this.adoptTimer = null;
    if (this.adopting !== null || this.pending === null) return;
    const lists = (this.adopting = this.pending);
    this.pending = null;
    try {
      // Anything restored at boot for devices owned elsewhere goes too.
      this.alerts.release((deviceId) => !this.ownership.owns(deviceId));
      const adopted = await this.alerts.adopt((deviceId) => this.gainedSince(deviceId, lists));
      this.counters.adopted += adopted;
      this.logger.log(`took over ${adopted} open alert(s) of devices now owned here`);
    } catch (error) {
      this.redis.report(
        'adopt',
        `alerts of gained devices not loaded: ${(error as Error).message}`,
      );
      this.pending = [...lists, ...(this.pending ?? [])];
    } finally {
      this.adopting = null;
      if (this.pending !== null && this.adoptTimer === null && !this.stopped)
        this.scheduleAdoption();
    }
  }
}

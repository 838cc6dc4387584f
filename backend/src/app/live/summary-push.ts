import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { encodeSummaryEvent, SUMMARY_PUSH_MS } from '@pulse/protocol';
import { LiveSessions } from '../auth/live-sessions';
import { groupScope } from '../auth/principal';
import { scopedEvent } from '../fleet/fleet-summary';
import { FleetSummaryService } from '../fleet/fleet-summary.service';
import { LIVE_PUBLISHER, LivePublisher } from '../common/live-publisher';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { LiveEmitter } from './live-emitter';
import { LiveRedis } from './live-redis.repository';
import { SummaryPeers } from './summary-peers';

/**
 * Pushes the fleet summary's changes to the `summary` room once every SUMMARY_PUSH_MS: the delta
 * is computed and put in the protocol's compact wire form once; every unscoped member shares one
 * encoded `summary` frame, and each
 * group-scoped member (few: wall screens, scoped tokens) gets the delta filtered to its groups.
 * A push with nothing in it is not sent. With other gateways (REDIS_URL) the same tick shares
 * what this one ingested with them ({@link SummaryPeers}), and the peers' alert events reach the
 * summary too, so every gateway's overview shows the whole fleet. Owns the push timer only; must
 * not keep summary state (FleetSummaryService) nor touch sockets other than through the LiveEmitter.
 */
@Injectable()
export class SummaryPush implements OnModuleInit, OnApplicationShutdown {
  private timer: ReturnType<typeof setInterval> | null = null;
  private pushes = 0;
  private readonly peers: SummaryPeers | null = null;

  constructor(
    private readonly summary: FleetSummaryService,
    private readonly emitter: LiveEmitter,
    private readonly sessions: LiveSessions,
    redis: LiveRedis,
    registry: DeviceRegistryService,
    @Inject(LIVE_PUBLISHER) hub: LivePublisher,
  ) {
    if (!redis.enabled) return;
    this.peers = new SummaryPeers(redis, summary, registry, hub);
    emitter.onPeerAlert((alert) => summary.applyAlert(alert));
  }

  onModuleInit(): void {
    this.timer = setInterval(() => this.push(), SUMMARY_PUSH_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer ?? undefined);
    this.timer = null;
    this.peers?.close();
  }

  /** One push (the timer's tick; public for the unit spec). */
  push(now = Date.now()): void {
    // Taken even when nobody listens, so changes do not pile up until someone subscribes.
    this.peers?.share();
    const delta = this.summary.takeDelta(now);
    const members = this.emitter.summaryMembers();
    if (!delta || members.size === 0) return;
    const scoped: string[] = [];
    for (const socket of this.sessions.scopedSockets()) {
      if (!members.has(socket.id)) continue;
      scoped.push(socket.id);
      const scope = socket.data.principal ? groupScope(socket.data.principal) : null;
      const event = scopedEvent(delta, scope, (socket.data.summaryShown ??= []));
      if (event.changed.length > 0 || event.removed.length > 0 || event.metrics)
        this.emitter.emitSummaryTo(socket.id, encodeSummaryEvent(event));
    }
    if (scoped.length < members.size)
      this.emitter.emitSummary(encodeSummaryEvent(scopedEvent(delta, null)), scoped);
    this.pushes++;
  }

  /** The `live.summary` part of /api/stats. */
  stats(): {
    devices: number;
    pushes: number;
    droppedMetrics: number;
    droppedAlerts: number;
    shared?: ReturnType<SummaryPeers['stats']>;
  } {
    return {
      devices: this.summary.size(),
      pushes: this.pushes,
      droppedMetrics: this.summary.droppedMetrics,
      droppedAlerts: this.summary.droppedAlerts,
      ...(this.peers ? { shared: this.peers.stats() } : {}),
    };
  }
}

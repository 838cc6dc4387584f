import { Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { RulesVersion } from '@pulse/protocol';
import { AlertsService } from '../alerts/alerts.service';
import { LiveRedis } from './live-redis.repository';
import type { LiveNamespace } from './live-io.server';
import { peerAnswers } from './peer-answers';

/** How often a gateway asks the others whether they run newer rules than it does. */
export const RULES_CHECK_MS = 30_000;
/** And this long after it started, or Redis came back (twice: the first may find no peer yet). */
const CATCH_UP_AFTER_MS = [1_000, 3_000];
/** A catch-up the others do not answer within this (the adapter's own 3 s, and a margin) ends. */
const CATCH_UP_WAIT_MS = 5_000;

/**
 * Alert rules across gateways (several gateways, REDIS_URL): each gateway evaluates the devices
 * it owns with its own engine, so a rule set changed over HTTP on one (wherever the balancer sent
 * the admin) must run on every one. The set goes to the others as a `pulse:rules` server-side
 * event through Socket.IO's Redis adapter, with its version; each takes it if it is newer than
 * its own (AlertsService.applyPeerRules validates, saves and runs it). Pub/sub keeps nothing, so
 * a gateway that was starting, or whose Redis connection was down, when a change went out catches
 * up: 1 s and 3 s after it started or Redis came back, and every RULES_CHECK_MS, it asks the
 * others (`pulse:rules-since`, its own version) and takes the newest set any of them answers
 * (they answer only when theirs is newer: in step, the check costs a message each way).
 *
 * Owns both ends of `pulse:rules` and `pulse:rules-since` and the check's timer; must not
 * validate or decide (AlertsService does).
 */
@Injectable()
export class PeerRules implements OnApplicationShutdown {
  private readonly logger = new Logger('Alerts');
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly pending = new Set<ReturnType<typeof setTimeout>>();
  /** A catch-up under way: the next waits for it (one at a time). */
  private asking = false;

  constructor(
    private readonly alerts: AlertsService,
    /** Other gateways (absent or off: none). */
    @Optional() private readonly peers?: LiveRedis,
  ) {}

  /** The `/live` namespace (the gateway's afterInit): the others are told and heard through it. */
  bind(nsp: LiveNamespace): void {
    if (!this.peers?.enabled) return;
    // Outside input: AlertsService.applyPeerRules checks the set and its version.
    nsp.on('pulse:rules', (change: unknown) => {
      const { rules, version } = offer(change);
      void this.take(rules, version);
    });
    nsp.on('pulse:rules-since', (since, answer) => answer(this.alerts.rulesNewerThan(since)));
    // Told now if Redis is there; if not, the others take it at their next catch-up (this
    // gateway's set is the newest).
    this.alerts.onRulesChanged((rules, version) => {
      if (this.peers?.eventsConnected) nsp.serverSideEmit('pulse:rules', { rules, version });
    });
    // Soon after the start and after each reconnect to Redis (the adapter's own connections
    // subscribe meanwhile: asked too early, no peer is counted), then every RULES_CHECK_MS.
    const soon = () => {
      for (const delay of CATCH_UP_AFTER_MS) {
        const timer = setTimeout(() => {
          this.pending.delete(timer);
          void this.catchUp(nsp);
        }, delay);
        timer.unref();
        this.pending.add(timer);
      }
    };
    void this.alerts.whenBooted().then(() => this.peers?.onEventsReady(soon));
    this.timer = setInterval(() => void this.catchUp(nsp), RULES_CHECK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  /** Ask the others for rules newer than these; take the newest answered. */
  private async catchUp(nsp: LiveNamespace): Promise<void> {
    // Not while Redis is away: the adapter's server count would fail at once and the request
    // never be answered. Redis back: onEventsReady asks again.
    if (!this.peers?.eventsConnected || this.asking) return;
    this.asking = true;
    // The adapter never answers a request whose server count failed: given up on after this.
    // A peer that did not answer in time leaves the others' answers.
    const answers = await peerAnswers(
      nsp.serverSideEmitWithAck('pulse:rules-since', this.alerts.currentRulesVersion()),
      CATCH_UP_WAIT_MS,
    );
    // null: nothing newer there. Anything else is an offer, checked by applyPeerRules (a
    // malformed one counted and logged there, not dropped here unseen).
    const offers = answers.filter((answer) => answer !== null).map(offer);
    // Each is tried, newest last: applyPeerRules takes only what is newer than what runs.
    offers.sort((x, y) => offeredAt(x.version) - offeredAt(y.version) || 0);
    try {
      for (const { rules, version } of offers) await this.take(rules, version);
    } finally {
      this.asking = false;
    }
  }

  private async take(rules: unknown, version: unknown): Promise<void> {
    try {
      if (await this.alerts.applyPeerRules(rules, version))
        this.logger.log('alert rules changed on another gateway: running them');
    } catch (error) {
      this.logger.error(`rules from a peer gateway: ${(error as Error).message}`);
    }
  }
}

/** A peer's rule set and version as sent (`pulse:rules`, a catch-up's answer): unchecked. */
function offer(value: unknown): { rules: unknown; version: unknown } {
  if (typeof value !== 'object' || value === null) return { rules: undefined, version: undefined };
  const { rules, version } = value as Partial<Record<'rules' | 'version', unknown>>;
  return { rules, version };
}

/** A version's time, for the order offers are tried in (one without: first, and refused). */
function offeredAt(version: unknown): number {
  const at = (version as Partial<RulesVersion> | null | undefined)?.at;
  return typeof at === 'number' && Number.isFinite(at) ? at : -Infinity;
}

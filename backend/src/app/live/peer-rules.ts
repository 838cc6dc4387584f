import { Injectable, Logger, Optional } from '@nestjs/common';
import { AlertsService } from '../alerts/alerts.service';
import { LiveRedis } from './live-redis.repository';
import type { LiveNamespace } from './live-io.server';

/**
 * Alert rules across gateways (several gateways, REDIS_URL): each gateway evaluates the devices
 * it owns with its own engine, so a rule set changed over HTTP on one (wherever the balancer sent
 * the admin) must run on every one. The set goes to the others as a `pulse:rules` server-side
 * event through Socket.IO's Redis adapter, with its version; each takes it if it is newer than
 * its own (AlertsService.applyPeerRules validates, saves and runs it). A gateway that was away
 * when a change went out starts from its file or store, as before: with a shared DATABASE_URL,
 * the set the changer saved.
 *
 * Owns both ends of `pulse:rules`; must not validate or decide (AlertsService does).
 */
@Injectable()
export class PeerRules {
  private readonly logger = new Logger('Alerts');

  constructor(
    private readonly alerts: AlertsService,
    /** Other gateways (absent or off: none). */
    @Optional() private readonly peers?: LiveRedis,
  ) {}

  /** The `/live` namespace (the gateway's afterInit): the others are told and heard through it. */
  bind(nsp: LiveNamespace): void {
    if (!this.peers?.enabled) return;
    nsp.on('pulse:rules', (change) => {
      this.alerts.applyPeerRules(change?.rules, change?.version).then(
        (taken) => taken && this.logger.log('alert rules changed on another gateway: running them'),
        (error: Error) => this.logger.error(`rules from a peer gateway: ${error.message}`),
      );
    });
    this.alerts.onRulesChanged((rules, version) =>
      nsp.serverSideEmit('pulse:rules', { rules, version }),
    );
  }
}

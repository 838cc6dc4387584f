import { Injectable, Optional } from '@nestjs/common';
import type { AckResponse } from '@pulse/protocol';
import { AlertsService } from '../alerts/alerts.service';
import type { AlertAckRequest, AlertAcks } from '../common/alert-acks';
import { LiveRedis } from './live-redis.repository';
import type { LiveNamespace } from './live-io.server';

/**
 * Acknowledgements across gateways (the {@link AlertAcks} port, for HTTP and `/live` alike): an
 * ack is tried on this gateway's engine first; with several gateways (REDIS_URL) one for an alert
 * not held here is asked of the others as a `pulse:ack` server-side event through Socket.IO's
 * Redis adapter, and the answer of the gateway holding it is the answer. A peer that does not
 * answer within the adapter's `requestsTimeout` (live-redis.repository.ts) leaves this gateway's
 * own `not_found`. This gateway answers the peers' `pulse:ack` from its engine.
 *
 * Owns both ends of `pulse:ack`; must not authenticate (the callers pass who asks and their scope)
 * nor decide the acknowledgement (AlertsService does, the scope check included).
 */
@Injectable()
export class PeerAcks implements AlertAcks {
  private nsp: LiveNamespace | null = null;

  constructor(
    private readonly alerts: AlertsService,
    /** Other gateways hold alerts too (absent or off: none). */
    @Optional() private readonly peers?: LiveRedis,
  ) {}

  /** The `/live` namespace (the gateway's afterInit): peers are asked and answered through it. */
  bind(nsp: LiveNamespace): void {
    if (!this.peers?.enabled) return;
    this.nsp = nsp;
    // A peer's operator acked an alert it does not hold: answered if this gateway holds it.
    nsp.on('pulse:ack', (request, answer) => answer(this.alerts.acknowledge(request.id, request)));
  }

  acknowledge(request: AlertAckRequest): AckResponse | Promise<AckResponse> {
    const local = this.alerts.acknowledge(request.id, request);
    if (local.ok || local.error !== 'not_found' || !this.nsp) return local;
    return this.askPeers(this.nsp, request, local);
  }

  /** The answer of the gateway that holds the alert, or `fallback` when none does (or answers). */
  private async askPeers(
    nsp: LiveNamespace,
    request: AlertAckRequest,
    fallback: AckResponse,
  ): Promise<AckResponse> {
    let answers: AckResponse[];
    try {
      answers = await nsp.serverSideEmitWithAck('pulse:ack', request);
    } catch (error) {
      // A peer did not answer within the adapter's timeout: the others' answers come with the
      // error (the holder may have acknowledged already; dropping its answer would say 404, and
      // a retry 409).
      answers = ((error as { responses?: AckResponse[] } | null)?.responses ?? []).filter(
        (answer) => typeof answer === 'object' && answer !== null,
      );
    }
    return (
      answers.find((answer) => answer.ok) ??
      answers.find((answer) => !answer.ok && answer.error !== 'not_found') ??
      fallback
    );
  }
}

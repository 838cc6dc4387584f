import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import {
  ALERT_LIMITS,
  formatIssues,
  parseAckResponse,
  parseAlertEventOfAnyBuild,
  quote,
  type AckResponse,
  type PeerAckStats,
} from '@pulse/protocol';
import { AlertsService } from '../alerts/alerts.service';
import { inScope } from '../auth/principal';
import { PeerAckRequestSchema, type AlertAckRequest, type AlertAcks } from '../common/alert-acks';
import { RateLimitedLog } from '../common/rate-limited-log';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { AlertRouting, HANDOVER_WINDOW_MS } from '../ownership/alert-routing.service';
import { LEASE_TTL_MS } from '../ownership/device-ownership.service';
import { LiveEmitter } from './live-emitter';
import { LiveRedis } from './live-redis.repository';
import type { LiveNamespace } from './live-io.server';
import { peerAnswers } from './peer-answers';

/**
 * How long an ack waits for an alert no gateway holds right now (a hand-over): the dead holder's
 * lease lapsing, then the new owner's hand-over window (it sees the change, waits, reads the store).
 */
export const ACK_HANDOVER_WAIT_MS = LEASE_TTL_MS + HANDOVER_WINDOW_MS;
/** One ask of the peers ends after this with whatever answered (the adapter's 3 s and a margin). */
export const PEER_ANSWER_WAIT_MS = 5_000;
/** Between two asks of a waiting ack. */
export const ACK_RETRY_MS = 250;
/** Acks waiting at once; beyond, one that finds no holder is answered `not_found` at once. */
export const ACK_WAITERS_MAX = 100;
/** Acks of one user waiting at once (so one operator's burst cannot take every place). */
export const ACK_WAITERS_PER_USER = 10;

/**
 * Acknowledgements across gateways (the {@link AlertAcks} port, for HTTP and `/live` alike): an
 * ack is tried on this gateway's engine first; with several gateways (REDIS_URL) one for an alert
 * not held here is asked of the others as a `pulse:ack` server-side event through Socket.IO's
 * Redis adapter, and the answer of the gateway holding it is the answer. A peer that does not
 * answer within the adapter's `requestsTimeout` (live-redis.repository.ts) leaves this gateway's
 * own `not_found`. This gateway answers the peers' `pulse:ack` from its engine.
 *
 * In a hand-over (decision 0029) an open alert is held by no gateway for a moment: the old owner
 * let it go (or died), the new one loads it from the store HANDOVER_MS later. An ack that finds no
 * holder while the alert is one a peer was last heard holding (and the caller may see), or while
 * this gateway's membership is changing, asks again every ACK_RETRY_MS for up to
 * ACK_HANDOVER_WAIT_MS, so an operator acknowledging during a rolling upgrade is answered by
 * the new holder, not with a 404. At most ACK_WAITERS_MAX wait, ACK_WAITERS_PER_USER of one user.
 *
 * What a peer sends is outside input, whatever the event map says: its request is checked with
 * {@link PeerAckRequestSchema} (the `/live` `ack` schema) and a malformed one answered `invalid`,
 * its answers with `parseAckResponse` (the alert with `parseAlertEvent`) and a malformed one
 * ignored; both counted and logged at a bounded rate.
 *
 * Owns both ends of `pulse:ack` and the waiting; must not authenticate (the callers pass who asks
 * and their scope) nor decide the acknowledgement (AlertsService does, the scope check included).
 */
@Injectable()
export class PeerAcks implements AlertAcks, OnApplicationShutdown {
  private nsp: LiveNamespace | null = null;
  private waiting = 0;
  private readonly waitingBy = new Map<string, number>();
  private readonly counters: PeerAckStats = {
    waited: 0,
    unheld: 0,
    overLimit: 0,
    malformedRequests: 0,
    malformedAnswers: 0,
  };
  private readonly logger = new Logger('Alerts');
  private readonly rejectLog = new RateLimitedLog((line) => this.logger.warn(line));

  constructor(
    private readonly alerts: AlertsService,
    private readonly registry: DeviceRegistryService,
    @Inject(LiveEmitter) private readonly emitter: Pick<LiveEmitter, 'peerAlert'>,
    /** Other gateways hold alerts too (absent or off: none). */
    @Optional() private readonly peers?: LiveRedis,
    /** Hand-overs of devices between gateways (absent: none). */
    @Optional() @Inject(AlertRouting) private readonly routing?: Pick<AlertRouting, 'inHandOver'>,
  ) {}

  /** The `/live` namespace (the gateway's afterInit): peers are asked and answered through it. */
  bind(nsp: LiveNamespace): void {
    if (!this.peers?.enabled) return;
    this.nsp = nsp;
    // A peer's operator acked an alert it does not hold: answered if this gateway holds it.
    nsp.on('pulse:ack', (request: unknown, answer) => answer(this.answerPeer(request)));
  }

  onApplicationShutdown(): void {
    this.rejectLog.close();
  }

  /** A peer's request, checked before anything reads it; a malformed one acknowledges nothing. */
  private answerPeer(raw: unknown): AckResponse {
    const parsed = PeerAckRequestSchema.safeParse(raw);
    if (parsed.success) return this.alerts.acknowledge(parsed.data.id, parsed.data);
    this.counters.malformedRequests++;
    const message = formatIssues(parsed.error);
    this.rejectLog.report(
      'peer-ack-request',
      `refused a malformed ack request from another gateway (${message}): ${quote(raw, 80)}`,
    );
    return { ok: false, error: 'invalid', message };
  }

  /** A peer's answer, or null when it is no outcome of an acknowledgement (counted, logged). */
  private peerAnswer(raw: unknown): AckResponse | null {
    const parsed = parseAckResponse(raw, parseAlertEventOfAnyBuild);
    if (parsed.ok) return parsed.response;
    this.counters.malformedAnswers++;
    const what = parsed.field === null ? 'not an object' : `bad ${parsed.field}`;
    this.rejectLog.report(
      'peer-ack-answer',
      `ignored a malformed ack answer from another gateway (${what}): ${quote(raw, 80)}`,
    );
    return null;
  }

  acknowledge(request: AlertAckRequest): AckResponse | Promise<AckResponse> {
    const local = this.alerts.acknowledge(request.id, request);
    // An id no alert can have (HTTP's path parameter has no length check; /live's schema has):
    // no peer holds it, and each would refuse the ask as malformed and log another gateway.
    if (request.id.length > ALERT_LIMITS.maxIdLength) return local;
    if (!unheld(local) || !this.nsp) return local;
    return this.fromHolder(this.nsp, request, local);
  }

  /** Several gateways: acks that waited for a holder, found none in time, or could not wait. */
  stats(): PeerAckStats | undefined {
    return this.nsp ? { ...this.counters } : undefined;
  }

  /** The holder's answer, waited for while the alert may be between holders. */
  private async fromHolder(
    nsp: LiveNamespace,
    request: AlertAckRequest,
    notHere: AckResponse,
  ): Promise<AckResponse> {
    let answer = await this.askPeers(nsp, request, notHere);
    if (!unheld(answer) || !this.betweenHolders(request)) return answer;
    const mine = this.waitingBy.get(request.by) ?? 0;
    if (this.waiting >= ACK_WAITERS_MAX || mine >= ACK_WAITERS_PER_USER) {
      this.counters.overLimit++;
      return answer;
    }
    this.waiting++;
    this.waitingBy.set(request.by, mine + 1);
    this.counters.waited++;
    try {
      const deadline = Date.now() + ACK_HANDOVER_WAIT_MS;
      while (unheld(answer) && Date.now() < deadline && this.betweenHolders(request)) {
        await new Promise((resolve) => setTimeout(resolve, ACK_RETRY_MS));
        answer = this.alerts.acknowledge(request.id, request);
        if (unheld(answer)) answer = await this.askPeers(nsp, request, answer);
      }
    } finally {
      this.waiting--;
      const left = (this.waitingBy.get(request.by) ?? 1) - 1;
      if (left > 0) this.waitingBy.set(request.by, left);
      else this.waitingBy.delete(request.by);
    }
    if (unheld(answer)) this.counters.unheld++;
    return answer;
  }

  /**
   * The alert may be held by nobody for a moment: a peer was last heard holding it (and the
   * caller may see its device: else its `not_found` is final, as on the holder), or this
   * gateway's devices are changing hands.
   */
  private betweenHolders(request: AlertAckRequest): boolean {
    if (this.routing?.inHandOver()) return true;
    const listed = this.emitter.peerAlert(request.id);
    return (
      listed !== undefined &&
      inScope(request.scope, this.registry.groupOf(listed.deviceId) ?? undefined)
    );
  }

  /** The answer of the gateway that holds the alert, or `fallback` when none does (or answers). */
  private async askPeers(
    nsp: LiveNamespace,
    request: AlertAckRequest,
    fallback: AckResponse,
  ): Promise<AckResponse> {
    // Redis away: the adapter would fail its server count and never answer; no peer can be asked.
    if (!this.peers?.eventsConnected) return fallback;
    // Past the adapter's own timeout and a margin, no peer answered. When one did not answer in
    // time the others' answers still count (the holder may have acknowledged already; dropping
    // its answer would say 404, and a retry 409).
    const answers = (
      await peerAnswers(nsp.serverSideEmitWithAck('pulse:ack', request), PEER_ANSWER_WAIT_MS)
    )
      .map((answer) => this.peerAnswer(answer))
      .filter((answer): answer is AckResponse => answer !== null);
    return (
      answers.find((answer) => answer.ok) ??
      answers.find((answer) => !answer.ok && answer.error !== 'not_found') ??
      fallback
    );
  }
}

/** No gateway asked holds the alert. */
function unheld(answer: AckResponse): boolean {
  return !answer.ok && answer.error === 'not_found';
}

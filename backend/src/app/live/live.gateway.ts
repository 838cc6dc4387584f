import { Inject, Logger, Optional } from '@nestjs/common';
import { OnGatewayConnection, OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import {
  ALERTS_OVER_HTTP,
  AckResponse,
  IngestStats,
  LIVE_NAMESPACE,
  LiveAckRequestSchema,
  formatIssues,
} from '@pulse/protocol';
import { EntryGuard } from '../security/entry-guard.service';
import { shownIn } from '../fleet/fleet-summary';
import { AlertsService } from '../alerts/alerts.service';
import { LiveAuth } from '../auth/live-auth';
import { groupScope } from '../auth/principal';
import {
  HISTORY_UNAVAILABLE_MESSAGE,
  HistoryUnavailableError,
} from '../history/history-unavailable';
import { AckBudget } from './ack-budget';
import { labelAcks, releaseHandshake, takeHandshakeCookie, writeAck } from './engine-adapter';
import { GatewayLoad } from './gateway-load';
import { LostPeerRefill } from './lost-peer-refill';
import { PeerAcks } from './peer-acks';
import { PeerRules } from './peer-rules';
import { CrossGatewayFanOut } from './cross-gateway-fan-out';
import { ACK_BACKLOG_BUSY, LagMonitor } from './lag-monitor';
import { LiveEmitter } from './live-emitter';
import { LiveHubService } from './live-hub.service';
import { LiveRedis } from './live-redis.repository';
import type { LiveNamespace, LiveSocket } from './live-io.server';
import {
  LiveSubscriptionService,
  pointsOf,
  RoomMembership,
  SubscribeAnswer,
  summaryPoints,
} from './live-subscription.service';
import { ackPieces, holdsRaw, RawJson } from './ack-encoder';
import { READINGS_FAN_OUT, ReadingsFanOut } from './readings-fan-out';
import { SummaryPush } from './summary-push';

/** Socket.IO 4's server-side disconnect reasons (the keys of `live.disconnects`). */
const DISCONNECT_REASONS = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'parse error',
  'server shutting down',
  'forced server close',
  'client namespace disconnect',
  'server namespace disconnect',
]);

/**
 * Nest's gateway for namespace `/live` (its server built by LiveIoAdapter): on `afterInit` it
 * hands the namespace to the emitter, installs the handshake authentication and starts the lag
 * monitor; on each connection it admits the socket (connection caps, event limits, role checks)
 * and wires client requests to
 * {@link LiveSubscriptionService} (`subscribe`/`unsubscribe`, history paced by the
 * {@link AckBudget}) and {@link PeerAcks} (`ack`), has the emitter greet a new client
 * (gateway status, then the active alerts), tells the lag monitor when a socket re-subscribes
 * or goes, starts and stops the live layer in order, and reports its counters.
 *
 * Client events are plain `socket.on` listeners, not `@SubscribeMessage` handlers: Nest's
 * binding costs an RxJS pipeline per event per socket and answers acks itself, where `subscribe`
 * must wait for the ack budget and the same four functions serve every socket (see
 * docs/decisions/0027-scale-out.md).
 *
 * Must not emit itself (LiveEmitter does, acknowledgements aside), keep slow-client state
 * (LagMonitor) or read engine internals.
 */
@WebSocketGateway({ namespace: LIVE_NAMESPACE })
export class LiveGateway implements OnGatewayInit<LiveNamespace>, OnGatewayConnection<LiveSocket> {
  private readonly logger = new Logger('LiveGateway');
  /** Disconnects by Socket.IO reason (ping timeout, transport close, …). */
  private readonly disconnects = new Map<string, number>();
  /** Paces history in subscribe acks (refill storms); see AckBudget. */
  private readonly ackBudget = new AckBudget();
  /** Shared ack parts (history snapshots, the fleet summary) already counted against the ack budget. */
  private readonly charged = new WeakSet<RawJson>();
  /** Per socket, the subscribe answer still being read from the store: the next waits for it. */
  private readonly answering = new WeakMap<LiveSocket, Promise<void>>();
  /** Subscribe answers written as a frame of their own (see reply). */
  private directAcks = 0;

  constructor(
    private readonly emitter: LiveEmitter,
    private readonly lag: LagMonitor,
    private readonly subscriptions: LiveSubscriptionService,
    private readonly hub: LiveHubService,
    private readonly alerts: AlertsService,
    private readonly entry: EntryGuard,
    private readonly auth: LiveAuth,
    /** `ack`: this gateway's engine, or the peer's that holds the alert (as over HTTP). */
    private readonly acks: PeerAcks,
    /** Its counters in the stats (absent in the unit spec). */
    @Optional() private readonly summaryPush?: SummaryPush,
    /** Throttles everyone while the gateway itself is overloaded (absent in the unit spec). */
    @Optional() private readonly load?: GatewayLoad,
    /** Other gateways share alerts (their open ones join this gateway's list). */
    @Optional() private readonly peers?: LiveRedis,
    /** Where flushed batches go; its cross-gateway counters in the stats (with REDIS_URL). */
    @Optional() @Inject(READINGS_FAN_OUT) private readonly fanOut?: ReadingsFanOut,
    /** A departed peer's stored share read back for this gateway's screens: its counters. */
    @Optional() private readonly refill?: LostPeerRefill,
    /** Rule sets changed here run on the other gateways, and theirs here (absent in the unit spec). */
    @Optional() private readonly rules?: PeerRules,
  ) {}

  /** Resolves when the ingest may start: with several gateways, once the peers' rooms are known. */
  interestKnown(): Promise<void> {
    return this.fanOut?.interestKnown?.() ?? Promise.resolve();
  }

  /** Nest calls it once the adapter built the server, before anything listens. */
  afterInit(nsp: LiveNamespace): void {
    this.emitter.bind(nsp);
    // Before the alerts' restore (Nest inits modules after the gateways): its open list is the
    // seed of the peers' open alerts.
    if (this.peers?.enabled)
      this.alerts.withPeers({
        add: (local) => this.emitter.withPeerAlerts(local),
        seed: (open) => this.emitter.seedPeerAlerts(open),
      });
    nsp.use((socket, next) => this.auth.authenticate(socket, takeHandshakeCookie(socket), next));
    this.acks.bind(nsp);
    this.rules?.bind(nsp);
    this.lag.start();
    this.load?.start();
  }

  /** Every socket that passed the handshake's authentication. */
  handleConnection(socket: LiveSocket): void {
    // The handshake's one field besides the token (read and deleted by the auth middleware):
    // anything but ALERTS_OVER_HTTP keeps the in-stream snapshot.
    const alertsOverHttp = socket.handshake.auth?.alerts === ALERTS_OVER_HTTP;
    releaseHandshake(socket);
    if (!this.entry.admit(socket)) return;
    // The one `disconnect` listener: it releases what admit and track count.
    socket.on('disconnect', this.onDisconnect);
    this.auth.track(socket);
    this.entry.limitEvents(socket);
    // The one check of socket events (known, and allowed to the role), ahead of every handler.
    this.auth.guardEvents(socket);
    this.greetAndListen(socket, alertsOverHttp);
  }

  async stop(): Promise<void> {
    this.lag.stop();
    this.load?.onModuleDestroy();
    this.ackBudget.close();
    this.hub.close();
    await this.emitter.close();
  }

  /** The `live` part of /api/stats, from the counters each part of the live layer owns. */
  stats(): IngestStats['live'] {
    const hub = this.hub.stats();
    const lag = this.lag.stats();
    const writes = this.emitter.writeStats();
    return {
      clients: this.emitter.clientCount(),
      emits: hub.emits,
      readingsSent: hub.readingsSent,
      flushMs: hub.flushMs,
      lagPauses: lag.lagPauses,
      lagDisconnects: lag.lagDisconnects,
      ackRefusals: lag.ackRefusals,
      ackDisconnects: lag.ackDisconnects,
      ackSnapshots: this.subscriptions.sharedSnapshots(),
      disconnects: Object.fromEntries(this.disconnects),
      droppedOverflow: hub.droppedOverflow,
      alertsSent: hub.alertsSent,
      devicesSent: hub.devicesSent,
      flushes: hub.flushes,
      lastFlushCostMs: Math.round(hub.lastFlushCostMs * 1000) / 1000,
      directWrites: writes.direct,
      directAcks: this.directAcks,
      engineWrites: writes.engine,
      peerAlerts: this.emitter.peerAlertStats(),
      peerAcks: this.acks.stats(),
      conflation: this.lag.conflation(),
      gatewayLoad: this.load?.stats(),
      summary: this.summaryPush?.stats(),
      crossGateway:
        this.fanOut instanceof CrossGatewayFanOut
          ? { ...this.fanOut.stats(), ...this.refill?.stats() }
          : undefined,
    };
  }

  /** Socket.IO's reasons are a fixed set of strings; anything else is counted as `other`. */
  private countDisconnect(reason: string): void {
    const key = DISCONNECT_REASONS.has(reason) ? reason : 'other';
    this.disconnects.set(key, (this.disconnects.get(key) ?? 0) + 1);
  }

  /*
   * The same four listener functions serve every socket (socket.io calls them with
   * `this` = the socket) instead of four closures and a membership object per connection;
   * room membership is built on demand. The one `disconnect` listener also gives back the
   * connection-cap slot and the session registration, which had a `once` listener each (with
   * its wrapper, ~0.5 KB per idle connection in a heap snapshot; target 7a, see
   * docs/performance-log.md).
   */
  private readonly onDisconnect = ((gateway: LiveGateway) =>
    function (this: LiveSocket, reason: string): void {
      gateway.entry.release(this);
      gateway.auth.forget(this);
      gateway.lag.forget(this.id);
      gateway.countDisconnect(reason);
    })(this);

  private readonly onSubscribe = ((gateway: LiveGateway) =>
    function (this: LiveSocket, ...args: unknown[]): void {
      gateway.subscribeWhenBudgetAllows(this, args);
    })(this);

  private readonly onUnsubscribe = ((gateway: LiveGateway) =>
    function (this: LiveSocket, ...args: unknown[]): void {
      gateway.answer(args, 'unsubscribe', () =>
        gateway.subscriptions.unsubscribe(membership(this), args[0]),
      );
    })(this);

  private readonly onAck = ((gateway: LiveGateway) =>
    function (this: LiveSocket, ...args: unknown[]): void {
      gateway.answer(args, 'ack', () => gateway.acknowledge(this, args[0]));
    })(this);

  private greetAndListen(socket: LiveSocket, alertsOverHttp: boolean): void {
    // Snapshot (or its version), then deltas: `alert` events reach every socket of the
    // namespace (a group-scoped one: its groups' only, see AlertAudience).
    this.emitter.greet(socket, () => this.alerts.activeEverywhere(), alertsOverHttp);
    labelAcks(socket); // before its first event: subscribe answers may be written directly
    // Untrusted input: never assume the shape of the arguments or that an ack was given.
    socket.on('subscribe', this.onSubscribe);
    socket.on('unsubscribe', this.onUnsubscribe);
    socket.on('ack', this.onAck);
  }

  /**
   * Run a request handler and answer through the ack callback, if the client gave one. Returns,
   * for a handler that answers later (history from the durable store), when it has answered.
   */
  private answer(
    args: unknown[],
    event: string,
    handle: () => unknown,
    socket?: LiveSocket,
  ): Promise<void> | void {
    const callback = takeAck(args);
    const ack =
      callback && socket ? (value: unknown) => this.reply(socket, callback, value) : callback;
    let response: unknown;
    try {
      response = handle();
    } catch (error) {
      this.logger.error(`${event} failed: ${String(error)}`);
      response =
        event === 'ack'
          ? { ok: false, error: 'invalid', message: 'internal error' }
          : { ok: false, error: 'internal error' };
    }
    if (response instanceof Promise) {
      // History read from the durable store: answered when it is there.
      return response.then(
        (value) => void ack?.(value),
        (error) => {
          // The store down: counted and logged (at most once per 10 s) by HistoryReader; the
          // client is told so, as over HTTP, and retries with its backoff.
          if (error instanceof HistoryUnavailableError)
            return void ack?.({ ok: false, error: HISTORY_UNAVAILABLE_MESSAGE });
          this.logger.error(`${event} failed: ${String(error)}`);
          ack?.({ ok: false, error: 'internal error' });
        },
      );
    }
    ack?.(response);
  }

  /**
   * An answer that carries a shared encoded part (a history snapshot, the fleet summary) goes
   * out as a frame written directly when the socket allows it: the shared bytes are written as
   * they are, not copied into a string and then into bytes for every socket of a storm.
   */
  private reply(socket: LiveSocket, callback: (value: unknown) => void, value: unknown): void {
    const args = [value];
    if (holdsRaw(args) && writeAck(socket, callback, ackPieces(args))) {
      this.directAcks++;
      return;
    }
    callback(value);
  }

  /**
   * Subscribe requests with history wait for the ack budget (refill storms), and a socket's
   * subscribes are answered one after another: one whose history comes from the durable store
   * (answered later) is written before the next is admitted, so `admitAck` sees what the socket
   * left unread, as it did when every answer was immediate.
   */
  private subscribeWhenBudgetAllows(socket: LiveSocket, args: unknown[]): void {
    const answerNow = (): Promise<void> | void => {
      if (!socket.connected) return; // gone while it waited for the budget
      // Not reading what it was sent: no more snapshots queued behind it (lag-monitor.ts).
      if (!this.lag.admitAck(socket)) return this.answer(args, 'subscribe', () => ACK_BACKLOG_BUSY);
      // Before the snapshot: a paused socket is resumed, so history and live readings meet.
      this.lag.resubscribed(socket.id);
      return this.answer(args, 'subscribe', () => this.subscribeAndCount(socket, args[0]), socket);
    };
    const serve = () => {
      const previous = this.answering.get(socket);
      const answered = previous ? previous.then(answerNow) : answerNow();
      if (!answered) return;
      this.answering.set(socket, answered);
      void answered.finally(() => {
        if (this.answering.get(socket) === answered) this.answering.delete(socket);
      });
    };
    if (!wantsHistory(args[0])) return serve();
    if (!this.ackBudget.run(serve))
      this.answer(args, 'subscribe', () => ({
        ok: false,
        error: 'busy: too many subscriptions waiting for history; retry later',
      }));
  }

  private subscribeAndCount(
    socket: LiveSocket,
    raw: unknown,
  ): SubscribeAnswer | Promise<SubscribeAnswer> {
    const scope = socket.data.principal ? groupScope(socket.data.principal) : null;
    const ack = this.subscriptions.subscribe(membership(socket), raw, scope);
    const answered = (done: SubscribeAnswer): SubscribeAnswer => {
      // A scoped summary names its groups' metrics only; the pushes name more as they come to be
      // used (scopedEvent). What the screen was told is exactly its snapshot's table from now on.
      if (scope !== null && done.ok && done.summary && !(done.summary instanceof RawJson))
        socket.data.summaryShown = shownIn(done.summary.metrics);
      return this.count(done);
    };
    return ack instanceof Promise ? ack.then(answered) : answered(ack);
  }

  private count(ack: SubscribeAnswer): SubscribeAnswer {
    if (ack.ok) {
      let points = this.cost(ack.history, pointsOf);
      if (ack.summary) points += this.cost(ack.summary, summaryPoints);
      this.ackBudget.spend(points);
    }
    return ack;
  }

  /**
   * What one part of an ack costs the budget. A part encoded once and shared (a history snapshot
   * of identical subscribes, the unscoped fleet summary of one push interval) counts once.
   */
  private cost<T>(part: T | RawJson, points: (part: T) => number): number {
    if (!(part instanceof RawJson)) return points(part);
    if (this.charged.has(part)) return 0;
    this.charged.add(part);
    return part.points;
  }

  /** `by` is the signed-in user (guardEvents let only operators through); a body `by` is ignored. */
  private acknowledge(socket: LiveSocket, raw: unknown): AckResponse | Promise<AckResponse> {
    const parsed = LiveAckRequestSchema.safeParse(raw);
    if (!parsed.success)
      return {
        ok: false,
        error: 'invalid',
        message: formatIssues(parsed.error),
      };
    const principal = socket.data.principal;
    if (principal?.kind !== 'user')
      return { ok: false, error: 'unauthorized', message: 'sign in first' };
    return this.acks.acknowledge({
      id: parsed.data.id,
      by: principal.username,
      note: parsed.data.note,
      scope: principal.groups,
    });
  }
}

/** Untrusted input: anything but an explicit `history: false` may carry history. */
function wantsHistory(raw: unknown): boolean {
  return !(
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { history?: unknown }).history === false
  );
}

/** The rooms a socket is in (without its own id room) and where a join/leave lands. */
function membership(socket: LiveSocket): RoomMembership {
  return {
    current: () => {
      const rooms = new Set<string>(socket.rooms);
      rooms.delete(socket.id);
      return rooms;
    },
    join: (rooms) => {
      if (rooms.length > 0) void socket.join(rooms);
    },
    leave: (rooms) => {
      for (const room of rooms) if (room !== socket.id) void socket.leave(room);
    },
  };
}

function takeAck(args: unknown[]): ((response: unknown) => void) | undefined {
  const last = args[args.length - 1];
  if (typeof last !== 'function') return undefined;
  args.pop();
  return last as (response: unknown) => void;
}

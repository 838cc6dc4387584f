import type { Aedes, Client } from 'aedes';
import type { BrokerSessionStats } from '@pulse/protocol';

/** Messages queued for one MQTT session at most (Mosquitto's `max_queued_messages` default). */
export const MAX_QUEUED_PER_SESSION = 1_000;

/** A subscription of a stored session, as aedes-persistence hands it to `outgoingEnqueueCombi`. */
interface StoredSub {
  clientId: string;
}

/**
 * The part of aedes-persistence's documented interface (`aedes.persistence`, set once the broker
 * listens) these bounds wrap or call. Typed here because Aedes's typings leave the store out.
 */
interface SessionStore {
  outgoingEnqueue(sub: StoredSub, packet: object): Promise<void>;
  outgoingEnqueueCombi(subs: StoredSub[], packet: object): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: object): Promise<object | undefined>;
  cleanSubscriptions(client: Client): Promise<unknown>;
}

export interface SessionBoundsOptions {
  /** MQTT 3.1.1 sessions kept after their connection closed, at most (past it: ended at once). */
  maxSessions: number;
  /** How long such a session is kept after its connection closed. */
  expiryMs: number;
  /** Messages queued for a session whose client is away, at most (past it: not queued). */
  maxQueued: number;
}

/**
 * Bounds on the embedded broker's persistent MQTT sessions (Aedes, in memory), so that no
 * client can grow the broker's memory by cycling client ids or by staying away:
 * - an MQTT 3.1.1 session (Clean Session 0) is kept at most `expiryMs` after its connection
 *   closed and at most `maxSessions` are kept at once; past the count the newest ends at once.
 *   Aedes keeps such sessions for ever (it bounds MQTT 5's Session Expiry only, configured
 *   beside this: `sessionExpiryIntervalLimit`, `pendingSessionsLimit`). MQTT 3.1.1 leaves how
 *   long session state is stored to the server's policy (§4.1); a client resuming an ended one
 *   gets Session Present 0 and subscribes again, as mqtt.js does by itself;
 * - a session whose client is away queues at most `maxQueued` messages; later ones are not
 *   queued (Mosquitto's `max_queued_messages` policy, 1,000 by default there too). A connected
 *   client's messages are never dropped here.
 * MQTT 5 sessions ended by Aedes's own bounds are counted with these (`sessionExpired`,
 * `sessionLimitReached`).
 *
 * Owns the MQTT 3.1.1 expiry timers and the per-session queue counts (both keyed by client id,
 * bounded by the sessions kept plus the connections open); must not decide who may connect or
 * read (security/broker-auth.ts, broker-guard.ts do). Every Aedes call is in this file;
 * `session-bounds.spec.ts` runs it against the installed Aedes.
 */
export class SessionBounds {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Messages queued in the store per client id, as the wrapped store calls counted them. */
  private readonly queued = new Map<string, number>();
  private readonly counters: Omit<BrokerSessionStats, 'pending'> = {
    kept: 0,
    expired: 0,
    endedAtLimit: 0,
    queueDropped: 0,
  };

  constructor(
    private readonly aedes: Aedes,
    private readonly options: SessionBoundsOptions,
  ) {
    aedes.on('clientDisconnect', (client) => this.disconnected(client));
    aedes.on('client', (client) => this.resumed(client.id));
    aedes.on('sessionExpired', () => this.counters.expired++);
    aedes.on('sessionLimitReached', (_client, info) => {
      if (info.reason === 'sessionExpiry') this.counters.endedAtLimit++;
    });
    aedes.on('closed', () => {
      for (const timer of this.timers.values()) clearTimeout(timer);
      this.timers.clear();
    });
  }

  /** Once the broker listens (Aedes 2 creates its store then): its queue is counted from now. */
  bindStore(): void {
    const store = (this.aedes as unknown as { persistence?: SessionStore }).persistence;
    if (!store) throw new Error('SessionBounds.bindStore() before the broker listens');
    const enqueueCombi = store.outgoingEnqueueCombi.bind(store);
    const enqueue = store.outgoingEnqueue.bind(store);
    const clear = store.outgoingClearMessageId.bind(store);
    store.outgoingEnqueueCombi = (subs, packet) => enqueueCombi(this.admit(subs), packet);
    store.outgoingEnqueue = async (sub, packet) => {
      if (this.admit([sub]).length > 0) await enqueue(sub, packet);
    };
    store.outgoingClearMessageId = async (client, packet) => {
      const cleared = await clear(client, packet);
      if (cleared !== undefined) this.dequeued(client.id);
      return cleared;
    };
  }

  stats(): BrokerSessionStats {
    return { pending: this.timers.size, ...this.counters };
  }

  /** The subscriptions a message may be queued for: each away client's under its bound. */
  private admit(subs: StoredSub[]): StoredSub[] {
    const clients = (this.aedes as unknown as { clients: Record<string, Client | undefined> })
      .clients;
    const kept: StoredSub[] = [];
    for (const sub of subs) {
      const count = this.queued.get(sub.clientId) ?? 0;
      if (count >= this.options.maxQueued && clients[sub.clientId]?.connected !== true) {
        this.counters.queueDropped++;
        continue;
      }
      this.queued.set(sub.clientId, count + 1);
      kept.push(sub);
    }
    return kept;
  }

  private dequeued(clientId: string): void {
    const count = (this.queued.get(clientId) ?? 0) - 1;
    if (count > 0) this.queued.set(clientId, count);
    else this.queued.delete(clientId);
  }

  /** A connection closed: an MQTT 3.1.1 persistent session is kept, within the bounds. */
  private disconnected(client: Client): void {
    if (client.version >= 5 || client.clean || this.aedes.closed) return;
    // Taken over by a new connection of the same client id, which resumes the session (Aedes
    // marks the id while it closes the old one, and keeps MQTT 5 sessions alike then).
    const takingOver = (this.aedes as unknown as { _takingOver?: Set<string> })._takingOver;
    if (takingOver?.has(client.id)) return;
    this.stop(client.id);
    if (this.timers.size >= this.options.maxSessions) {
      this.counters.endedAtLimit++;
      this.end(client);
      return;
    }
    this.counters.kept++;
    const timer = setTimeout(() => {
      this.timers.delete(client.id);
      this.counters.expired++;
      this.end(client);
    }, this.options.expiryMs);
    timer.unref();
    this.timers.set(client.id, timer);
  }

  /** A client id connected again (its session resumed, or replaced by a clean one). */
  private resumed(clientId: string): void {
    this.stop(clientId);
  }

  private stop(clientId: string): void {
    const timer = this.timers.get(clientId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(clientId);
  }

  /** What Aedes does when an MQTT 5 session ends: its subscriptions and its queue go. */
  private end(client: Client): void {
    const store = (this.aedes as unknown as { persistence?: SessionStore }).persistence;
    const failed = (error: Error) => this.aedes.emit('error', error);
    store?.cleanSubscriptions(client).then(undefined, failed);
    client.emptyOutgoingQueue(() => undefined);
  }
}

import type { Aedes, Client } from 'aedes';
import type { BrokerSessionStats } from '@pulse/protocol';

/** Messages queued for one MQTT session while its client is away, at most (Mosquitto's default). */
export const MAX_QUEUED_PER_SESSION = 1_000;
/**
 * QoS 2 messages a client may leave unreleased (PUBREC sent, no PUBREL yet), at most: Mosquitto's
 * `max_inflight_messages` default. Aedes stores each until its PUBREL, for ever otherwise.
 */
export const MAX_UNRELEASED_PER_CLIENT = 20;

/** A subscription of a stored session, as aedes-persistence hands it to `outgoingEnqueueCombi`. */
interface StoredSub {
  clientId: string;
}
interface StoredPacket {
  messageId?: number;
  /** The broker's number of the publish (every copy of one message has it). */
  brokerCounter?: number;
}

/**
 * The part of aedes-persistence's documented interface (`aedes.persistence`, set once the broker
 * listens) these bounds wrap or call. Typed here because Aedes's typings leave the store out.
 */
interface SessionStore {
  outgoingEnqueue(sub: StoredSub, packet: StoredPacket): Promise<void>;
  outgoingEnqueueCombi(subs: StoredSub[], packet: StoredPacket): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: object): Promise<object | undefined>;
  outgoingUpdate(client: { id: string }, packet: StoredPacket): Promise<void>;
  incomingStorePacket(client: { id: string }, packet: StoredPacket): Promise<void>;
  incomingDelPacket(client: { id: string }, packet: StoredPacket): Promise<void>;
  cleanSubscriptions(client: Client): Promise<unknown>;
}

export interface SessionBoundsOptions {
  /** MQTT 3.1.1 sessions kept after their connection closed, at most (past it: ended at once). */
  maxSessions: number;
  /** How long such a session is kept after its connection closed. */
  expiryMs: number;
  /**
   * Messages queued for a session whose client is away, at most (past it: not queued); a
   * connected client may have twice as many unacknowledged (past it: sent without an entry).
   */
  maxQueued: number;
  /** QoS 2 messages a client may leave unreleased (past it: closed). */
  maxUnreleased: number;
}

/**
 * Bounds on what the embedded broker (Aedes, in memory) keeps per MQTT client id, so that no
 * client grows the broker's memory by leaving sessions behind, staying away, or not
 * acknowledging (Aedes's store still keeps a small empty entry per client id that ever
 * acknowledged a message or sent QoS 2, in fields of its own: docs/limits.md):
 * - an MQTT 3.1.1 session (Clean Session 0) is kept at most `expiryMs` after its connection
 *   closed and at most `maxSessions` are kept at once; past the count the newest ends at once.
 *   Aedes keeps such sessions for ever (it bounds MQTT 5's Session Expiry only, configured
 *   beside this: `sessionExpiryIntervalLimit`, `pendingSessionsLimit`). MQTT 3.1.1 leaves how
 *   long session state is stored to the server's policy (§4.1); a client resuming an ended one
 *   gets Session Present 0 and subscribes again, as mqtt.js does by itself;
 * - a session whose client is away queues at most `maxQueued` messages; later ones are not
 *   queued (Mosquitto's `max_queued_messages` policy, 1,000 by default there too). A connected
 *   client (from its registration on, so while its queue is replayed too) may hold twice that
 *   unacknowledged; past it its messages are sent without a queue entry (at most once: not sent
 *   again if its connection drops before it acknowledges them), so a slow client is never
 *   closed for it and one that never acknowledges holds at most that. Aedes has no in-flight
 *   limit of its own;
 * - a client may leave at most `maxUnreleased` QoS 2 messages unreleased (Aedes stores each until
 *   its PUBREL); past it its connection is closed (counted). What a session that ended (a clean
 *   one's connection closed, a persistent one expired or cut) left unreleased is dropped.
 * MQTT 5 sessions ended by Aedes's own bounds are counted with these (`sessionExpired`,
 * `sessionLimitReached`).
 *
 * Owns the MQTT 3.1.1 expiry timers, the per-session queue counts and the unreleased message ids
 * (keyed by client id, bounded by the sessions kept plus the connections open); must not decide
 * who may connect or read (security/broker-auth.ts, broker-guard.ts do). Every Aedes call is in
 * this file; `session-bounds.spec.ts` runs it against the installed Aedes.
 */
export class SessionBounds {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Messages queued in the store per client id, as the wrapped store calls counted them. */
  private readonly queued = new Map<string, number>();
  /**
   * Messages sent to a connected client past its bound without a queue entry (by the broker's
   * number of the publish), until Aedes hands them to it: at most maxQueued per client.
   */
  private readonly unstoredFor = new Map<string, Set<number>>();
  /** QoS 2 messages stored and not yet released, by client id. */
  private readonly unreleased = new Map<string, Set<number>>();
  private store: SessionStore | null = null;
  private readonly counters: Omit<BrokerSessionStats, 'pending'> = {
    kept: 0,
    expired: 0,
    endedAtLimit: 0,
    queueDropped: 0,
    unstored: 0,
    closedUnacked: 0,
    closedUnreleased: 0,
  };

  constructor(
    private readonly aedes: Aedes,
    private readonly options: SessionBoundsOptions,
  ) {
    aedes.on('clientDisconnect', (client) => this.disconnected(client));
    aedes.on('client', (client) => this.connected(client));
    aedes.on('sessionExpired', (client) => {
      this.counters.expired++;
      this.dropUnreleased(client.id);
    });
    aedes.on('sessionLimitReached', (client, info) => {
      if (info.reason !== 'sessionExpiry') return;
      this.counters.endedAtLimit++;
      this.dropUnreleased(client.id);
    });
    aedes.on('closed', () => {
      for (const timer of this.timers.values()) clearTimeout(timer);
      this.timers.clear();
    });
  }

  /** Once the broker listens (Aedes 2 creates its store then): its queues are counted from now. */
  bindStore(): void {
    const store = (this.aedes as unknown as { persistence?: SessionStore }).persistence;
    if (!store) throw new Error('SessionBounds.bindStore() before the broker listens');
    this.store = store;
    const enqueueCombi = store.outgoingEnqueueCombi.bind(store);
    const enqueue = store.outgoingEnqueue.bind(store);
    const clear = store.outgoingClearMessageId.bind(store);
    const storeIncoming = store.incomingStorePacket.bind(store);
    const delIncoming = store.incomingDelPacket.bind(store);
    const update = store.outgoingUpdate.bind(store);
    store.outgoingEnqueueCombi = (subs, packet) => enqueueCombi(this.admit(subs, packet), packet);
    store.outgoingEnqueue = async (sub, packet) => {
      if (this.admit([sub], packet).length > 0) await enqueue(sub, packet);
    };
    // A message sent to a connected client past its bound has no queue entry to number: it
    // goes out without one (at most once), where Aedes would close the client for it.
    store.outgoingUpdate = async (client, packet) => {
      try {
        await update(client, packet);
      } catch (error) {
        if (!this.takeUnstored(client.id, packet)) throw error;
      }
    };
    store.outgoingClearMessageId = async (client, packet) => {
      const cleared = await clear(client, packet);
      if (cleared !== undefined) this.dequeued(client.id);
      return cleared;
    };
    store.incomingStorePacket = async (client, packet) => {
      const messageId = packet.messageId ?? 0;
      let ids = this.unreleased.get(client.id);
      if (!ids?.has(messageId) && (ids?.size ?? 0) >= this.options.maxUnreleased) {
        // Aedes closes the connection on the failed store (its PUBREC is never sent).
        this.counters.closedUnreleased++;
        throw new Error(`more than ${this.options.maxUnreleased} QoS 2 messages unreleased`);
      }
      await storeIncoming(client, packet);
      if (!ids) this.unreleased.set(client.id, (ids = new Set()));
      ids.add(messageId);
    };
    store.incomingDelPacket = async (client, packet) => {
      await delIncoming(client, packet);
      this.released(client.id, packet.messageId ?? 0);
    };
  }

  stats(): BrokerSessionStats {
    return { pending: this.timers.size, ...this.counters };
  }

  /**
   * The subscriptions a message may be queued for: each client's under its bound (maxQueued
   * while away; twice it while connected, from its registration, so while its queue is replayed
   * too). Past it, an away client's message is not queued; a connected one's is sent without a
   * queue entry (at most once), so a slow client is never closed for it and what it holds stays
   * bounded.
   */
  private admit(subs: StoredSub[], packet: StoredPacket): StoredSub[] {
    const kept: StoredSub[] = [];
    const max = this.options.maxQueued;
    for (const sub of subs) {
      const count = this.queued.get(sub.clientId) ?? 0;
      const present = this.clientOf(sub.clientId);
      if (count < (present ? 2 * max : max)) {
        this.queued.set(sub.clientId, count + 1);
        kept.push(sub);
      } else if (!present) {
        this.counters.queueDropped++;
      } else {
        let unstored = this.unstoredFor.get(sub.clientId);
        if (!unstored) this.unstoredFor.set(sub.clientId, (unstored = new Set()));
        if (unstored.size < max && packet.brokerCounter !== undefined) {
          unstored.add(packet.brokerCounter);
          this.counters.unstored++;
        } else if (!present.closed) {
          // Past that too (messages Aedes never hands it: retained ones): closed, counted.
          this.counters.queueDropped++;
          this.counters.closedUnacked++;
          present.close();
        }
      }
    }
    return kept;
  }

  /** A message sent past the bound reached Aedes's delivery: it goes out without an entry. */
  private takeUnstored(clientId: string, packet: StoredPacket): boolean {
    const unstored = this.unstoredFor.get(clientId);
    if (!unstored || packet.brokerCounter === undefined || !unstored.delete(packet.brokerCounter))
      return false;
    if (unstored.size === 0) this.unstoredFor.delete(clientId);
    return true;
  }

  private dequeued(clientId: string): void {
    const count = (this.queued.get(clientId) ?? 0) - 1;
    if (count > 0) this.queued.set(clientId, count);
    else this.queued.delete(clientId);
  }

  private released(clientId: string, messageId: number): void {
    const ids = this.unreleased.get(clientId);
    if (!ids) return;
    ids.delete(messageId);
    if (ids.size === 0) this.unreleased.delete(clientId);
  }

  /** A session ended: the QoS 2 messages it left unreleased go (the store keeps them otherwise). */
  private dropUnreleased(clientId: string): void {
    const ids = this.unreleased.get(clientId);
    if (!ids || !this.store) return;
    this.unreleased.delete(clientId);
    for (const messageId of ids)
      this.store
        .incomingDelPacket({ id: clientId }, { messageId })
        .then(undefined, () => undefined);
  }

  private clientOf(clientId: string): Client | undefined {
    return (this.aedes as unknown as { clients: Record<string, Client | undefined> }).clients[
      clientId
    ];
  }

  /** A connection closed: a clean session ends; an MQTT 3.1.1 persistent one is kept, within the bounds. */
  private disconnected(client: Client): void {
    this.unstoredFor.delete(client.id);
    if (this.aedes.closed) return;
    // Taken over by a new connection of the same client id, which resumes the session (Aedes
    // marks the id while it closes the old one, and keeps MQTT 5 sessions alike then).
    const takingOver = (this.aedes as unknown as { _takingOver?: Set<string> })._takingOver;
    if (takingOver?.has(client.id)) return;
    if (client.clean) {
      this.dropUnreleased(client.id);
      return;
    }
    if (client.version >= 5) return; // Aedes's own expiry (counted by its events)
    this.stop(client.id);
    if (this.timers.size >= this.options.maxSessions) {
      this.counters.endedAtLimit++;
      this.end(client);
      return;
    }
    this.counters.kept++;
    const timer = setTimeout(() => {
      this.timers.delete(client.id);
      if (this.clientOf(client.id)) return; // back (the timer was to be stopped as it came)
      this.counters.expired++;
      this.end(client);
    }, this.options.expiryMs);
    timer.unref();
    this.timers.set(client.id, timer);
  }

  /** A client id connected: its session resumed, or replaced by a clean one (state discarded). */
  private connected(client: Client): void {
    this.stop(client.id);
    if ((client as Client & { _cleanStart?: boolean })._cleanStart === true)
      this.dropUnreleased(client.id);
  }

  private stop(clientId: string): void {
    const timer = this.timers.get(clientId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(clientId);
  }

  /** What Aedes does when an MQTT 5 session ends: its subscriptions and its queue go. */
  private end(client: Client): void {
    const failed = (error: Error) => this.aedes.emit('error', error);
    this.store?.cleanSubscriptions(client).then(undefined, failed);
    client.emptyOutgoingQueue(() => undefined);
    this.dropUnreleased(client.id);
  }
}

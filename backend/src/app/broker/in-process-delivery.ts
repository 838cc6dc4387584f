import type { BrokerSessionStats } from '@pulse/protocol';
import type { Aedes, AedesOptions } from 'aedes';
import { topicMatches } from '../ingest/sources/mqtt-filter';

/**
 * A subscriber inside the gateway's process (the ingest). A promise returned holds every further
 * publish, before its PUBACK, until it settles (issue 13: the history store is behind, so
 * acknowledge later rather than drop).
 */
export type InProcessHandler = (
  topic: string,
  payload: Buffer,
  qos: number,
) => void | Promise<void>;

/**
 * The part of the embedded broker the ingest uses: an in-process subscription
 * (no socket, no MQTT encode/parse, no second copy of every packet).
 */
export interface InProcessBroker {
  /** Subscribe `handler` to the filters; resolves once the broker routes to it. */
  subscribe(filters: readonly string[], handler: InProcessHandler): Promise<() => Promise<void>>;
  /** Its persistent sessions and their bounds, for `/api/stats` (broker/session-bounds.ts). */
  sessions?(): BrokerSessionStats;
}

export type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;
type Args = Parameters<AuthorizePublish>;

/** A handler and its filters, split into levels (one entry per subscribe call). */
interface Subscription {
  handler: InProcessHandler;
  filters: readonly (readonly string[])[];
}

/**
 * Delivers what devices publish to the in-process subscribers, with every QoS 1 message handed
 * over *before* the broker acknowledges it.
 *
 * Why not simply as a subscriber: Aedes 2 (lib/handlers/publish.js, `enqueuePublish`) writes a
 * QoS 1 PUBACK as soon as `authorizePublish` passes and routes the message to subscribers in
 * that write's callback, a `setImmediate` later; a socket read holding a burst of publishes gets
 * all its PUBACKs written before the first is routed. A gateway killed in between had
 * acknowledged readings its ingest never journaled (`history-crash.spec.ts`). So the
 * `authorizePublish` hook ({@link beforeAck}), once every guard inside it passed, hands a QoS 1
 * message to the subscribers whose filters match; when Aedes then routes it, they are skipped
 * (the same payload Buffer: aedes-packet keeps the reference), so each gets it once. QoS 0 has no
 * acknowledgement to get ahead of, and QoS 2's PUBREC is written after routing: both go the
 * ordinary way.
 *
 * Owns the subscriptions, that ordering and the hold; must not decide what is allowed (the
 * guards inside `beforeAck` do) nor read messages (the handlers do).
 */
export class InProcessDelivery {
  private subscriptions: Subscription[] = [];
  /** Payloads of QoS 1 messages already handed over before their PUBACK. */
  private readonly handedOver = new WeakSet<object>();
  /** Set while a handler asks to hold publishes (see {@link beforeAck}). */
  private hold: Promise<void> | null = null;

  /**
   * `authorize` (the guards), then: while a handler holds, device publishes wait here, before
   * Aedes sends their PUBACK, so a QoS 1 device is not acknowledged and stops once its in-flight
   * window is full, instead of the gateway dropping readings it acknowledged; an allowed QoS 1
   * message goes to the subscribers, then to its PUBACK (what they took is journaled: a hold
   * they ask for applies to the publishes after it).
   */
  beforeAck(authorize: AuthorizePublish): AuthorizePublish {
    return (client, packet, callback) => {
      const hold = this.hold;
      if (!hold || !client) return this.authorizeThenHandOver(authorize, client, packet, callback);
      void hold.then(() => this.authorizeThenHandOver(authorize, client, packet, callback));
    };
  }

  private authorizeThenHandOver(
    authorize: AuthorizePublish,
    client: Args[0],
    packet: Args[1],
    callback: Args[2],
  ): void {
    authorize(client, packet, (error) => {
      if (!error && packet.qos === 1 && client) this.handOver(packet.topic, packet.payload);
      callback(error);
    });
  }

  /** Deliver every message matching `filters` to `handler`; resolves with its unsubscribe. */
  subscribe(
    aedes: Aedes,
    filters: readonly string[],
    handler: InProcessHandler,
  ): Promise<() => Promise<void>> {
    const added: Subscription = { handler, filters: filters.map((filter) => filter.split('/')) };
    this.subscriptions = [...this.subscriptions, added];
    const deliver = (
      packet: { topic: string; payload: string | Buffer; qos: number },
      done: () => void,
    ): void => {
      const { payload } = packet;
      if (packet.qos === 1 && this.handedOver.has(payload as object)) return done();
      // Aedes keeps `$` topics from leading wildcards (MQTT §4.7.2) for clients' subscriptions
      // only: a filter `#` here would get `$SYS/…` and what the broker drops ($pulse/dropped).
      if (packet.topic.charCodeAt(0) === 36 && !matchesAny(added.filters, packet.topic))
        return done();
      const wait = this.holdOn(
        handler(
          packet.topic,
          typeof payload === 'string' ? Buffer.from(payload) : payload,
          packet.qos,
        ),
      );
      if (wait) void wait.then(done, done);
      else done();
    };
    const each = (call: (filter: string, fn: typeof deliver, done: () => void) => void) =>
      Promise.all(
        filters.map((filter) => new Promise<void>((resolve) => call(filter, deliver, resolve))),
      ).then(() => undefined);
    return each((f, fn, done) => aedes.subscribe(f, fn, done)).then(() => () => {
      this.subscriptions = this.subscriptions.filter((s) => s !== added);
      return each((f, fn, done) => aedes.unsubscribe(f, fn, done));
    });
  }

  /** A QoS 1 message to each handler with a matching filter, once. */
  private handOver(topic: string, payload: Buffer | string): void {
    // A string payload cannot be recognised when Aedes routes it: it goes the ordinary way.
    if (typeof payload === 'string') return;
    const subscriptions = this.subscriptions;
    let called: InProcessHandler[] | null = null;
    for (let i = 0; i < subscriptions.length; i++) {
      const { handler, filters } = subscriptions[i];
      if (!matchesAny(filters, topic) || called?.includes(handler)) continue;
      // Marked first: a handler that throws has still had the message.
      this.handedOver.add(payload);
      (called ??= []).push(handler);
      this.holdOn(handler(topic, payload, 1));
    }
  }

  /** A handler's promise becomes the hold every further publish waits for. */
  private holdOn(wait: void | Promise<void>): Promise<void> | undefined {
    if (!wait) return undefined;
    const clear = () => {
      if (this.hold === hold) this.hold = null;
    };
    // Settles either way: a failed handler must not hold the broker for ever.
    const hold: Promise<void> = wait.then(clear, clear);
    this.hold = hold;
    return hold;
  }
}

function matchesAny(filters: readonly (readonly string[])[], topic: string): boolean {
  for (let i = 0; i < filters.length; i++) if (topicMatches(filters[i], topic)) return true;
  return false;
}

import { quote } from '@pulse/protocol';
import type { AedesOptions, Client, PublishPacket } from 'aedes';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { identityOf } from './broker-auth';
import { normalizeIp } from './connection-caps';
import { SecurityCounters } from './security-counters.service';

/**
 * The window the per-client publish budget is counted over: MQTT_MAX_PUBLISH_PER_SECOND × this
 * many messages per window. Ten seconds rather than one so a device flushing what it queued
 * while offline (a burst at reconnect) or a gateway client bridging many devices whose readings
 * bunch up is averaged out, not cut.
 */
export const PUBLISH_WINDOW_SECONDS = 10;
/**
 * A client that sends more than this many times its window's budget inside one window is disconnected
 * (counting the messages already dropped): past the budget it is not a burst any more.
 */
export const PUBLISH_FLOOD_FACTOR = 2;

/** Where a dropped message goes: a `$` topic, which no wildcard matches and nothing subscribes to. */
const DISCARD_TOPIC = '$pulse/discarded';
const EMPTY = Buffer.alloc(0);
/** MQTT 5 DISCONNECT reason code (§3.14.2.1). */
const MESSAGE_RATE_TOO_HIGH = 0x96;

export interface PublishRateOptions {
  /** Average messages per second one client may publish (MQTT_MAX_PUBLISH_PER_SECOND). */
  perSecond: number;
  /** Client addresses not held to the rate (CONNECTION_CAP_EXEMPT: the bench's publishers). */
  exempt: readonly string[];
}

type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;

/**
 * Per-client MQTT publish rate on the embedded broker (rate-limiter-flexible's in-memory fixed
 * window). Keyed by identity (security/broker-auth.ts): a device with credentials by its device
 * id, a bridge by its name, whatever client id they connect with; an anonymous client by its
 * client id, so reconnecting under the same id keeps the count. Within the budget a message goes through; beyond it, it is
 * dropped and counted (`mqtt_publish_rate`) — acknowledged like any QoS 1 message, since MQTT
 * 3.1.1 has no negative PUBACK (§3.3.5) and the only other answer is a disconnect (MQTT 5
 * clients are answered the same way: Aedes's only negative PUBACK is 0x87, Not authorized); beyond
 * PUBLISH_FLOOD_FACTOR × the budget the client is disconnected (`mqtt_publish_flood`), and again
 * at each further message in that window. Not counted at all (no promise per message on their
 * path): Pulse's own service identity (the built-in simulator, which publishes for a whole
 * fleet through a few connections) and clients from an exempt address (the bench).
 *
 * Owns the rate decision only: who a client is (broker-auth.ts) and the topic ACL and size
 * bounds (broker-guard.ts) come first, and the broker (embedded-broker.repository.ts) owns the
 * hook.
 */
export class PublishRate {
  private readonly limiter: RateLimiterMemory;
  private readonly budget: number;
  private readonly floodAt: number;
  private readonly exempt: ReadonlySet<string>;
  /** Per client: its limiter key, or null when not held to the rate (decided once per connection). */
  private readonly keys = new WeakMap<Client, string | null>();

  constructor(
    private readonly counters: SecurityCounters,
    options: PublishRateOptions,
  ) {
    this.budget = options.perSecond * PUBLISH_WINDOW_SECONDS;
    this.floodAt = this.budget * PUBLISH_FLOOD_FACTOR;
    this.limiter = new RateLimiterMemory({ points: this.budget, duration: PUBLISH_WINDOW_SECONDS });
    this.exempt = new Set(options.exempt.map(normalizeIp));
  }

  /** `authorize` (the ACL) first, when there is one; what it allows is then held to the rate. */
  guard(authorize?: AuthorizePublish): AuthorizePublish {
    if (!authorize) return (client, packet, callback) => this.check(client, packet, callback);
    return (client, packet, callback) =>
      authorize(client, packet, (error) => {
        if (error) return callback(error);
        this.check(client, packet, callback);
      });
  }

  private check(
    client: Client | null,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ): void {
    // A Last Will published by the broker itself (no client) is one message per connection.
    const key = client ? this.keyOf(client) : null;
    if (key === null) return callback(null);
    this.limiter.consume(key).then(
      () => callback(null),
      (result: RateLimiterRes | Error) => {
        const used = result instanceof RateLimiterRes ? result.consumedPoints : Infinity;
        const who = quote(key);
        if (used > this.floodAt) {
          this.counters.refuse(
            'mqtt_publish_flood',
            `${who} disconnected: ${used} messages in ${PUBLISH_WINDOW_SECONDS} s`,
          );
          // An MQTT 5 client keeps its connection when a publish is refused (Aedes answers
          // PUBACK 0x87), so it is sent away with DISCONNECT 0x96, Message rate too high.
          if (client?.version === 5) client.disconnect({ reasonCode: MESSAGE_RATE_TOO_HIGH });
          return callback(new Error('publish flood'));
        }
        this.counters.refuse(
          'mqtt_publish_rate',
          `message on ${quote(packet.topic)} by ${who} dropped: over ${this.budget} in ${PUBLISH_WINDOW_SECONDS} s`,
        );
        discard(packet);
        callback(null);
      },
    );
  }

  private keyOf(client: Client): string | null {
    let key = this.keys.get(client);
    if (key === undefined) {
      const identity = identityOf(client);
      const address = (client.conn as { remoteAddress?: string }).remoteAddress;
      // As the connection caps compare (a dual-stack listener reports IPv4 clients IPv4-mapped).
      if (
        identity.kind === 'service' ||
        (address !== undefined && this.exempt.has(normalizeIp(address)))
      )
        key = null;
      else
        key =
          identity.kind === 'device'
            ? `device ${identity.deviceId}`
            : identity.kind === 'bridge'
              ? `bridge ${identity.name}`
              : `client ${client.id}`;
      this.keys.set(client, key);
    }
    return key;
  }
}

/**
 * Let Aedes finish the publish (its PUBACK, its bookkeeping) with nothing left to deliver:
 * rewriting the packet in authorizePublish is Aedes's documented way to change what is
 * published (docs/Aedes.md, "authorizePublish").
 */
function discard(packet: PublishPacket): void {
  packet.topic = DISCARD_TOPIC;
  packet.payload = EMPTY;
  packet.retain = false;
}

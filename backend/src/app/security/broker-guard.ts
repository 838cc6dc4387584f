import { isValidId, LIMITS, parseTopic, quote, TOPIC_ROOT } from '@pulse/protocol';
import type { AedesOptions, Client } from 'aedes';
import type { Socket } from 'node:net';
import {
  ANONYMOUS,
  BrokerAuthority,
  BrokerIdentity,
  describeIdentity,
  identityOf,
} from './broker-auth';
import { SecurityCounters, SecurityRefusal } from './security-counters.service';

/**
 * Largest retained payload (only `status` and `meta` may be retained): room for the largest
 * valid meta (64 units of 64-character names and 16-character units, a 128-character name is
 * ~6 KB). The broker keeps one per topic for ever and replays it to every subscriber.
 */
export const MAX_RETAINED_BYTES = 8 * 1024;

/**
 * Largest MQTT packet (remaining length) the broker reads: the contract's payload plus room for
 * the topic and header fields. A bigger packet is refused as its first bytes arrive, before the
 * broker buffers it (Aedes itself would buffer up to MQTT's 256 MB).
 */
export const MAX_MQTT_PACKET_BYTES = LIMITS.maxPayloadBytes + 1024;

/**
 * Where a publish the broker acknowledges and drops is sent instead of its own topic: `$`
 * topics match no wildcard at their first level (MQTT §4.7.2), no identity may subscribe to a
 * `$` filter ({@link subscriptionAllowed}), and no ingest filter names it, so it reaches nobody.
 */
export const DROPPED_TOPIC = '$pulse/dropped';

/** A refused publish: why (the counter), what (for the log), and whether it is only unread. */
export interface PublishRefusal {
  reason: SecurityRefusal;
  detail: string;
  /**
   * On a topic neither the contract nor any ingest source reads (`tele/x/INFO1`, a discovery
   * config, `zigbee2mqtt/bridge/info`): firmware sends these by default, so an MQTT 3.1.1
   * sender is acknowledged and the message dropped rather than disconnected ({@link brokerHooks}).
   */
  unread?: true;
}

/**
 * Whether a refused publish is acknowledged and dropped rather than answered by closing an MQTT
 * 3.1.1 sender (which has no negative PUBACK): on a topic nothing reads, and any refusal of a
 * bridge's. A bridge speaks for many devices: closing it for one device's message (an id with
 * its own credentials, an oversize retained `bridge/info`) would cut off all the others, and
 * zigbee2mqtt would reconnect and publish the same message again, in a loop (decision 0067).
 */
export function droppedNotClosed(refusal: PublishRefusal, identity: BrokerIdentity): boolean {
  return refusal.unread === true || identity.kind === 'bridge';
}

/**
 * What a connection may publish: exactly `devices/{valid id}/telemetry|status|meta` for an id
 * its identity owns ({@link ownsDevice}), or an ingest source's topic ({@link sourceRefusal}),
 * payloads within the contract's 64 KiB, retained only on status/meta within MAX_RETAINED_BYTES
 * (an empty retained payload only clears, and is fine). Null when allowed.
 */
export function publishRefusal(
  topic: string,
  payloadBytes: number,
  retain: boolean,
  identity: BrokerIdentity = ANONYMOUS,
  authority: Reserved = NOTHING_RESERVED,
  sources: SourceTopics = NO_SOURCES,
): PublishRefusal | null {
  const parsed = parseTopic(topic);
  if (!parsed) return sourceRefusal(topic, payloadBytes, retain, identity, authority, sources);
  if (!ownsDevice(identity, authority, parsed.deviceId))
    return { reason: 'mqtt_publish_acl', detail: `publish to ${quote(topic)}` };
  if (payloadBytes > LIMITS.maxPayloadBytes)
    return { reason: 'mqtt_oversize', detail: `${payloadBytes}-byte payload on ${quote(topic)}` };
  if (retain && payloadBytes > 0) {
    if (parsed.kind === 'telemetry')
      return { reason: 'mqtt_retain', detail: `retained telemetry on ${quote(topic)}` };
    if (payloadBytes > MAX_RETAINED_BYTES)
      return {
        reason: 'mqtt_retain',
        detail: `${payloadBytes}-byte retained payload on ${quote(topic)}`,
      };
  }
  return null;
}

/** The ingest sources' topics as the guard sees them (ingest/sources/source-router.ts). */
export interface SourceTopics {
  /**
   * Whether any claim on a topic (every announced entity reading it, every source naming a
   * device by it, not only the first) names a device `test` holds for.
   */
  namesAny(topic: string, test: (deviceId: string) => boolean): boolean;
  /**
   * The device a topic names (undefined: named in the payload; null: no source's topic) and its
   * {@link namesAny}, worked out in one pass over the sources: asked of every publish.
   */
  claimsOn(
    topic: string,
    test: (deviceId: string) => boolean,
  ): { device: string | null | undefined; namesAny: boolean };
  /**
   * Whether a subscription filter lies under a configured source's topic prefix (the literal
   * levels before its first wildcard: `zigbee2mqtt/+/set` under `zigbee2mqtt/#`): what a bridge
   * may read. False for a filter that starts with a wildcard.
   */
  coversFilter?(filter: string): boolean;
  /** {@link coversFilter} of a topic, cheaply: what a bridge may be sent besides the contract's. */
  coversTopic(topic: string): boolean;
  /** Told of a publish on a topic no source (and not the contract) names, before it is refused. */
  unmatched?(topic: string): void;
}
const NO_SOURCES: SourceTopics = {
  namesAny: () => false,
  claimsOn: () => ({ device: null, namesAny: false }),
  coversTopic: () => false,
};

/**
 * A publish on an ingest source's topic (Tasmota, zigbee2mqtt, …): allowed like the contract's
 * when the device its topic names is one the identity owns; a source that names devices in the
 * payload only for identities not bound to one device (anonymous devices, bridges, services),
 * since the broker cannot read the payload's names. Refused whenever any other claim on the topic
 * (an announced entity, another source) names a device the identity does not own: a topic two
 * ways name is written only by who owns both. Within the contract's size; retained within
 * MAX_RETAINED_BYTES (firmware retains its LWT and availability).
 */
function sourceRefusal(
  topic: string,
  payloadBytes: number,
  retain: boolean,
  identity: BrokerIdentity,
  authority: Reserved,
  sources: SourceTopics,
): PublishRefusal | null {
  const claims = sources.claimsOn(topic, (id) => !ownsDevice(identity, authority, id));
  const device = claims.device;
  if (device === null) {
    sources.unmatched?.(topic);
    return { reason: 'mqtt_topic_unread', detail: `publish to ${quote(topic)}`, unread: true };
  }
  const allowed =
    (device === undefined ? identity.kind !== 'device' : ownsDevice(identity, authority, device)) &&
    !claims.namesAny;
  if (!allowed) return { reason: 'mqtt_publish_acl', detail: `publish to ${quote(topic)}` };
  if (payloadBytes > LIMITS.maxPayloadBytes)
    return { reason: 'mqtt_oversize', detail: `${payloadBytes}-byte payload on ${quote(topic)}` };
  if (retain && payloadBytes > MAX_RETAINED_BYTES)
    return {
      reason: 'mqtt_retain',
      detail: `${payloadBytes}-byte retained payload on ${quote(topic)}`,
    };
  return null;
}

/**
 * What a connection may subscribe to: one device's own topics, `devices/{id}/…` with a literal
 * id its identity owns ({@link ownsDevice}) — no `#`, no wildcard across devices, no `$SYS`; a
 * bridge also any filter under an ingest source's topic prefix (zigbee2mqtt's `zigbee2mqtt/#`
 * with that preset on), never one that starts with a wildcard or `$`, and it is never sent what
 * a device with credentials publishes there ({@link forwardAllowed}).
 */
export function subscriptionAllowed(
  filter: string,
  identity: BrokerIdentity = ANONYMOUS,
  authority: Reserved = NOTHING_RESERVED,
  sources: SourceTopics = NO_SOURCES,
): boolean {
  if (
    identity.kind === 'bridge' &&
    !filter.startsWith('$') &&
    sources.coversFilter?.(filter) === true
  )
    return true;
  const device = contractDeviceOf(filter);
  return (
    device !== null &&
    // The simulator publishes only: it has nothing to read.
    identity.kind !== 'service' &&
    ownsDevice(identity, authority, device)
  );
}

const CONTRACT_PREFIX = `${TOPIC_ROOT}/`;

/**
 * The device of a contract filter or topic, `devices/{valid id}/{more}` (the id literal, the
 * third level not empty), else null. Without splitting: {@link forwardAllowed} asks it per message.
 */
function contractDeviceOf(topic: string): string | null {
  if (!topic.startsWith(CONTRACT_PREFIX)) return null;
  const end = topic.indexOf('/', CONTRACT_PREFIX.length);
  if (end < 0 || end + 1 >= topic.length || topic.charCodeAt(end + 1) === 47) return null;
  const device = topic.slice(CONTRACT_PREFIX.length, end);
  return isValidId(device) ? device : null;
}

type Reserved = Pick<BrokerAuthority, 'isReserved'>;
const NOTHING_RESERVED: Reserved = { isReserved: () => false };

/**
 * The device ids an identity may publish under: a device its own id only; the simulator its
 * fleet's; an anonymous client and a bridge any id. A reserved id (one with credentials, live or
 * revoked) belongs to its device alone, so neither an anonymous client, a bridge nor the
 * simulator can speak for it.
 */
export function ownsDevice(
  identity: BrokerIdentity,
  authority: Reserved,
  deviceId: string,
): boolean {
  if (identity.kind === 'device') return deviceId === identity.deviceId;
  if (identity.kind === 'service' && !identity.mayPublishFor(deviceId)) return false;
  return !authority.isReserved(deviceId);
}

/**
 * Whether a message on `topic` may be sent to a connection of `identity`: what that identity may
 * read, the rule of {@link subscriptionAllowed} applied to the topic itself. A device its own
 * `devices/{id}/…`; an anonymous client those of ids without credentials; a bridge those too, and
 * topics under a configured source's prefix that no claim names a device with credentials by;
 * the simulator nothing. Checked on every message, not only at SUBSCRIBE: Aedes keys a persistent
 * session by client id alone and lets any identity resume one nobody holds, sending what was
 * queued for the filters of whoever left it (and it stores a SUBSCRIBE's refused filters beside
 * its granted ones), so the filters a message matched say nothing of who receives it.
 */
export function forwardAllowed(
  topic: string,
  identity: BrokerIdentity,
  authority: Reserved,
  sources: SourceTopics = NO_SOURCES,
): boolean {
  if (identity.kind === 'service') return false;
  const device = contractDeviceOf(topic);
  if (device !== null) return ownsDevice(identity, authority, device);
  return (
    identity.kind === 'bridge' &&
    topic.charCodeAt(0) !== 36 && // '$'
    sources.coversTopic(topic) &&
    // Every claim, not only the first: no other name for a topic may hide a device's own.
    !sources.namesAny(topic, (id) => authority.isReserved(id))
  );
}

/**
 * Follows the MQTT framing of one connection's incoming bytes (fixed header, remaining
 * length, body) without buffering any of it, and reports the first packet whose remaining
 * length is over the bound — from its first bytes, so an oversize packet is never buffered.
 */
export class MqttFrameGuard {
  /** 0: expecting a fixed header byte; 1: reading the remaining length; 2: skipping the body. */
  private state = 0;
  private length = 0;
  private multiplier = 1;
  private skip = 0;

  constructor(private readonly maxRemainingBytes: number) {}

  /** Feed the next bytes; returns the (lower bound of the) oversize remaining length, or -1. */
  feed(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 2) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.state = 0;
        continue;
      }
      const byte = chunk[i++];
      if (this.state === 0) {
        this.state = 1;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      // MQTT 3.1.1 §2.2.3: 7 bits per byte, least significant first, high bit = more follows.
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (this.length > this.maxRemainingBytes) return this.length;
      if (byte & 0x80) continue;
      this.skip = this.length;
      this.state = this.length === 0 ? 0 : 2;
    }
    return -1;
  }
}

/** How long the broker has to close a connection it refuses itself before the guard does. */
const BROKER_CLOSE_GRACE_MS = 1000;

/**
 * Closes `socket` (an MQTT connection already handed to Aedes) as soon as it starts a packet
 * over MAX_MQTT_PACKET_BYTES, and counts it. Aedes reads the socket in paused mode, so this
 * `data` listener sees each chunk as Aedes reads it and does not change the flow. While
 * `brokerRefuses()` is true (a connected MQTT 5 client: Aedes enforces the same bound and
 * answers DISCONNECT 0x95, Packet too large) the close is left to Aedes, with a short grace.
 */
export function guardPacketSize(
  socket: Socket,
  counters: SecurityCounters,
  brokerRefuses: () => boolean = () => false,
): void {
  const guard = new MqttFrameGuard(MAX_MQTT_PACKET_BYTES);
  const check = (chunk: Buffer): void => {
    const oversize = guard.feed(chunk);
    if (oversize < 0) return;
    socket.off('data', check);
    counters.refuse(
      'mqtt_oversize',
      `${oversize}+ byte MQTT packet from ${socket.remoteAddress ?? 'a client'}`,
    );
    if (!brokerRefuses()) socket.destroy();
    else setTimeout(() => socket.destroy(), BROKER_CLOSE_GRACE_MS).unref();
  };
  socket.on('data', check);
}

/**
 * Aedes ACL hooks, per connection identity (security/broker-auth.ts): {@link publishRefusal}
 * on every publish, {@link subscriptionAllowed} on every subscription (a refused one is
 * granted QoS 128, or 0x87 in MQTT 5, and the connection stays) and {@link forwardAllowed} on
 * every message sent to a subscriber, each limited to the ids {@link ownsDevice} allows. A
 * refused publish, counted either way:
 * - from an MQTT 5 sender: PUBACK 0x87, Not authorized, with the refusal as reason string; the
 *   connection stays;
 * - from an MQTT 3.1.1 sender, which has no negative PUBACK (§3.3.5: acknowledge, or close):
 *   on a topic Pulse does not read, acknowledged as usual and dropped (sent to DROPPED_TOPIC,
 *   not retained), since real firmware publishes such topics by default (Tasmota's INFO1 and
 *   discovery, ESPHome's debug log, zigbee2mqtt's bridge topics) and would otherwise reconnect
 *   in a loop and never deliver a reading; from a bridge, whatever the refusal, the same way
 *   ({@link droppedNotClosed}); anything else (another device's topic, over a size bound,
 *   retained telemetry) closes the connection.
 * Owns the ACL decisions; the broker repository owns the broker.
 */
export function brokerHooks(
  counters: SecurityCounters,
  authority: Reserved,
  sources: SourceTopics = NO_SOURCES,
): Pick<AedesOptions, 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'> {
  return {
    authorizePublish: (client, packet, callback) => {
      const identity = identityOf(client);
      const refusal = publishRefusal(
        packet.topic,
        Buffer.byteLength(packet.payload),
        packet.retain,
        identity,
        authority,
        sources,
      );
      if (!refusal) return callback(null);
      counters.refuse(
        refusal.reason,
        `${refusal.detail} by ${clientName(client)} (${describeIdentity(identity)})`,
      );
      if (client && client.version < 5 && droppedNotClosed(refusal, identity)) {
        // Acknowledged by Aedes as any allowed publish; it reaches nobody and is not kept.
        packet.topic = DROPPED_TOPIC;
        packet.retain = false;
        return callback(null);
      }
      callback(new Error(refusal.detail));
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const identity = identityOf(client);
      if (subscriptionAllowed(subscription.topic, identity, authority, sources))
        return callback(null, subscription);
      counters.refuse(
        'mqtt_subscribe_acl',
        `subscription to ${quote(subscription.topic)} by ${clientName(client)} (${describeIdentity(identity)})`,
      );
      callback(null, null);
    },
    // Per message and subscriber (retained ones and a resumed session's queue included): a
    // WeakMap read, a few string compares and a reserved-id lookup (a bridge's source topics:
    // its sources' claims too). Not counted: nothing was asked for that one message. The
    // ingest's own in-process subscriptions never come here.
    authorizeForward: (client, packet) =>
      forwardAllowed(packet.topic, identityOf(client), authority, sources) ? packet : null,
  };
}

function clientName(client: Client | null): string {
  return client ? `client ${quote(client.id)}` : 'a Last Will';
}

import { metaTopic, quote, statusTopic } from '@pulse/protocol';
import type { AedesOptions, PublishPacket } from 'aedes';
import { SecurityCounters } from './security-counters.service';

type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;

/** What the broker's store takes to forget a retained message (aedes-persistence's contract). */
export interface RetainedStore {
  storeRetained(packet: PublishPacket): Promise<void>;
}

const EMPTY = Buffer.alloc(0);

/**
 * How many topics the embedded broker keeps a retained message for. Aedes keeps one per topic
 * for ever and replays it to every matching subscriber; the ACL already allows retained
 * messages only on `devices/{id}/status|meta` within 8 KiB (broker-guard.ts), but made-up ids
 * are free to invent, so the number of topics is bounded here: a new retained topic at the
 * bound is delivered like any message but not kept (`retain` cleared), counted
 * `mqtt_retained_full`; an empty retained payload (a clear) always goes through and frees its
 * topic. When the registry evicts an idle device, {@link forgetDevice} clears its status and
 * meta, so evicted flood ids give their room back.
 *
 * Owns the set of retained topics and that policy; who may retain what is broker-guard's, and
 * the hook is the broker's (embedded-broker.repository.ts).
 */
export class RetainedBound {
  private readonly topics = new Set<string>();

  constructor(
    private readonly counters: SecurityCounters,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.topics.size;
  }

  /** `authorize` (ACL and rate) first; a publish it allows is then held to the bound. */
  guard(authorize: AuthorizePublish): AuthorizePublish {
    return (client, packet, callback) =>
      authorize(client, packet, (error) => {
        if (!error && packet.retain) this.admit(packet);
        callback(error);
      });
  }

  /** Clears the retained status and meta of a device the registry forgot. */
  forgetDevice(deviceId: string, store: RetainedStore | undefined): void {
    for (const topic of [statusTopic(deviceId), metaTopic(deviceId)]) {
      if (!this.topics.delete(topic) || !store) continue;
      store
        .storeRetained({ cmd: 'publish', topic, payload: EMPTY, qos: 0, retain: true, dup: false })
        .catch(() => undefined);
    }
  }

  private admit(packet: PublishPacket): void {
    const topic = packet.topic;
    if (packet.payload.length === 0) {
      this.topics.delete(topic);
      return;
    }
    if (this.topics.has(topic)) return;
    if (this.topics.size >= this.max) {
      packet.retain = false;
      this.counters.refuse(
        'mqtt_retained_full',
        `retained message on ${quote(topic)} delivered but not kept: ${this.max} topics retained`,
      );
      return;
    }
    this.topics.add(topic);
  }
}

import {
  DecodedMessage,
  DeviceMeta,
  HaEntity,
  HaSkipReason,
  ReceiveClock,
  SkippedField,
  TemplateInput,
  decodeHaDiscovery,
  decodeTelemetry,
  haAvailable,
  haDiscoveryKey,
  haStateValue,
  quote,
} from '@pulse/protocol';
import type { Routed } from './source-router';

/** Entities discovered at once (docs/limits.md): a new one beyond is refused, counted `limit`. */
export const MAX_DISCOVERED_ENTITIES = 2000;
/** Availability messages kept from before their announcement (oldest forgotten first). */
const AWAITING_KEPT = 1024;
/** Distinct unsupported templates listed in /api/stats. */
const TEMPLATES_LISTED = 10;

export const HA_SOURCE = 'homeassistant';

/**
 * Why an announcement was not taken, beyond the decoder's reasons: `limit` (the entity bound);
 * `claimed_topic`, a state topic another source already names a device by (read that way, not
 * re-mapped; an availability topic so named is only left out of the entity; the contract's
 * `devices/…` are `invalid` already); `reserved`, a device id with its own credentials (only that
 * device speaks for it, and a device never announces: announcements are payload-named).
 */
export type DiscoverySkip = HaSkipReason | 'limit' | 'claimed_topic' | 'reserved';

/**
 * What discovery may not take (the router answers, from its other sources and the device
 * credentials): an announcement is payload-named, so anyone who may publish one (a bridge, an
 * anonymous client) would otherwise re-map any topic to a device of their choosing.
 */
export interface DiscoveryBounds {
  /**
   * A topic another source names a device by. (The contract's `devices/…` are refused before,
   * by the announcement decoder.)
   */
  claimed(topic: string): boolean;
  /** A device id with (or that had) its own credentials. */
  isReserved(deviceId: string): boolean;
}
const UNBOUNDED: DiscoveryBounds = { claimed: () => false, isReserved: () => false };

/** `sources.discovery` of /api/stats. */
export interface DiscoveryStats {
  entities: number;
  limit: number;
  announcements: number;
  removed: number;
  skipped: Partial<Record<DiscoverySkip, number>>;
  unsupportedTemplates: string[];
}

/**
 * Home Assistant MQTT discovery, the stateful half (the announcements are decoded by the
 * contract library's `decodeHaDiscovery`): the entities announced, the exact state and
 * availability topics they name (each subscribed while an entity names it), each device's meta
 * (name, units of its entities) and status (its availability topics, per HA's
 * `availability_mode`). Availability words a device published before announcing itself (a
 * birth message, a retained LWT) are remembered, bounded, and applied once it does.
 *
 * Owns the discovered entities and their topics; must not subscribe (it tells its listener which
 * topics to add or drop), apply readings (the ingest does) nor judge who may publish (the broker
 * guard asks {@link deviceOf}).
 */
export class HaDiscovery {
  private readonly entities = new Map<string, HaEntity>();
  /** Exact topic → entity keys reading it, per role. */
  private readonly byState = new Map<string, Set<string>>();
  private readonly byAvailability = new Map<string, Set<string>>();
  /** Last availability message per topic (announced or awaiting its announcement), in order. */
  private readonly availabilityText = new Map<string, { text: string; seq: number }>();
  private seq = 0;
  private readonly counts = { announcements: 0, removed: 0 };
  private readonly skips: Partial<Record<DiscoverySkip, number>> = {};
  private readonly templates = new Set<string>();
  private readonly topicListeners: ((added: string[], removed: string[]) => void)[] = [];

  constructor(private readonly bounds: DiscoveryBounds = UNBOUNDED) {}

  /** Told of exact topics an entity starts or stops naming (the caller subscribes them). */
  onTopics(listener: (added: string[], removed: string[]) => void): void {
    this.topicListeners.push(listener);
  }

  /** The exact state and availability topics named now. */
  topics(): string[] {
    return [...new Set([...this.byState.keys(), ...this.byAvailability.keys()])];
  }

  /**
   * The device a discovered topic speaks for (for the broker's ACL): the one device when all its
   * entities belong to one, undefined when several share it (zigbee2mqtt's bridge state), null
   * when no entity names the topic.
   */
  deviceOf(topic: string): string | null | undefined {
    const keys = this.byState.get(topic) ?? this.byAvailability.get(topic);
    if (!keys) return null;
    const devices = new Set([...keys].map((k) => this.entities.get(k)?.deviceId));
    return devices.size === 1 ? [...devices][0] : undefined;
  }

  /** Whether an entity reading `topic` (its state or an availability) is of a device `test` holds for. */
  namesAny(topic: string, test: (deviceId: string) => boolean): boolean {
    for (const keys of [this.byState.get(topic), this.byAvailability.get(topic)])
      for (const key of keys ?? []) {
        const device = this.entities.get(key)?.deviceId;
        if (device !== undefined && test(device)) return true;
      }
    return false;
  }

  /**
   * Ends every entity of `deviceId`, as an empty announcement would (its topics dropped), counted
   * `skipped.reserved`: the id has just been given credentials, and an entity announced before
   * (by anyone: announcements are payload-named) would otherwise keep speaking for it, refusing
   * the topics to whoever publishes there, until a restart. Returns how many ended.
   */
  endDevice(deviceId: string): number {
    const routed: Routed = { source: HA_SOURCE, messages: [], skipped: [], meta: new Map() };
    let ended = 0;
    for (const [key, entity] of [...this.entities])
      if (entity.deviceId === deviceId) {
        this.update(key, null, routed);
        this.skip('reserved');
        ended++;
      }
    return ended;
  }

  /** A message on a discovery topic or a discovered one, else null. */
  route(topic: string, text: string, now: number, clock?: ReceiveClock): Routed | null {
    if (haDiscoveryKey(topic) !== null) return this.announce(topic, text);
    const state = this.byState.get(topic);
    const availability = this.byAvailability.get(topic);
    if (!state && !availability) return null;
    const routed: Routed = { source: HA_SOURCE, messages: [], skipped: [], meta: new Map() };
    const input = new TemplateInput(text);
    if (availability) {
      this.remember(topic, text);
      routed.messages.push(...this.statusOf(availability));
    }
    if (state) this.readState(state, input, now, routed, clock);
    return routed;
  }

  /** An availability word on a topic no announcement names yet (see the class comment). */
  remember(topic: string, text: string): void {
    this.availabilityText.delete(topic);
    if (this.availabilityText.size >= AWAITING_KEPT) {
      const oldest = this.availabilityText.keys().next().value;
      if (oldest !== undefined) this.availabilityText.delete(oldest);
    }
    this.availabilityText.set(topic, { text, seq: ++this.seq });
  }

  stats(): DiscoveryStats {
    return {
      entities: this.entities.size,
      limit: MAX_DISCOVERED_ENTITIES,
      ...this.counts,
      skipped: { ...this.skips },
      unsupportedTemplates: [...this.templates],
    };
  }

  private announce(topic: string, text: string): Routed {
    const routed: Routed = { source: HA_SOURCE, messages: [], skipped: [], meta: new Map() };
    const got = decodeHaDiscovery(topic, text);
    if (!got) return routed;
    this.counts.announcements++;
    if (got.kind === 'skipped') {
      this.skip(got.reason);
      if (got.reason === 'template' && this.templates.size < TEMPLATES_LISTED)
        this.templates.add(got.detail);
      // A bad update of a known entity ends it: HA too stops reading what it cannot parse.
      if (this.entities.has(got.key)) this.update(got.key, null, routed);
      // Another component (a switch, a light) is not an error: counted only.
      if (got.reason !== 'component')
        routed.messages.push({
          kind: 'rejected',
          deviceId: null,
          rejections: [{ reason: 'shape', detail: `discovery ${quote(topic)}: ${got.detail}` }],
        });
      return routed;
    }
    if (got.kind === 'removed') {
      if (this.entities.has(got.key)) this.counts.removed++;
      this.update(got.key, null, routed);
      return routed;
    }
    const refused = this.refusal(got.entity);
    if (refused) {
      this.skip(refused.reason);
      // An update that may not be taken ends the entity, as a bad one does.
      if (this.entities.has(got.entity.key)) this.update(got.entity.key, null, routed);
      // A topic read another way is no error (zigbee2mqtt announcing its own topics while its
      // preset reads them); a reserved id is a refusal, logged with the ingest's rejections.
      if (refused.reason === 'reserved')
        routed.messages.push({
          kind: 'rejected',
          deviceId: null,
          rejections: [{ reason: 'shape', detail: `discovery ${quote(topic)}: ${refused.detail}` }],
        });
      return routed;
    }
    // An availability topic another source reads (esphome's `+/status`, shelly's `+/online` on a
    // gateway's `gw/status`) stays that source's; the entity keeps its state and the rest.
    const entity = {
      ...got.entity,
      availability: got.entity.availability.filter((a) => !this.bounds.claimed(a.topic)),
    };
    if (!this.entities.has(got.entity.key) && this.entities.size >= MAX_DISCOVERED_ENTITIES) {
      this.skip('limit');
      routed.messages.push({
        kind: 'rejected',
        deviceId: got.entity.deviceId,
        rejections: [
          {
            reason: 'shape',
            detail: `discovery ${quote(topic)}: ${MAX_DISCOVERED_ENTITIES} entities already discovered`,
          },
        ],
      });
      return routed;
    }
    this.update(entity.key, entity, routed);
    routed.messages.push(...this.statusOf(new Set([entity.key])));
    return routed;
  }

  /** Why an announced entity may not be taken (see {@link DiscoveryBounds}), or null. */
  private refusal(entity: HaEntity): { reason: DiscoverySkip; detail: string } | null {
    if (this.bounds.isReserved(entity.deviceId))
      return {
        reason: 'reserved',
        detail: `device ${quote(entity.deviceId)} has its own credentials`,
      };
    if (this.bounds.claimed(entity.stateTopic))
      return {
        reason: 'claimed_topic',
        detail: `${quote(entity.stateTopic)} is read by another source`,
      };
    return null;
  }

  private skip(reason: DiscoverySkip): void {
    this.skips[reason] = (this.skips[reason] ?? 0) + 1;
  }

  /** Replace (or with null remove) one entity; its devices' meta and the topic changes follow. */
  private update(key: string, entity: HaEntity | null, routed: Routed): void {
    const before = new Set(this.topics());
    const old = this.entities.get(key);
    if (old) {
      unindex(this.byState, old.stateTopic, key);
      for (const a of old.availability) unindex(this.byAvailability, a.topic, key);
      this.entities.delete(key);
    }
    if (entity) {
      this.entities.set(key, entity);
      index(this.byState, entity.stateTopic, key);
      for (const a of entity.availability) index(this.byAvailability, a.topic, key);
    }
    for (const device of new Set([old?.deviceId, entity?.deviceId])) {
      const meta = device ? this.metaOf(device) : null;
      if (device && meta) routed.messages.push({ kind: 'meta', deviceId: device, meta });
    }
    const after = new Set(this.topics());
    const added = [...after].filter((t) => !before.has(t));
    const removed = [...before].filter((t) => !after.has(t));
    if (added.length || removed.length)
      for (const listener of this.topicListeners) listener(added, removed);
  }

  /** A device's meta from all its entities: its name and each metric's unit. */
  private metaOf(deviceId: string): DeviceMeta | null {
    let name: string | undefined;
    const units: Record<string, string> = {};
    let any = false;
    for (const e of this.entities.values()) {
      if (e.deviceId !== deviceId) continue;
      any = true;
      name ??= e.deviceName;
      if (e.unit) units[e.metric] = e.unit;
    }
    if (!any) return null;
    return { ...(name ? { name } : {}), ...(Object.keys(units).length ? { units } : {}) };
  }

  /** The status of each device among `keys`' entities, from what their topics last said. */
  private statusOf(keys: Set<string>): DecodedMessage[] {
    const out: DecodedMessage[] = [];
    const devices = new Set([...keys].map((k) => this.entities.get(k)?.deviceId));
    for (const device of devices) {
      if (!device) continue;
      const said: { word: 'online' | 'offline'; seq: number }[] = [];
      let mode: HaEntity['availabilityMode'] = 'latest';
      for (const e of this.entities.values()) {
        if (e.deviceId !== device) continue;
        mode = e.availabilityMode;
        for (const a of e.availability) {
          const last = this.availabilityText.get(a.topic);
          const word = last ? haAvailable(a, new TemplateInput(last.text)) : null;
          if (word) said.push({ word, seq: last?.seq ?? 0 });
        }
      }
      if (said.length === 0) continue;
      const latest = said.reduce((a, b) => (b.seq > a.seq ? b : a));
      const online =
        mode === 'all'
          ? said.every((s) => s.word === 'online')
          : mode === 'any'
            ? said.some((s) => s.word === 'online')
            : latest.word === 'online';
      out.push({ kind: 'status', deviceId: device, status: online ? 'online' : 'offline' });
    }
    return out;
  }

  /** One state message: each entity reading it gives one metric of its device's reading. */
  private readState(
    keys: Set<string>,
    input: TemplateInput,
    now: number,
    routed: Routed,
    clock?: ReceiveClock,
  ): void {
    const byDevice = new Map<string, Record<string, number>>();
    for (const key of keys) {
      const e = this.entities.get(key);
      if (!e) continue;
      const value = haStateValue(e, input);
      if (value === null) continue; // not in this message (Tasmota's SENSOR carries several)
      if (typeof value === 'object') {
        routed.skipped.push({ field: e.metric, reason: value.skip } satisfies SkippedField);
        continue;
      }
      let values = byDevice.get(e.deviceId);
      if (!values) byDevice.set(e.deviceId, (values = {}));
      values[e.metric] = value;
    }
    for (const [device, values] of byDevice)
      routed.messages.push(decodeTelemetry(device, { values }, now, undefined, clock));
    if (byDevice.size === 0 && routed.skipped.length > 0)
      routed.messages.push({
        kind: 'rejected',
        deviceId: null,
        rejections: [
          {
            reason: 'empty',
            detail: `discovered state: no number in ${quote(input.text.slice(0, 64))}`,
          },
        ],
      });
  }
}

function index(map: Map<string, Set<string>>, topic: string, key: string): void {
  let keys = map.get(topic);
  if (!keys) map.set(topic, (keys = new Set()));
  keys.add(key);
}

function unindex(map: Map<string, Set<string>>, topic: string, key: string): void {
  const keys = map.get(topic);
  keys?.delete(key);
  if (keys?.size === 0) map.delete(topic);
}

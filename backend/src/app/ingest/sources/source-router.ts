import {
  DecodedMessage,
  DeviceMeta,
  FormatResult,
  LIMITS,
  Rejection,
  SkippedField,
  decodeInflux,
  decodeJson,
  decodeSenml,
  decodeShellyRpc,
  decodeTasmota,
  decodeTelemetry,
  decodeValue,
  decodeZigbee2mqtt,
  nameToId,
  quote,
  ReceiveClock,
  switchValue,
  toId,
  zigbee2mqttTopic,
} from '@pulse/protocol';
import { DiscoveryStats, HaDiscovery } from './ha-discovery';
import { compileFilter, prefixMatcher, topicPrefix } from './mqtt-filter';
import { StartupError } from '../../config/config';
import { loadSources, Source, SourcesConfigError } from './source-spec';

/**
 * Messages of the configured ingest sources into the contract's decoded messages: the first
 * source whose filter matches the topic names the device (topic level, regex group, payload, or
 * zigbee2mqtt friendly name, whose sources read only their kind's topics and set zigbee2mqtt's
 * own aside) and the format reads the payload; every reading then goes through the contract decoder
 * (`decodeTelemetry`), so ids, timestamps and limits are checked exactly as for Pulse's own
 * devices. A field a format cannot read is skipped and reported, never fatal. With the
 * `homeassistant` preset, the exact topics Home Assistant discovery announced fill the rest (see
 * ha-discovery.ts): a topic a preset or source names a device by belongs to it (an announcement
 * is payload-named, so it never re-maps one; decision 0067), and announcements are read on
 * topics no source names a device by.
 *
 * Owns topic → source → decoded messages; must not apply them (the ingest does) nor know brokers.
 */

export interface Routed {
  source: string;
  /** One per device the message spoke for (a SenML pack or Influx lines may name several). */
  messages: DecodedMessage[];
  skipped: SkippedField[];
  /** Fixed meta of the source, units the payload declared, the name its topic gave, per device. */
  meta: Map<string, DeviceMeta>;
  /**
   * A normal firmware message with no readings by design, set aside (counted, not rejected): a
   * Shelly NotifyEvent, zigbee2mqtt's bridge and command topics.
   */
  ignored?: true;
}

interface Compiled {
  source: Source;
  match: (topic: string) => string[] | null;
  regex: RegExp | null;
  /** `device.friendlyName`: the level the name starts at (the filter's `#`); else -1. */
  nameFrom: number;
}

/**
 * What a source makes of a topic its filter matched: the device it names (null: none it can
 * read) and, for a friendly name, that name; `ignored`: zigbee2mqtt's own topic, set aside;
 * `other`: not this source's (a friendly-name source of the other kind), the next one is asked.
 */
type Claim = { device: string | null; name?: string } | 'ignored' | 'other';

const utf8 = new TextDecoder('utf-8', { fatal: true });

const rejected = (deviceId: string | null, reason: Rejection['reason'], detail: string) =>
  ({ kind: 'rejected', deviceId, rejections: [{ reason, detail }] }) as DecodedMessage;

/** What {@link SourceRouter.claimsOn} says of a topic. */
export interface TopicClaims {
  /** As {@link SourceRouter.deviceOf}: the device the topic names, undefined, or null. */
  device: string | null | undefined;
  /** As {@link SourceRouter.namesAny}. */
  namesAny: boolean;
}

/** DI token of the configured router (built from INGEST_PRESETS / INGEST_SOURCES_FILE at boot). */
export const SOURCE_ROUTER = Symbol('SOURCE_ROUTER');

/** The device ids with their own credentials (DeviceCredentialsService): discovery never takes one. */
export interface ReservedIds {
  isReserved(deviceId: string): boolean;
}
const NONE_RESERVED: ReservedIds = { isReserved: () => false };

export class SourceRouter {
  /**
   * The sources of INGEST_PRESETS / INGEST_SOURCES_FILE; a bad file stops the boot with every
   * problem listed (a StartupError, printed without a stack trace). INGEST_PRESETS names are
   * checked with the other variables (config.ts).
   */
  static sourcesOf(config: { INGEST_PRESETS?: string; INGEST_SOURCES_FILE?: string }): Source[] {
    try {
      return loadSources(config.INGEST_PRESETS, config.INGEST_SOURCES_FILE);
    } catch (error) {
      if (!(error instanceof SourcesConfigError)) throw error;
      throw new StartupError(
        `INGEST_SOURCES_FILE: invalid ingest sources:\n${error.problems
          .map((line) => `  ${line}`)
          .join('\n')}`,
      );
    }
  }

  private readonly compiled: Compiled[];
  private readonly unmatchedListeners: ((topic: string) => void)[] = [];
  /** Home Assistant discovery, when a source reads it (the `homeassistant` preset). */
  private readonly discovery: HaDiscovery | null;
  /** The configured sources' topic prefixes, as matchers of subscription filters. */
  private readonly prefixes: ((filter: string) => boolean)[];
  /** The same prefixes for topics, as strings (no allocation per message). */
  private readonly topicPrefixes: { prefix: string; exact: boolean }[];

  constructor(
    sources: readonly Source[],
    private readonly reserved: ReservedIds = NONE_RESERVED,
  ) {
    this.compiled = sources.map((source) => ({
      source,
      match: compileFilter(source.topic),
      regex: 'regex' in source.device ? new RegExp(source.device.regex) : null,
      nameFrom: 'friendlyName' in source.device ? source.topic.split('/').length - 1 : -1,
    }));
    // An announcement is payload-named (a bridge or an anonymous client may publish one): it
    // fills the topics nothing else names, never re-maps one the contract or a source names a
    // device by, nor speaks for an id with credentials (decision 0067).
    this.discovery = sources.some((s) => s.format === 'ha-discovery')
      ? new HaDiscovery({
          claimed: (topic) => this.namedBySource(topic),
          isReserved: (deviceId) => reserved.isReserved(deviceId),
        })
      : null;
    this.prefixes = sources.flatMap((s) => prefixMatcher(s.topic) ?? []);
    this.topicPrefixes = sources.flatMap((s) => topicPrefix(s.topic) ?? []);
  }

  /** The topic filters to subscribe (deduplicated), the discovered topics included. */
  filters(): string[] {
    const fixed = this.compiled.map((c) => c.source.topic);
    return [...new Set([...fixed, ...this.uncovered(this.discovery?.topics() ?? [])])];
  }

  /**
   * Told of discovered topics to subscribe and to drop as announcements come and go (only those
   * no configured filter covers already: a broker would deliver those messages twice).
   */
  onFilters(listener: (added: string[], removed: string[]) => void): void {
    this.discovery?.onTopics((added, removed) => {
      const a = this.uncovered(added);
      const r = this.uncovered(removed);
      if (a.length || r.length) listener(a, r);
    });
  }

  /**
   * `deviceId` has just been given credentials (or new ones): discovery ends the entities it took
   * for it before, which the reserved check at announcement time did not see. Returns how many.
   */
  endDevice(deviceId: string): number {
    return this.discovery?.endDevice(deviceId) ?? 0;
  }

  /** What Home Assistant discovery found and skipped; undefined when it is off. */
  discoveryStats(): DiscoveryStats | undefined {
    return this.discovery?.stats();
  }

  private uncovered(topics: string[]): string[] {
    return topics.filter((t) => !this.compiled.some((c) => c.match(t)));
  }

  /**
   * The device a topic names under its source, or undefined when its source takes the device
   * from the payload; null when no source matches. (The broker guard asks it, with namesAny, of
   * {@link claimsOn}.)
   */
  deviceOf(topic: string): string | null | undefined {
    return this.claimsOn(topic, () => false).device;
  }

  /**
   * Whether any claim on `topic` names a device `test` holds for: every device an announced
   * entity reading it belongs to, and the device each source that names devices by topic reads
   * it as (not only the first, which {@link deviceOf} answers). The broker guard refuses a
   * publish, and withholds a message, when one of them is a device the identity may not speak
   * for or read (decision 0067).
   */
  namesAny(topic: string, test: (deviceId: string) => boolean): boolean {
    return this.discovery?.namesAny(topic, test) === true || this.sourcesName(topic, test);
  }

  /**
   * {@link deviceOf} and {@link namesAny} of one topic together, each source's match and claim
   * worked out once (asked one after the other, the first source's were worked out twice): what
   * the broker guard asks of every publish on a topic that is not the contract's.
   */
  claimsOn(topic: string, test: (deviceId: string) => boolean): TopicClaims {
    let device: string | null | undefined = this.discovery?.deviceOf(topic) ?? null;
    let decided = device !== null;
    let names = this.discovery?.namesAny(topic, test) === true;
    let awaiting = false;
    for (const c of this.compiled) {
      if (decided && names) break;
      const levels = c.match(topic);
      if (!levels) continue;
      // A discovery or birth topic: any device may announce itself (named in the payload).
      if (c.source.format === 'ha-discovery') {
        awaiting = true;
        continue;
      }
      const claim = 'payload' in c.source.device ? 'payload' : this.claim(c, topic, levels);
      if (claim === 'other') continue;
      if (!decided) {
        // The first source that reads the topic says which device it is (deviceOf); zigbee2mqtt's
        // bridge and command topics are the bridge's to publish (anonymous or a service, like a
        // payload-named source), never a device credential's.
        device = typeof claim === 'object' ? claim.device : undefined;
        decided = true;
      }
      // Every source's device (namesAny).
      if (!names && typeof claim === 'object' && claim.device !== null) names = test(claim.device);
    }
    if (!decided) device = awaiting ? undefined : null;
    return { device, namesAny: names };
  }

  /** Whether a source that names devices by topic reads `topic` as a device `test` holds for. */
  private sourcesName(topic: string, test: (deviceId: string) => boolean): boolean {
    for (const c of this.compiled) {
      if (c.source.format === 'ha-discovery' || 'payload' in c.source.device) continue;
      const levels = c.match(topic);
      if (!levels) continue;
      const claim = this.claim(c, topic, levels);
      if (typeof claim === 'object' && claim.device !== null && test(claim.device)) return true;
    }
    return false;
  }

  /**
   * A topic a source names a device by: not discovery's to map. (The contract's `devices/…` never
   * is: the announcement decoder refuses those topics, `isReadableTopic`.)
   */
  private namedBySource(topic: string): boolean {
    return this.sourcesName(topic, () => true);
  }

  /**
   * Whether a subscription filter lies under a configured source's topic prefix (see
   * prefixMatcher): what a bridge on the embedded broker may read, such as zigbee2mqtt's own
   * `zigbee2mqtt/#` with that preset, or `homeassistant/status` with the `homeassistant` one.
   * Topics discovery announced are not prefixes: they are read where announced, not subscribed.
   */
  coversFilter(filter: string): boolean {
    return this.prefixes.some((covers) => covers(filter));
  }

  /**
   * Whether a topic lies under a configured source's topic prefix, as {@link coversFilter} says
   * of a filter without wildcards, but with string compares only: the broker guard asks it for
   * every message it sends a bridge (what a bridge's own subscriptions may have matched).
   */
  coversTopic(topic: string): boolean {
    for (const { prefix, exact } of this.topicPrefixes)
      if (
        topic === prefix ||
        (!exact && topic.startsWith(prefix) && topic.charCodeAt(prefix.length) === 47) // '/'
      )
        return true;
    return false;
  }

  /** The embedded broker refused a publish on a topic nothing names (the ingest counts it). */
  unmatched(topic: string): void {
    for (const listener of this.unmatchedListeners) listener(topic);
  }

  onUnmatched(listener: (topic: string) => void): void {
    this.unmatchedListeners.push(listener);
  }

  /** Null when no source matches `topic`. */
  route(
    topic: string,
    payload: Uint8Array | string,
    now: number,
    clock?: ReceiveClock,
  ): Routed | null {
    if (this.discovery) {
      const text = textOf(payload);
      const routed = text === null ? null : this.discovery.route(topic, text, now, clock);
      if (routed) return routed;
      // A birth / availability word before its device's announcement: kept for it (whichever
      // source reads the topic now, whatever the presets' order).
      if (text !== null && text.length <= 256 && this.awaitsDiscovery(topic))
        this.discovery.remember(topic, text);
    }
    let awaiting: Routed | null = null;
    for (const c of this.compiled) {
      const levels = c.match(topic);
      if (!levels) continue;
      if (c.source.format !== 'ha-discovery') {
        const claim = 'payload' in c.source.device ? null : this.claim(c, topic, levels);
        if (claim === 'other') continue;
        if (claim === 'ignored')
          return {
            source: c.source.name,
            messages: [],
            skipped: [],
            meta: new Map(),
            ignored: true,
          };
        return this.decode(c, topic, levels, payload, now, clock, claim);
      }
      awaiting ??= { source: c.source.name, messages: [], skipped: [], meta: new Map() };
    }
    return awaiting;
  }

  private awaitsDiscovery(topic: string): boolean {
    return this.compiled.some((c) => c.source.format === 'ha-discovery' && c.match(topic) !== null);
  }

  /** The device a topic names under a source that names devices in the topic. */
  private claim(c: Compiled, topic: string, levels: string[]): Claim {
    const from = c.source.device;
    if ('segment' in from) return { device: toId(levels[from.segment] ?? '') };
    if ('regex' in from) {
      const m = c.regex?.exec(topic);
      return { device: m?.[from.group] !== undefined ? toId(m[from.group]) : null };
    }
    if (c.nameFrom < 0) return { device: null };
    const said = zigbee2mqttTopic(levels.slice(c.nameFrom));
    if (said === null) return { device: null };
    if (said.role === 'ignored') return 'ignored';
    if ((said.role === 'availability') !== (c.source.kind === 'status')) return 'other';
    return { device: nameToId(said.name), name: said.name.slice(0, LIMITS.maxNameLength) };
  }

  /** `claim`: the device the topic names (null when the source names devices in the payload). */
  private decode(
    c: Compiled,
    topic: string,
    levels: string[],
    payload: Uint8Array | string,
    now: number,
    clock: ReceiveClock | undefined,
    claim: { device: string | null; name?: string } | null,
  ): Routed {
    const { source } = c;
    const routed: Routed = { source: source.name, messages: [], skipped: [], meta: new Map() };
    const fromPayload = claim === null;
    const topicDevice = claim?.device ?? null;
    if (!fromPayload && !topicDevice) {
      routed.messages.push(
        rejected(null, 'topic', `no device id in ${quote(topic)} for source ${source.name}`),
      );
      return routed;
    }
    const size = typeof payload === 'string' ? payload.length : payload.byteLength;
    if (size > LIMITS.maxPayloadBytes) {
      routed.messages.push(
        rejected(
          topicDevice,
          'oversize',
          `payload of ${size} bytes exceeds ${LIMITS.maxPayloadBytes}`,
        ),
      );
      return routed;
    }
    let text: string;
    try {
      text = typeof payload === 'string' ? payload : utf8.decode(payload);
    } catch {
      routed.messages.push(rejected(topicDevice, 'encoding', 'payload is not valid UTF-8'));
      return routed;
    }
    if (source.kind === 'status') {
      const status = statusOf(text);
      routed.messages.push(
        status && topicDevice
          ? { kind: 'status', deviceId: topicDevice, status }
          : rejected(topicDevice, 'status', `status ${quote(text)} is not online/offline`),
      );
      return routed;
    }
    const result = this.format(source, levels, text, now);
    routed.skipped = result.skipped;
    if (result.error) {
      routed.messages.push(rejected(topicDevice, 'json', `${source.format}: ${result.error}`));
      return routed;
    }
    // Readings per device, in the contract's JSON shape, for the contract decoder to check.
    const byDevice = new Map<string, { ts?: number; values: Record<string, number> }[]>();
    for (const r of result.readings) {
      const device = fromPayload ? r.device : topicDevice;
      if (!device) {
        routed.messages.push(
          rejected(null, 'shape', `${source.name}: no device named in the payload`),
        );
        continue;
      }
      // Whoever may publish on a payload-named topic (an anonymous client, a bridge) names its
      // device in the payload; the broker's ACL cannot see it. An id with credentials of its own
      // is that device's alone (decision 0067), as on the topics that name it.
      if (fromPayload && this.reserved.isReserved(device)) {
        routed.messages.push(
          rejected(
            device,
            'shape',
            `${source.name}: ${quote(device)} has its own credentials; a source that names devices in the payload may not speak for it`,
          ),
        );
        continue;
      }
      let list = byDevice.get(device);
      if (!list) byDevice.set(device, (list = []));
      list.push(r.ts !== undefined ? { ts: r.ts, values: r.values } : { values: r.values });
    }
    if (result.ignored) routed.ignored = true;
    else if (byDevice.size === 0 && routed.messages.length === 0 && topicDevice)
      routed.messages.push(rejected(topicDevice, 'empty', `${source.format}: no numeric field`));
    for (const [device, readings] of byDevice) {
      routed.messages.push(
        // Readings without a time get the receive time, per device monotonic (as the contract's).
        decodeTelemetry(
          device,
          readings.length === 1 ? readings[0] : readings,
          now,
          undefined,
          clock,
        ),
      );
      // Fixed meta of the source, units the format read (the source's own win: configured), the
      // name the topic gave (most messages have none of these).
      const name = claim?.name;
      if (!source.meta && !result.units && name === undefined) continue;
      const units = { ...result.units, ...source.meta?.units };
      const meta: DeviceMeta = {
        ...(name !== undefined ? { name } : {}),
        ...(source.meta?.group ? { group: source.meta.group } : {}),
        ...(Object.keys(units).length ? { units } : {}),
      };
      if (Object.keys(meta).length) routed.meta.set(device, meta);
    }
    return routed;
  }

  private format(source: Source, levels: string[], text: string, now: number): FormatResult {
    switch (source.format) {
      case 'json':
        return decodeJson(text, {
          timestampField: source.timestamp?.field,
          timestampFormat: source.timestamp?.format,
        });
      case 'value': {
        const metric =
          typeof source.metric === 'object'
            ? (toId(levels[source.metric.segment] ?? '') ?? 'value')
            : (source.metric ?? 'value');
        return decodeValue(text, metric);
      }
      case 'senml':
        return decodeSenml(text, now);
      case 'influx':
        return decodeInflux(text, { precision: source.precision, deviceTags: source.deviceTags });
      case 'tasmota':
        return decodeTasmota(text);
      case 'zigbee2mqtt':
        return decodeZigbee2mqtt(text, now);
      case 'shelly-rpc':
        return decodeShellyRpc(text);
      case 'ha-discovery':
        return { readings: [], skipped: [] }; // routed before any format (see route)
    }
  }
}

/** A payload as text, or null when it is too large or not UTF-8 (a format's decoder says why). */
function textOf(payload: Uint8Array | string): string | null {
  if (typeof payload === 'string') return payload;
  if (payload.byteLength > LIMITS.maxPayloadBytes) return null;
  try {
    return utf8.decode(payload);
  } catch {
    return null;
  }
}

/** A status payload: `online`/`Offline`/`true`/`0`… or zigbee2mqtt's `{"state": "online"}`. */
function statusOf(text: string): 'online' | 'offline' | null {
  let word = text.trim();
  if (word.startsWith('{')) {
    try {
      const body = JSON.parse(word) as Record<string, unknown>;
      word = typeof body['state'] === 'string' ? body['state'] : '';
    } catch {
      return null;
    }
  }
  const on = word === '1' ? 1 : word === '0' ? 0 : switchValue(word);
  return on === null ? null : on === 1 ? 'online' : 'offline';
}

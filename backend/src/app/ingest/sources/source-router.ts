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
  decodeTelemetry,
  decodeValue,
  quote,
  ReceiveClock,
  switchValue,
  toId,
} from '@pulse/protocol';
import { compileFilter } from './mqtt-filter';
import { loadSources, Source } from './source-spec';

/**
 * Messages of the configured ingest sources into the contract's decoded messages: the first
 * source whose filter matches the topic names the device (topic level, regex group or payload)
 * and the format reads the payload; every reading then goes through the contract decoder
 * (`decodeTelemetry`), so ids, timestamps and limits are checked exactly as for Pulse's own
 * devices. A field a format cannot read is skipped and reported, never fatal.
 *
 * Owns topic → source → decoded messages; must not apply them (the ingest does) nor know brokers.
 */

export interface Routed {
  source: string;
  /** One per device the message spoke for (a SenML pack or Influx lines may name several). */
  messages: DecodedMessage[];
  skipped: SkippedField[];
  /** Fixed meta of the source and units the payload declared, per device. */
  meta: Map<string, DeviceMeta>;
}

interface Compiled {
  source: Source;
  match: (topic: string) => string[] | null;
  regex: RegExp | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const rejected = (deviceId: string | null, reason: Rejection['reason'], detail: string) =>
  ({ kind: 'rejected', deviceId, rejections: [{ reason, detail }] }) as DecodedMessage;

/** DI token of the configured router (built from INGEST_PRESETS / INGEST_SOURCES_FILE at boot). */
export const SOURCE_ROUTER = Symbol('SOURCE_ROUTER');

export class SourceRouter {
  /** The router of INGEST_PRESETS / INGEST_SOURCES_FILE (throws, listing every problem, when bad). */
  static fromConfig(config: { INGEST_PRESETS?: string; INGEST_SOURCES_FILE?: string }) {
    return new SourceRouter(loadSources(config.INGEST_PRESETS, config.INGEST_SOURCES_FILE));
  }

  private readonly compiled: Compiled[];
  private readonly unmatchedListeners: ((topic: string) => void)[] = [];

  constructor(sources: readonly Source[]) {
    this.compiled = sources.map((source) => ({
      source,
      match: compileFilter(source.topic),
      regex: 'regex' in source.device ? new RegExp(source.device.regex) : null,
    }));
  }

  /** The topic filters to subscribe (deduplicated). */
  filters(): string[] {
    return [...new Set(this.compiled.map((c) => c.source.topic))];
  }

  /**
   * The device a topic names under its source, or undefined when its source takes the device
   * from the payload; null when no source matches. (The broker guard asks this before accepting.)
   */
  deviceOf(topic: string): string | null | undefined {
    for (const c of this.compiled) {
      const levels = c.match(topic);
      if (levels)
        return 'payload' in c.source.device ? undefined : this.topicDevice(c, topic, levels);
    }
    return null;
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
    for (const c of this.compiled) {
      const levels = c.match(topic);
      if (levels) return this.decode(c, topic, levels, payload, now, clock);
    }
    return null;
  }

  private topicDevice(c: Compiled, topic: string, levels: string[]): string | null {
    const from = c.source.device;
    if ('segment' in from) return toId(levels[from.segment] ?? '');
    if ('regex' in from) {
      const m = c.regex?.exec(topic);
      return m?.[from.group] !== undefined ? toId(m[from.group]) : null;
    }
    return null;
  }

  private decode(
    c: Compiled,
    topic: string,
    levels: string[],
    payload: Uint8Array | string,
    now: number,
    clock?: ReceiveClock,
  ): Routed {
    const { source } = c;
    const routed: Routed = { source: source.name, messages: [], skipped: [], meta: new Map() };
    const fromPayload = 'payload' in source.device;
    const topicDevice = fromPayload ? null : this.topicDevice(c, topic, levels);
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
      let list = byDevice.get(device);
      if (!list) byDevice.set(device, (list = []));
      list.push(r.ts !== undefined ? { ts: r.ts, values: r.values } : { values: r.values });
    }
    if (byDevice.size === 0 && routed.messages.length === 0 && topicDevice)
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
      const units = { ...source.meta?.units, ...result.units };
      const meta: DeviceMeta = {
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
      case 'shelly-rpc':
        return decodeShellyRpc(text);
    }
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

import { isValidId, quote } from './ids';
import { DEFAULT_DECODE_LIMITS, DecodeLimits, LIMITS } from './limits';
import type { ReceiveClock } from './receive-clock';
import type { Reading } from './model';
import { DeviceMeta, DeviceMetaSchema } from './model.schema';
import { Rejection, RejectReason } from './rejections';
import { parseTopic } from './topics';

export type DecodedMessage =
  | { kind: 'telemetry'; deviceId: string; readings: Reading[]; rejections: Rejection[] }
  | { kind: 'status'; deviceId: string; status: 'online' | 'offline' }
  | { kind: 'meta'; deviceId: string; meta: DeviceMeta | null }
  | { kind: 'rejected'; deviceId: string | null; rejections: Rejection[] };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function reject(deviceId: string | null, reason: RejectReason, detail: string): DecodedMessage {
  return { kind: 'rejected', deviceId, rejections: [{ reason, detail }] };
}

/** UTF-8 size of a string without allocating it (the limit is in bytes, not UTF-16 units). */
function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // surrogate pair: one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The one decoder of device messages, used by the backend, the simulator's
 * self-check and the tests. It never throws: every problem becomes a
 * {@link Rejection}. In a batch, each bad reading is rejected on its own and
 * the valid ones around it are kept.
 *
 * @param topic     MQTT topic the message arrived on
 * @param payload   raw payload bytes (or a string, for tests and tools)
 * @param now       server receive time in ms; readings without `ts` get it
 * @param clock     stamps readings without `ts` instead (per device monotonic, so none of
 *                  them collide: a batch of 5 gets now, now+1, …); the backend passes one
 */
export function decodeDeviceMessage(
  topic: string,
  payload: Uint8Array | string,
  now: number,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  clock?: ReceiveClock,
): DecodedMessage {
  const parsed = parseTopic(topic);
  if (!parsed)
    return reject(
      null,
      'topic',
      `topic ${quote(topic)} is not devices/{deviceId}/telemetry|status|meta`,
    );
  const { deviceId, kind } = parsed;

  const size = typeof payload === 'string' ? utf8ByteLength(payload) : payload.byteLength;
  if (size > limits.maxPayloadBytes) {
    return reject(
      deviceId,
      'oversize',
      `payload of ${size} bytes exceeds ${limits.maxPayloadBytes}`,
    );
  }
  let text: string;
  if (typeof payload === 'string') {
    text = payload;
  } else {
    try {
      text = utf8.decode(payload);
    } catch {
      return reject(deviceId, 'encoding', 'payload is not valid UTF-8');
    }
  }

  if (kind === 'status') {
    const status = text.trim();
    if (status === 'online' || status === 'offline') return { kind: 'status', deviceId, status };
    return reject(deviceId, 'status', `status ${quote(status)} must be "online" or "offline"`);
  }

  if (kind === 'meta') {
    // An empty retained payload clears the retained message: the meta is gone.
    if (text.length === 0) return { kind: 'meta', deviceId, meta: null };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return reject(deviceId, 'json', `meta is not JSON: ${quote(text)}`);
    }
    const result = DeviceMetaSchema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      return reject(
        deviceId,
        'meta',
        `meta.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return { kind: 'meta', deviceId, meta: result.data };
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return reject(deviceId, 'json', `telemetry is not JSON: ${quote(text)}`);
  }
  return decodeTelemetry(deviceId, json, now, limits, clock);
}

/** Decode an already-parsed telemetry body (object or batch array). */
export function decodeTelemetry(
  deviceId: string,
  json: unknown,
  now: number,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  clock?: ReceiveClock,
): DecodedMessage {
  const readings: Reading[] = [];
  const rejections: Rejection[] = [];
  if (Array.isArray(json)) {
    if (json.length === 0) return reject(deviceId, 'empty', 'telemetry batch is empty');
    if (json.length > limits.maxBatchReadings) {
      return reject(
        deviceId,
        'batch_too_large',
        `batch of ${json.length} readings exceeds ${limits.maxBatchReadings}`,
      );
    }
    for (let i = 0; i < json.length; i++) {
      const error = decodeReading(deviceId, json[i], now, limits, readings, clock);
      if (error) rejections.push({ reason: error.reason, detail: `[${i}] ${error.detail}` });
    }
  } else {
    const error = decodeReading(deviceId, json, now, limits, readings, clock);
    if (error) rejections.push(error);
  }
  if (readings.length === 0) return { kind: 'rejected', deviceId, rejections };
  return { kind: 'telemetry', deviceId, readings, rejections };
}

/**
 * Validate one reading and push it to `out`. Written as a plain loop: this is
 * the per-reading hot path, so no schema library and no intermediate objects.
 */
function decodeReading(
  deviceId: string,
  item: unknown,
  now: number,
  limits: DecodeLimits,
  out: Reading[],
  clock?: ReceiveClock,
): Rejection | null {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return { reason: 'shape', detail: `reading ${quote(item)} must be a JSON object` };
  }
  const body = item as Record<string, unknown>;
  let ts = now;
  const rawTs = body['ts'];
  if (rawTs !== undefined) {
    if (typeof rawTs !== 'number' || !Number.isFinite(rawTs) || rawTs < LIMITS.minTimestampMs) {
      return {
        reason: 'timestamp',
        detail: `ts ${quote(rawTs)} must be milliseconds since the epoch`,
      };
    }
    if (rawTs > now + limits.maxFutureSkewMs) {
      return {
        reason: 'future_timestamp',
        detail: `ts ${rawTs} is ${Math.round((rawTs - now) / 1000)} s ahead of the server clock`,
      };
    }
    ts = Math.round(rawTs);
  }

  const rawValues = body['values'];
  let source: Record<string, unknown>;
  let shorthand = false;
  if (rawValues === undefined) {
    source = body; // flat shorthand: every key but `ts` is a metric
    shorthand = true;
  } else if (rawValues !== null && typeof rawValues === 'object' && !Array.isArray(rawValues)) {
    source = rawValues as Record<string, unknown>;
  } else {
    return { reason: 'shape', detail: `values ${quote(rawValues)} must be an object of numbers` };
  }

  const values: Record<string, number> = {};
  let count = 0;
  for (const key in source) {
    if (shorthand && key === 'ts') continue;
    const value = source[key];
    if (typeof value !== 'number') {
      return { reason: 'value', detail: `${quote(key)} = ${quote(value)} is not a number` };
    }
    if (!Number.isFinite(value)) {
      return { reason: 'value', detail: `${quote(key)} is not a finite number` };
    }
    // `__proto__` would silently vanish into the prototype chain: refuse it by name.
    if (!isValidId(key) || key === '__proto__') {
      return {
        reason: 'metric_name',
        detail: `metric ${quote(key)} must be 1 to 64 characters of A-Z a-z 0-9 _ - .`,
      };
    }
    if (++count > limits.maxMetricsPerReading) {
      return {
        reason: 'too_many_metrics',
        detail: `more than ${limits.maxMetricsPerReading} metrics in one reading`,
      };
    }
    values[key] = value;
  }
  if (count === 0) return { reason: 'empty', detail: 'reading has no metric values' };
  // Stamped last, so a rejected reading takes no stamp.
  if (rawTs === undefined && clock) ts = clock.next(deviceId, now);
  out.push({ deviceId, ts, values });
  return null;
}

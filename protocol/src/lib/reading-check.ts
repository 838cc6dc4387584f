import { isValidId } from './ids';
import { LIMITS } from './limits';
import type { Reading } from './model';

/**
 * How far ahead of this gateway's clock a reading another gateway decoded may be stamped: the
 * decoder's own skew plus a minute for the two gateways' clocks.
 */
export const PEER_FUTURE_SKEW_MS = LIMITS.maxFutureSkewMs + 60_000;

/**
 * A reading as the decoder makes it (`{deviceId, ts, values}`, nothing else), checked again where
 * it arrives from another gateway (relayed for screens, forwarded for alerts): a contract device
 * id, a ts in milliseconds since the epoch no later than `latestTs`, 1 to
 * LIMITS.maxMetricsPerReading metrics with contract names and finite values. Hand-written (no
 * schema, no allocation): it runs once per reading on paths of 10,000+ readings a second; a
 * reading of a few metrics costs about what the decoder spends on it.
 */
export function isDecodedReading(value: unknown, latestTs: number): value is Reading {
  if (typeof value !== 'object' || value === null) return false;
  let fields = 0;
  for (const key in value) {
    if (key !== 'deviceId' && key !== 'ts' && key !== 'values') return false;
    fields++;
  }
  if (fields !== 3) return false;
  const { deviceId, ts, values } = value as Record<string, unknown>;
  if (!isValidId(deviceId)) return false;
  if (typeof ts !== 'number' || !(ts >= LIMITS.minTimestampMs && ts <= latestTs)) return false;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return false;
  let metrics = 0;
  for (const name in values) {
    const v = (values as Record<string, unknown>)[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) return false;
    if (name === '__proto__' || !isValidId(name)) return false;
    if (++metrics > LIMITS.maxMetricsPerReading) return false;
  }
  return metrics > 0;
}

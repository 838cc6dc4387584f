import type { DeviceStatus } from '@pulse/protocol/core';

/*
 * Device health as the tiles show it: pure functions of a device record, the server clock and
 * the stale threshold. No state, no timers; callers pass the time.
 */

/**
 * What a tile shows about a device, in order of precedence:
 * - `offline`: the device said so (retained `offline` status, usually its MQTT Last Will);
 * - `stale`:   it claims to be online but has been silent longer than expected;
 * - `waiting`: we have not heard from it yet;
 * - `live`.
 * A disconnected browser or a broker outage is shown separately (banner), never as a device state.
 */
export type DeviceHealth = 'live' | 'stale' | 'offline' | 'waiting';

export interface HealthInput {
  status: DeviceStatus;
  /** Server-clock time we last heard from the device (any message), or null. */
  lastHeard: number | null;
  /** Observed interval between readings (ms), or null before two readings. */
  cadenceMs: number | null;
  /** Interval announced in the device's meta (ms), used until one is observed. */
  intervalMs: number | null;
}

/** A device is stale after max(stale threshold, 3 × its cadence) of silence. */
export function staleAfterMs(
  device: Pick<HealthInput, 'cadenceMs' | 'intervalMs'>,
  staleMs: number,
): number {
  const cadence = device.cadenceMs ?? device.intervalMs ?? 0;
  return Math.max(staleMs, 3 * cadence);
}

export function deviceHealth(device: HealthInput, now: number, staleMs: number): DeviceHealth {
  if (device.status === 'offline') return 'offline';
  if (device.lastHeard === null) return 'waiting';
  return now - device.lastHeard > staleAfterMs(device, staleMs) ? 'stale' : 'live';
}

/** Whole seconds since the device was last heard from (never negative). */
export function silentSeconds(device: Pick<HealthInput, 'lastHeard'>, now: number): number | null {
  if (device.lastHeard === null) return null;
  return Math.max(0, Math.floor((now - device.lastHeard) / 1000));
}

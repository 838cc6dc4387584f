import type { Reading } from '@pulse/protocol';

/**
 * Folds values held by column (device, ts, metric, value: a write batch, a window's series) back
 * into readings: one per device and ts with every metric of that ts, ascending by ts. Used where
 * stored or journaled values go out live again (a dead peer's journal, a catch-up). Owns nothing
 * past its own maps.
 */
export class ReadingFold {
  private readonly byDevice = new Map<string, Map<number, Record<string, number>>>();

  add(deviceId: string, ts: number, metric: string, value: number): void {
    let times = this.byDevice.get(deviceId);
    if (!times) this.byDevice.set(deviceId, (times = new Map()));
    let values = times.get(ts);
    if (!values) times.set(ts, (values = {}));
    values[metric] = value;
  }

  /** One device's readings, oldest first (none: empty). */
  readingsOf(deviceId: string): Reading[] {
    const times = this.byDevice.get(deviceId);
    if (!times) return [];
    return [...times].map(([ts, values]) => ({ deviceId, ts, values })).sort((a, b) => a.ts - b.ts);
  }

  /** Every device's readings, oldest first per device. */
  byDeviceId(): Map<string, Reading[]> {
    const out = new Map<string, Reading[]>();
    for (const deviceId of this.byDevice.keys()) out.set(deviceId, this.readingsOf(deviceId));
    return out;
  }
}

import { Injectable } from '@nestjs/common';
import { LIMITS, type DeviceOrigin } from '@pulse/protocol';

/** Units a source said remembered per device (the meta's bound on units). */
const MAX_UNITS_PER_DEVICE = LIMITS.maxMetricsPerReading;

/** Skipped fields remembered per device (distinct names, newest first). */
export const MAX_SKIPPED_PER_DEVICE = 16;
/**
 * A device's entry is refreshed at most this often (ms) from the same source: it is read by a
 * person on the device view, and a device at 10 messages a second must not cost the ingest a
 * merge of its skipped fields (allocations on the hot path) with each of them.
 */
export const ORIGIN_REFRESH_MS = 1000;

/**
 * Where each device's messages come from (its ingest source) and which fields the source's
 * format left out lately, for the device view (issue 14). Written by the ingest, read by the
 * devices controller; bounded by the registry (a device it evicts is forgotten here, the ingest
 * wires that), MAX_SKIPPED_PER_DEVICE and MAX_UNITS_PER_DEVICE. It also remembers the units
 * each device's source said, so the ingest may change a unit the source set but not its
 * owner's. Devices of Pulse's own contract have no entry.
 */
@Injectable()
export class DeviceOriginsService {
  private readonly origins = new Map<
    string,
    { source: string; skipped: DeviceOrigin['skipped']; refreshedAt: number }
  >();
  /** The units each device's source has said, the last for each metric (at most 64 metrics). */
  private readonly units = new Map<string, Readonly<Record<string, string>>>();

  /**
   * The units the device's source said before this message, and this message's added to them
   * for the next (a new object only when one changed: the usual message allocates nothing).
   */
  unitsSaid(
    deviceId: string,
    now: Readonly<Record<string, string>> | undefined,
  ): Readonly<Record<string, string>> | undefined {
    const before = this.units.get(deviceId);
    if (!now) return before;
    let merged: Record<string, string> | undefined;
    let count = before ? Object.keys(before).length : 0;
    for (const metric in now) {
      if (before?.[metric] === now[metric]) continue;
      if (before?.[metric] === undefined && count++ >= MAX_UNITS_PER_DEVICE) continue;
      (merged ??= { ...before })[metric] = now[metric];
    }
    if (merged) this.units.set(deviceId, merged);
    return before;
  }

  record(
    deviceId: string,
    source: string,
    skipped: readonly { field: string; reason: string }[],
    now: number,
  ): void {
    let origin = this.origins.get(deviceId);
    if (!origin) this.origins.set(deviceId, (origin = { source, skipped: [], refreshedAt: now }));
    else if (origin.source === source && now - origin.refreshedAt < ORIGIN_REFRESH_MS) return;
    origin.source = source;
    origin.refreshedAt = now;
    if (skipped.length === 0) return;
    const fresh = skipped.map(({ field, reason }) => ({ field, reason, at: now }));
    const names = new Set(fresh.map((s) => s.field));
    origin.skipped = [...fresh, ...origin.skipped.filter((s) => !names.has(s.field))].slice(
      0,
      MAX_SKIPPED_PER_DEVICE,
    );
  }

  get(deviceId: string): DeviceOrigin {
    const origin = this.origins.get(deviceId);
    return { deviceId, source: origin?.source ?? null, skipped: origin?.skipped ?? [] };
  }

  /** The device's owner set its meta: the units its source said are no longer the source's. */
  forgetUnits(deviceId: string): void {
    this.units.delete(deviceId);
  }

  forget(deviceId: string): void {
    this.origins.delete(deviceId);
    this.units.delete(deviceId);
  }
}

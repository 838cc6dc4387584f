import { Injectable } from '@nestjs/common';
import type { DeviceOrigin } from '@pulse/protocol';

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
 * wires that) and MAX_SKIPPED_PER_DEVICE. Devices of Pulse's own contract have no entry.
 */
@Injectable()
export class DeviceOriginsService {
  private readonly origins = new Map<
    string,
    { source: string; skipped: DeviceOrigin['skipped']; refreshedAt: number }
  >();

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

  forget(deviceId: string): void {
    this.origins.delete(deviceId);
  }
}

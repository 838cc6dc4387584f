import { Injectable, inject } from '@angular/core';
import type { DeviceOrigin } from '@pulse/protocol/core';
import { FETCH } from './alerts-api';

/*
 * The device reads the dashboard makes over HTTP besides the live socket: a device's origin (its
 * ingest source and the fields its format left out). Owns the URL; holds no state.
 */
@Injectable({ providedIn: 'root' })
export class DevicesApi {
  private readonly fetch = inject(FETCH);

  /** `GET /api/devices/:id/origin`; null when it cannot be read (unknown device, offline gateway). */
  async origin(deviceId: string): Promise<DeviceOrigin | null> {
    try {
      const res = await this.fetch(`/api/devices/${encodeURIComponent(deviceId)}/origin`, {
        headers: { accept: 'application/json' },
      });
      if (!res.ok) return null;
      const body = (await res.json()) as DeviceOrigin;
      return body && Array.isArray(body.skipped) ? body : null;
    } catch {
      return null;
    }
  }
}

/** A skipped field's reason in words, for the device view. */
export const SKIP_REASON_WORDS: Record<string, string> = {
  string: 'text',
  null: 'null',
  array: 'list',
  type: 'not a number',
  not_finite: 'not finite',
  timestamp: 'unreadable time',
};

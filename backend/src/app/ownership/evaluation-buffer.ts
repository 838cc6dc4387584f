import type { Reading } from '@pulse/protocol';

/** Readings waiting to be evaluated, all devices together, at most; beyond, new ones are dropped. */
export const MAX_EVALUATION_PENDING = 100_000;

interface Pending {
  reading: Reading;
  /** When it reached this gateway (its own ingest, or the forward's arrival). */
  at: number;
}

/**
 * Puts an owned device's readings back in time order before the alert engine sees them. The
 * broker hands a device's readings to both gateways in turn; those the other one ingested arrive
 * here up to a flush tick (plus a Redis hop) after this gateway's own later ones, and the engine
 * ignores a reading older than one it has evaluated (out of order). So every reading waits
 * `holdMs` here; each drain evaluates, per device, the readings that waited long enough and every
 * reading not newer than them, oldest first. A device in hand-over (`held`) waits for its alert
 * states to be loaded (AlertRouting).
 *
 * Pure (the clock is passed in); owns the waiting readings and their bound.
 */
export class EvaluationBuffer {
  private readonly byDevice = new Map<string, Pending[]>();
  private count = 0;
  /** Readings not buffered because MAX_EVALUATION_PENDING were waiting. */
  dropped = 0;

  constructor(
    private readonly holdMs: number,
    private readonly max = MAX_EVALUATION_PENDING,
  ) {}

  get size(): number {
    return this.count;
  }

  add(deviceId: string, readings: readonly Reading[], now: number): void {
    let pending = this.byDevice.get(deviceId);
    for (const reading of readings) {
      if (this.count >= this.max) {
        this.dropped++;
        continue;
      }
      if (!pending) this.byDevice.set(deviceId, (pending = []));
      pending.push({ reading, at: now });
      this.count++;
    }
  }

  /** Hand `evaluate` each device's due readings, oldest first; `held` devices keep theirs. */
  drain(
    now: number,
    held: (deviceId: string) => boolean,
    evaluate: (readings: Reading[]) => void,
  ): void {
    const dueBefore = now - this.holdMs;
    for (const [deviceId, pending] of this.byDevice) {
      if (held(deviceId)) continue;
      let watermark = -Infinity;
      for (const p of pending)
        if (p.at <= dueBefore && p.reading.ts > watermark) watermark = p.reading.ts;
      if (watermark === -Infinity) continue;
      const take: Reading[] = [];
      const keep: Pending[] = [];
      for (const p of pending) {
        if (p.reading.ts <= watermark) take.push(p.reading);
        else keep.push(p);
      }
      if (keep.length === 0) this.byDevice.delete(deviceId);
      else this.byDevice.set(deviceId, keep);
      this.count -= take.length;
      take.sort((a, b) => a.ts - b.ts);
      evaluate(take);
    }
  }
}

import type { Reading } from '@pulse/protocol';

/** Readings waiting to be evaluated, all devices together, at most; beyond, new ones are dropped. */
export const MAX_EVALUATION_PENDING = 100_000;
/**
 * Readings of devices in hand-over (`held`), all together, at most: a pool of their own, so a
 * hand-over that keeps failing (store down) cannot stop the other devices' readings.
 */
export const MAX_HELD_PENDING = 50_000;
/** Held readings of one device at most; beyond, its oldest go (the newest matter when it is released). */
export const MAX_HELD_PER_DEVICE = 1_000;

interface Pending {
  reading: Reading;
  /** When it reached this gateway (its own ingest, or the forward's arrival). */
  at: number;
}

export interface EvaluationBufferLimits {
  max: number;
  maxHeld: number;
  maxHeldPerDevice: number;
}

/**
 * Puts an owned device's readings back in time order before the alert engine sees them. The
 * broker hands a device's readings to both gateways in turn; those the other one ingested arrive
 * here up to a flush tick (plus a Redis hop) after this gateway's own later ones, and the engine
 * ignores a reading older than one it has evaluated (out of order). So every reading waits
 * `holdMs` here; each drain evaluates, per device, the readings that waited long enough and every
 * reading not newer than them, oldest first. A device in hand-over (`held`) waits for its alert
 * states to be loaded (AlertRouting); readings added while it is held go to a separate, smaller
 * pool that drops a device's oldest first, and join the others when it is released.
 *
 * Pure (the clock is passed in); owns the waiting readings and their bounds.
 */
export class EvaluationBuffer {
  private readonly byDevice = new Map<string, Pending[]>();
  private readonly heldByDevice = new Map<string, Pending[]>();
  private count = 0;
  private heldCount = 0;
  private readonly limits: EvaluationBufferLimits;
  /** Readings not buffered because MAX_EVALUATION_PENDING were waiting. */
  dropped = 0;
  /** Held readings dropped at MAX_HELD_PER_DEVICE (oldest) or MAX_HELD_PENDING (newest). */
  heldDropped = 0;

  constructor(
    private readonly holdMs: number,
    limits: Partial<EvaluationBufferLimits> = {},
  ) {
    this.limits = {
      max: MAX_EVALUATION_PENDING,
      maxHeld: MAX_HELD_PENDING,
      maxHeldPerDevice: MAX_HELD_PER_DEVICE,
      ...limits,
    };
  }

  get size(): number {
    return this.count + this.heldCount;
  }

  /** `held`: the device is in hand-over now (its readings go to the held pool). */
  add(deviceId: string, readings: readonly Reading[], now: number, held = false): void {
    if (held) return this.addHeld(deviceId, readings, now);
    let pending = this.byDevice.get(deviceId);
    for (const reading of readings) {
      if (this.count >= this.limits.max) {
        this.dropped++;
        continue;
      }
      if (!pending) this.byDevice.set(deviceId, (pending = []));
      pending.push({ reading, at: now });
      this.count++;
    }
  }

  private addHeld(deviceId: string, readings: readonly Reading[], now: number): void {
    let pending = this.heldByDevice.get(deviceId);
    for (const reading of readings) {
      if (pending && pending.length >= this.limits.maxHeldPerDevice) {
        pending.shift(); // this device's oldest: it has had its share
        this.heldCount--;
        this.heldDropped++;
      } else if (this.heldCount >= this.limits.maxHeld) {
        this.heldDropped++;
        continue;
      }
      if (!pending) this.heldByDevice.set(deviceId, (pending = []));
      pending.push({ reading, at: now });
      this.heldCount++;
    }
  }

  /**
   * Drop every waiting reading of `deviceId`: it left the registry (evicted, or removed by an
   * admin), and its readings evaluated after that would make its alert states again.
   */
  forget(deviceId: string): void {
    const pending = this.byDevice.get(deviceId);
    if (pending) this.count -= pending.length;
    const held = this.heldByDevice.get(deviceId);
    if (held) this.heldCount -= held.length;
    this.byDevice.delete(deviceId);
    this.heldByDevice.delete(deviceId);
  }

  /** Take out every waiting reading of the devices `pick` selects (per device, oldest first). */
  remove(pick: (deviceId: string) => boolean): Map<string, Reading[]> {
    const out = new Map<string, Reading[]>();
    for (const [pool, held] of [
      [this.byDevice, false],
      [this.heldByDevice, true],
    ] as const)
      for (const [deviceId, pending] of pool) {
        if (!pick(deviceId)) continue;
        pool.delete(deviceId);
        if (held) this.heldCount -= pending.length;
        else this.count -= pending.length;
        const list = out.get(deviceId) ?? [];
        for (const p of pending) list.push(p.reading);
        out.set(deviceId, list);
      }
    for (const list of out.values()) list.sort((a, b) => a.ts - b.ts);
    return out;
  }

  /** Hand `evaluate` each device's due readings, oldest first; `held` devices keep theirs. */
  drain(
    now: number,
    held: (deviceId: string) => boolean,
    evaluate: (readings: Reading[]) => void,
  ): void {
    this.release(held);
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

  /** Held readings of devices no longer held join the others (admitted already: no bound). */
  private release(held: (deviceId: string) => boolean): void {
    for (const [deviceId, pending] of this.heldByDevice) {
      if (held(deviceId)) continue;
      this.heldByDevice.delete(deviceId);
      this.heldCount -= pending.length;
      this.count += pending.length;
      const main = this.byDevice.get(deviceId);
      if (main) main.push(...pending);
      else this.byDevice.set(deviceId, pending);
    }
  }
}

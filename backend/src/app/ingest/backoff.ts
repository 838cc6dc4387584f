/**
 * Reconnect delays that grow: base, 2×base, 4×base … up to max, with ±20 %
 * jitter so a fleet of gateways does not hammer a recovering broker in step.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 1000,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const raw = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const jitter = 0.8 + 0.4 * this.random();
    return Math.min(this.maxMs, Math.round(raw * jitter));
  }

  reset(): void {
    this.attempt = 0;
  }
}

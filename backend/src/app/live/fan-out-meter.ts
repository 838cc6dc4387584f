import { Injectable } from '@nestjs/common';

/**
 * The time the live layer spends sending readings frames: the hub's flushes and the conflation
 * ticks, the work the overload floor makes smaller (docs/decisions/0019-conflation.md). GatewayLoad
 * compares it with the event loop's busy time: a loop saturated by something else (ingest,
 * history, a burst of subscribe acknowledgements) is not relieved by throttling the screens, so
 * they are not throttled for it.
 *
 * Owns the running total (wall ms, the unit of the loop's busy time); must not decide anything.
 */
@Injectable()
export class FanOutMeter {
  private spentMs = 0;

  add(ms: number): void {
    if (ms > 0) this.spentMs += ms;
  }

  /** Milliseconds spent since the gateway started. */
  get totalMs(): number {
    return this.spentMs;
  }
}

import { Injectable } from '@nestjs/common';

/**
 * The time the live layer spends sending readings frames: the hub's flushes and the conflation
 * ticks, the work the overload floor makes smaller (docs/decisions/0019-conflation.md). GatewayLoad
 * reports it as a share of the event loop's busy time (`live.gatewayLoad.fanOut`,
 * `pulse_live_flush_share`, and in its throttle warnings): how much of an overload the floor can
 * give back.
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

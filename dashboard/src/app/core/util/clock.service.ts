import { DestroyRef, Injectable, InjectionToken, inject, signal } from '@angular/core';
import { Clock, systemClock } from '@pulse/protocol/core';

/*
 * A 1 Hz "now" signal for ages, countdowns and the wall clock, read through the shared protocol
 * Clock (the shape the simulator and the gateway use too). Owns that one timer; it must not be
 * used for drawing (the frame scheduler is) or for data timestamps (the gateway's clock is, via
 * LiveService.serverNow()).
 */

/** Where the app reads wall time; the system clock unless a test provides another. */
export const CLOCK = new InjectionToken<Clock>('CLOCK', {
  providedIn: 'root',
  factory: () => systemClock,
});

/** A 1 Hz clock signal for ages, countdowns and the wall clock (one timer for the whole app). */
@Injectable({ providedIn: 'root' })
export class ClockService {
  private readonly clock = inject(CLOCK);
  private readonly _now = signal(this.clock());
  readonly now = this._now.asReadonly();

  constructor() {
    const timer = setInterval(() => this._now.set(this.clock()), 1000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }
}

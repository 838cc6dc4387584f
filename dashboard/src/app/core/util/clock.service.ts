import { DestroyRef, Injectable, inject, signal } from '@angular/core';

/** A 1 Hz clock signal for ages, countdowns and the wall clock (one timer for the whole app). */
@Injectable({ providedIn: 'root' })
export class ClockService {
  private readonly _now = signal(Date.now());
  readonly now = this._now.asReadonly();

  constructor() {
    const timer = setInterval(() => this._now.set(Date.now()), 1000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }
}

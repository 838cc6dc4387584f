import { Injectable, inject, signal } from '@angular/core';
import { DOCUMENT } from '@angular/common';
import { ALERT_LIMITS } from '@pulse/protocol/core';

/*
 * The operator's "Acknowledge as" name: a signal backed by localStorage. Owns that key only;
 * it must not send anything (acknowledging is LiveService's).
 */

const STORAGE_KEY = 'pulse.operator';
export const DEFAULT_OPERATOR = 'operator';

/** The "Acknowledge as" name, remembered in localStorage (per browser, not an identity). */
@Injectable({ providedIn: 'root' })
export class OperatorService {
  private readonly storage = storageOf(inject(DOCUMENT).defaultView);
  private readonly _name = signal(this.read());
  readonly name = this._name.asReadonly();

  set(name: string): void {
    const clean = name.trim().slice(0, ALERT_LIMITS.maxAckByLength) || DEFAULT_OPERATOR;
    this._name.set(clean);
    try {
      this.storage?.setItem(STORAGE_KEY, clean);
    } catch {
      /* private mode or full storage: keep it for this page only */
    }
  }

  private read(): string {
    try {
      const stored = this.storage?.getItem(STORAGE_KEY)?.trim();
      return stored ? stored.slice(0, ALERT_LIMITS.maxAckByLength) : DEFAULT_OPERATOR;
    } catch {
      return DEFAULT_OPERATOR;
    }
  }
}

function storageOf(win: Window | null): Storage | null {
  try {
    return win?.localStorage ?? null;
  } catch {
    return null;
  }
}

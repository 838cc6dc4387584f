import { Injectable, OnDestroy } from '@angular/core';
import type { AlertEvent } from '@pulse/protocol/core';
import { parseAlertEventOfAnyBuild } from '@pulse/protocol/core';

/*
 * The one check of alert events reaching this browser (the `alerts` snapshot, `alert` deltas,
 * `GET /api/alerts`, the history, an acknowledgement's answer): the protocol's `parseAlertEvent`,
 * as the gateway checks another gateway's (an event of a gateway built before `kind` read with
 * the kind its words or fields say: nginx may move a page to one during a rolling upgrade). What passes is a copy holding the contract's fields
 * only; what does not is dropped, counted and warned at a bounded rate, and never takes the
 * valid events around it along. Stores and views trust what it lets through. It must not keep
 * alerts, read the socket or fetch.
 */

/**
 * A malformed alert event is warned at most once per this long (ms); the ones held back are
 * counted into the next warning, or told when the interval ends if none comes, as the gateway
 * logs its refusals (at most once per 10 s).
 */
export const ALERT_WARN_INTERVAL_MS = 10_000;

/** An `alert` delta: the event and `v`, the gateway's change number (none from an older one). */
export type IncomingAlert = AlertEvent & { v?: number };

/** Where an alert event came from, as a warning names it. */
export type AlertSource =
  | 'the alerts snapshot'
  | 'an alert delta'
  | 'GET /api/alerts'
  | 'GET /api/alerts/history'
  | 'an acknowledgement';

@Injectable({ providedIn: 'root' })
export class AlertInput implements OnDestroy {
  /** Alert events dropped as malformed since the page opened. */
  refused = 0;
  private warnedAt = -Infinity;
  /** Refused since the last warning, not warned yet. */
  private held = 0;
  /** The last of those: where it came from and what was wrong, for the line that tells them. */
  private lastHeld = '';
  /**
   * Tells the held count when the interval ends: set by the first refusal held back, gone once
   * it fires (one timer at most, and none while nothing is held).
   */
  private tellTimer: ReturnType<typeof setTimeout> | null = null;

  // ngOnDestroy rather than DestroyRef: the feed's and this file's specs make one with `new`.
  ngOnDestroy(): void {
    if (this.tellTimer !== null) clearTimeout(this.tellTimer);
    this.tellTimer = null;
  }

  /** One event (an acknowledgement's answer): a checked copy, or null. */
  one(value: unknown, from: AlertSource): AlertEvent | null {
    const parsed = parseAlertEventOfAnyBuild(value);
    if (parsed.ok) return parsed.alert;
    this.refuse(from, wrong(parsed.field));
    return null;
  }

  /** A list (a snapshot, a read): its valid events in order; not a list, none. */
  list(value: unknown, from: AlertSource): AlertEvent[] {
    if (!Array.isArray(value)) {
      this.refuse(from, 'not a list');
      return [];
    }
    const alerts: AlertEvent[] = [];
    for (const item of value) {
      const parsed = parseAlertEventOfAnyBuild(item);
      if (parsed.ok) alerts.push(parsed.alert);
      else this.refuse(from, wrong(parsed.field));
    }
    return alerts;
  }

  /**
   * An `alert` delta: the event with its `v`. A gateway older than the version numbers sends
   * none; one that is not a change number is refused with the event (it could not be placed
   * after the list read).
   */
  delta(value: unknown): IncomingAlert | null {
    const alert: IncomingAlert | null = this.one(value, 'an alert delta');
    if (!alert) return null;
    const v = (value as { v?: unknown }).v;
    if (v === undefined) return alert;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      this.refuse('an alert delta', 'bad v');
      return null;
    }
    alert.v = v;
    return alert;
  }

  /**
   * Count a refusal; warn of it unless one was warned less than ALERT_WARN_INTERVAL_MS ago, else
   * hold it back until the next warning or the interval's end, whichever is first.
   */
  private refuse(from: AlertSource, what: string): void {
    this.refused++;
    this.held++;
    const now = Date.now();
    if (now - this.warnedAt < ALERT_WARN_INTERVAL_MS) {
      this.lastHeld = `${from}, ${what}`;
      this.tellTimer ??= setTimeout(
        () => this.tellHeld(),
        this.warnedAt + ALERT_WARN_INTERVAL_MS - now,
      );
      return;
    }
    const more = this.held > 1 ? ` (+${this.held - 1} more since the last warning)` : '';
    console.warn(`[live] ignored a malformed alert event from ${from} (${what})${more}`);
    this.warned(now);
  }

  /** The interval is over: a burst that ended is told in full, not only with the next refusal. */
  private tellHeld(): void {
    this.tellTimer = null;
    if (this.held === 0) return;
    const events = this.held === 1 ? 'event' : 'events';
    console.warn(
      `[live] ignored ${this.held} more malformed alert ${events} since the last warning ` +
        `(the last from ${this.lastHeld})`,
    );
    this.warned(Date.now());
  }

  private warned(at: number): void {
    this.warnedAt = at;
    this.held = 0;
    if (this.tellTimer !== null) clearTimeout(this.tellTimer);
    this.tellTimer = null;
  }
}

/** What is wrong, from parseAlertEvent's answer (null: not an object). */
function wrong(field: string | null): string {
  return field === null ? 'not an object' : `bad ${field}`;
}

import type { ActiveAlertsResponse, AlertsVersion, AlertsVersionEvent } from '@pulse/protocol/core';
import { parseAlertsVersion } from '@pulse/protocol/core';
import type { AlertStore } from '../stores/alert.store';
import type { AlertInput, IncomingAlert } from './alert-input';

/*
 * The active alerts of one connection (docs/decisions/0054-alerts-snapshot-over-http.md): the
 * gateway greets with its list's version, the list is read over HTTP (compressed, beside the
 * socket's readings), and the `alert` deltas are applied past the version the list answered
 * with (while it is read they are shown at once, and applied again over it when newer). A
 * gateway that sends the `alerts` snapshot instead is followed as before. Every alert event is
 * checked by AlertInput where it comes in (a malformed one changes nothing). Writes the
 * AlertStore; owned by LiveService. It must not touch the socket.
 */

/** Most deltas held while the list is read (one per alert: the newest); past it, the read is given up. */
export const MAX_WAITING_ALERTS = 10_000;
/** A failed read is tried once more after this long before the feed gives up. */
export const ALERTS_READ_RETRY_MS = 1000;
/** A read with no answer in this long has failed (as a subscribe's, SUBSCRIBE_TIMEOUT_MS). */
export const ALERTS_READ_TIMEOUT_MS = 10_000;

export interface AlertsFeedPorts {
  /** `GET /api/alerts`; rejects on a failure (refused, offline, aborted). */
  read(signal: AbortSignal): Promise<ActiveAlertsResponse>;
  /**
   * The list cannot be read over HTTP on this page (another gateway answered, the reads fail):
   * connect again asking for the `alerts` snapshot.
   */
  giveUp(why: string): void;
}

export class AlertsFeed {
  /** Deltas at or below it are in the list read (null: the list is not in yet). */
  private floor: number | null = null;
  private readonly waiting = new Map<string, IncomingAlert>();
  private reading: AbortController | null = null;

  constructor(
    private readonly store: AlertStore,
    private readonly input: AlertInput,
    private readonly ports: AlertsFeedPorts,
  ) {}

  /** A new connection: whatever the last one was reading is dropped. */
  reset(): void {
    this.reading?.abort();
    this.reading = null;
    this.floor = null;
    this.waiting.clear();
  }

  /** The `alerts` snapshot (a gateway that sends it in the stream): the truth from here on. */
  snapshot(list: unknown): void {
    this.reset();
    this.store.replaceAll(this.input.list(list, 'the alerts snapshot'));
    this.floor = -Infinity;
  }

  /** The `alertsVersion` greeting: read the list at it or later. */
  greeted(info: AlertsVersionEvent): void {
    this.reset();
    const greeted = parseAlertsVersion(info?.version);
    if (!greeted) {
      this.ports.giveUp(`the gateway greeted with no list version (${String(info?.version)})`);
      return;
    }
    const reading = new AbortController();
    this.reading = reading;
    void this.read(greeted, reading);
  }

  /** An `alert` delta (a malformed one changes nothing). */
  delta(event: unknown): void {
    const alert = this.input.delta(event);
    if (!alert) return;
    if (this.floor === null) {
      if (this.reading === null) {
        // No list being read (no greeting yet, or one given up on): as a stream without versions.
        this.store.apply(alert);
        return;
      }
      // Shown at once (a wall must not miss a raise while the list is read), and kept to be
      // applied again over the list if it is newer than the list.
      this.store.apply(alert);
      this.waiting.delete(alert.id); // re-inserted last: the map stays in arrival order
      this.waiting.set(alert.id, alert);
      if (this.waiting.size > MAX_WAITING_ALERTS) {
        this.reset();
        this.ports.giveUp(`more than ${MAX_WAITING_ALERTS} alerts changed while the list was read`);
      }
      return;
    }
    if (alert.v !== undefined && alert.v <= this.floor) return; // the list holds it
    this.store.apply(alert);
  }

  private async read(greeted: AlertsVersion, reading: AbortController): Promise<void> {
    let why = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt > 0) await sleep(ALERTS_READ_RETRY_MS, reading.signal);
      if (this.reading !== reading) return; // a new connection took over
      const answer = await this.attempt(reading.signal);
      if (this.reading !== reading) return;
      if (typeof answer === 'string') {
        why = answer; // refused, offline, no answer: once more
        continue;
      }
      const version = parseAlertsVersion(answer?.version);
      if (!version || !Array.isArray(answer.alerts)) {
        why = 'the answer has no list or no version';
        break;
      }
      if (version.boot !== greeted.boot || version.n < greeted.n) {
        // Another gateway's list (or this one's before a restart): its numbers are not the
        // socket's, so the deltas cannot be placed after it.
        why = `the list came from another gateway (${answer.version}, greeted with ${greeted.boot}.${greeted.n})`;
        break;
      }
      this.reading = null;
      this.floor = version.n;
      const newer = [...this.waiting.values()].filter(
        (alert) => alert.v === undefined || alert.v > version.n,
      );
      this.waiting.clear();
      this.store.replaceAll(this.input.list(answer.alerts, 'GET /api/alerts'), newer);
      return;
    }
    this.reset();
    this.ports.giveUp(why);
  }

  /** One read: the answer, or why it failed. */
  private async attempt(signal: AbortSignal): Promise<ActiveAlertsResponse | string> {
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    signal.addEventListener('abort', abort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort();
    }, ALERTS_READ_TIMEOUT_MS);
    try {
      return await this.ports.read(attempt.signal);
    } catch (error) {
      if (timedOut) return `no answer in ${ALERTS_READ_TIMEOUT_MS} ms`;
      return error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

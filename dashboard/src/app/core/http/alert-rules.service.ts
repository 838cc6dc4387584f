import { Injectable, effect, inject, signal, untracked } from '@angular/core';
import type { AlertRule, RefusedStoredRule } from '@pulse/protocol/core';
import { AlertStore } from '../stores/alert.store';
import { AlertsApi } from './alerts-api';
import { LiveService } from '../live/live.service';
import type { SavedRule } from './alert-rules-api';

/*
 * The alert rules as a signal, fetched over HTTP and refreshed after reconnects or when an
 * unknown rule shows up. Owns that cache only; it must not write the alert store or the socket.
 */

/** At most one refresh of the rules per this interval when alerts name rules we do not know. */
const REFRESH_MIN_MS = 10_000;

/**
 * The alert rules (`GET /api/alert-rules`), fetched on first use, after every
 * reconnect (the gateway may have restarted with other rules) and when an
 * alert names a rule we do not know (a rule created over HTTP). There is no
 * live `rules` event in the contract; this keeps the lines on the charts
 * current without polling.
 */
@Injectable({ providedIn: 'root' })
export class AlertRulesService {
  private readonly api = inject(AlertsApi);
  private readonly live = inject(LiveService);
  private readonly alerts = inject(AlertStore);
  private readonly _rules = signal<readonly AlertRule[]>([]);
  readonly rules = this._rules.asReadonly();
  /**
   * Each rule's entity tag as read with it, by id: what the rules page sends back in `If-Match`
   * so a change someone made since is not overwritten (decision 0072).
   */
  private readonly _etags = signal<ReadonlyMap<string, string>>(new Map());
  readonly etags = this._etags.asReadonly();
  /**
   * Stored rules the gateway's schema refused at boot (an upgrade tightened it): not run, kept
   * as saved until a rule of the same id is saved. Listed to admins only (decision 0072).
   */
  private readonly _refused = signal<readonly RefusedStoredRule[]>([]);
  readonly refused = this._refused.asReadonly();
  private readonly _error = signal<string | null>(null);
  readonly error = this._error.asReadonly();
  private started = false;
  private loading: Promise<void> | null = null;
  /** The read queued behind `loading`, if one was asked meanwhile. */
  private again: Promise<void> | null = null;
  private lastLoadAt = -Infinity;
  private known = new Set<string>();
  /**
   * This page's own writes answered while the read under way was on its way, by rule id (null:
   * deleted): that read may predate them, so they stand over its answer; the read asked after
   * them (the page refreshes after each write) says what is there now.
   */
  private writtenDuringRead: Map<string, SavedRule | null> | null = null;

  constructor() {
    effect(() => {
      const connected = this.live.connection().phase === 'connected';
      if (connected) untracked(() => this.started && void this.refresh());
    });
    effect(() => {
      const newest = this.alerts.recent()[0];
      if (!newest) return;
      untracked(() => {
        if (
          this.started &&
          !this.known.has(newest.ruleId) &&
          Date.now() - this.lastLoadAt >= REFRESH_MIN_MS
        )
          void this.refresh();
      });
    });
  }

  /** Load the rules once (idempotent); later refreshes happen by themselves. */
  ensureLoaded(): void {
    if (this.started) return;
    this.started = true;
    void this.refresh();
  }

  /**
   * As {@link ensureLoaded}, and read them now even if they were loaded before: a page that lists
   * the rules shows them as they are (another admin, or a script, may have changed them).
   */
  loadNow(): Promise<void> {
    this.started = true;
    return this.refresh();
  }

  /**
   * Read the rules again. Asked while a read is under way, it reads once more after that one:
   * the answer on its way may have been written before the change that asks (the rules page
   * refreshes after each of its writes). Several asking meanwhile share that one read.
   */
  refresh(): Promise<void> {
    if (!this.loading) return this.load();
    this.again ??= this.loading.then(() => {
      this.again = null;
      // A read started since the first one ended was asked after the change too.
      return this.loading ?? this.load();
    });
    return this.again;
  }

  /**
   * A write of this page answered: the rule `id` as stored now, with the tag its answer gave
   * it (null: deleted). Kept at once, so the next write of it names the version this one made,
   * not the listed one: until the list is read again that was a 412 blaming someone else for
   * the person's own change. The rule goes with its tag: a toggle sends the rule as listed.
   */
  wrote(id: string, saved: SavedRule | null): void {
    this.writtenDuringRead?.set(id, saved);
    this.put(this._rules(), this._etags(), new Map([[id, saved]]));
  }

  private load(): Promise<void> {
    this.lastLoadAt = Date.now();
    const written = (this.writtenDuringRead = new Map());
    this.loading = this.api
      .rules()
      .then(({ rules, etags, refused }) => {
        this.put(rules, etags, written);
        this._refused.set(refused);
        this._error.set(null);
      })
      .catch((error: unknown) => {
        this._error.set(error instanceof Error ? error.message : String(error));
      })
      .finally(() => {
        this.loading = null;
        if (this.writtenDuringRead === written) this.writtenDuringRead = null;
      });
    return this.loading;
  }

  /** `rules` and their `etags`, with `writes` (by id; null: deleted) over them. */
  private put(
    rules: readonly AlertRule[],
    etags: ReadonlyMap<string, string>,
    writes: ReadonlyMap<string, SavedRule | null>,
  ): void {
    const nextRules = [...rules];
    const nextTags = new Map(etags);
    for (const [id, saved] of writes) {
      const at = nextRules.findIndex((r) => r.id === id);
      if (saved === null) {
        if (at >= 0) nextRules.splice(at, 1);
        nextTags.delete(id);
        continue;
      }
      nextRules.splice(at < 0 ? nextRules.length : at, 1, saved.rule);
      if (saved.etag === null) nextTags.delete(id);
      else nextTags.set(id, saved.etag);
    }
    this.known = new Set(nextRules.map((r) => r.id));
    this._rules.set(nextRules);
    this._etags.set(nextTags);
  }
}

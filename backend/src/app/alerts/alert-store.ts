import type { AlertEvent, RulesVersion } from '@pulse/protocol';

/**
 * The port through which the alert feature keeps its rules, its active list and its lifecycle
 * history across restarts: narrow and asynchronous, so the embedded store (SQLite,
 * `sqlite-alert.store.ts`, synchronous underneath) and a PostgreSQL adapter (a network client)
 * can stand behind it alike. Owns the contract only; must not hold alert
 * policy (what a restored alert means: the engine; when to write: AlertJournal).
 */

/** DI token of the {@link AlertStore} (absent: alerts live in memory only). */
export const ALERT_STORE = Symbol('ALERT_STORE');

export interface AlertStore {
  /**
   * The rule set last saved, as it was saved (null when none ever was: start from the
   * defaults). Not checked here: it may be from an older version of the schema, and the alert
   * service parses it through the current one (defaults filled in) as it would a rules file.
   */
  loadRules(): Promise<unknown[] | null>;
  /** The version the saved rule set was saved with (when, by whom), or null when none was. */
  loadRulesVersion(): Promise<RulesVersion | null>;
  /**
   * Replace the saved rule set, with its version (default: now, by nobody in particular; rejects
   * when it cannot: the caller changes nothing then). `rules`: the rules running, then any saved
   * ones the schema refused at boot, as they were saved (AlertsService keeps them: decision 0072,
   * addendum 2), hence not typed as rules.
   */
  saveRules(rules: readonly unknown[], version?: RulesVersion): Promise<void>;
  /**
   * The alerts on the active list when the last write happened, each a whole AlertEvent whichever
   * gateway stored it (stored-alert-event.ts: one stored before `kind` gets it).
   */
  loadOpen(): Promise<AlertEvent[]>;
  /** The newest `limit` lifecycle events, oldest first, whole as `loadOpen`'s. */
  loadHistory(limit: number): Promise<AlertEvent[]>;
  /**
   * In one transaction: append `events` to the history (keeping the newest `keepHistory`), and
   * for each of `latest` (the newest event of an alert) keep it on the active list when
   * `active`, else take it off.
   */
  saveEvents(
    events: readonly AlertEvent[],
    latest: readonly AlertEvent[],
    keepHistory: number,
  ): Promise<void>;
}

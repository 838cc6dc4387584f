import {
  kindFromFields,
  kindFromWording,
  type AlertEvent,
  type AlertRuleKind,
} from '@pulse/protocol';

/**
 * Alert events as the stores hold them: the JSON of `AlertEvent` as whichever gateway wrote it.
 * Owns bringing such an event up to today's contract on its way out of a store (both adapters
 * apply {@link fromStored} to every event they load), so the engine, the live layer and clients
 * only ever see whole events. Must not hold SQL nor alert policy.
 *
 * On load, not by a migration: with several gateways on one PostgreSQL, one of an older build
 * still writes events without `kind` while a newer one runs (and SQL cannot read the wording).
 */

/** An event as stored: before AlertEvent carried `kind`, without it. */
export type StoredAlertEvent = Omit<AlertEvent, 'kind'> & { kind?: AlertRuleKind };

/**
 * The event with its `kind`: the one stored with it; else the kind its own message was written
 * for (every gateway before the field worded events as alert-describe.ts does today, so each
 * event it stored reads back), not the kind of the rule with that id now, which may be another
 * rule by then. Failing both, for a row no gateway wrote, its fields: without a metric, offline
 * when it reports neither value nor threshold, else no-data (threshold and rate rules always name
 * a metric); with one, `threshold`, whose figures are shown as plain numbers.
 */
export function fromStored(event: StoredAlertEvent): AlertEvent {
  if (event.kind !== undefined) return event as AlertEvent;
  return { ...event, kind: kindFromWording(event) ?? kindFromFields(event) };
}

import { AlertEvent, parseAlertEvent } from '@pulse/protocol';
import { fromStored } from '../alerts/stored-alert-event';

/**
 * An alert event another gateway sent (a `pulse:alert`, the alert in a `pulse:ack` answer),
 * checked with the protocol's `parseAlertEvent`. A peer built before `kind` (2026-12-06) sends
 * none: read, not refused (during a rolling upgrade its alerts would vanish from the upgraded
 * gateways' screens), checked with a stand-in, then given the kind its own words say, as the
 * stores do with rows written then (alerts/stored-alert-event.ts).
 */
export function parsePeerAlertEvent(value: unknown): ReturnType<typeof parseAlertEvent> {
  const parsed = parseAlertEvent(value, KIND_UNSAID);
  if (!parsed.ok || (value as { kind?: unknown }).kind !== undefined) return parsed;
  return { ok: true, alert: fromStored({ ...parsed.alert, kind: undefined }) };
}

const KIND_UNSAID: Partial<AlertEvent> = { kind: 'threshold' };

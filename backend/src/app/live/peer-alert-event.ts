import { AlertEvent, parseAlertEventOfAnyBuild } from '@pulse/protocol';
import { fromStored } from '../alerts/stored-alert-event';

/**
 * An alert event another gateway sent (a `pulse:alert`, the alert in a `pulse:ack` answer),
 * checked with the protocol's `parseAlertEvent`. A peer built before `kind` (2026-12-06) sends
 * none: read, not refused (during a rolling upgrade its alerts would vanish from the upgraded
 * gateways' screens), its kind the one its own words say, as the stores give rows written then
 * (alerts/stored-alert-event.ts).
 */
export function parsePeerAlertEvent(value: unknown): ReturnType<typeof parseAlertEventOfAnyBuild> {
  return parseAlertEventOfAnyBuild(value, kindFromWords);
}

function kindFromWords(event: AlertEvent): AlertEvent['kind'] {
  return fromStored({ ...event, kind: undefined }).kind;
}

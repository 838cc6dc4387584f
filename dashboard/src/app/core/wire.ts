import type {
  ALERT_LIMITS as ProtocolAlertLimits,
  ALERT_SEVERITIES as ProtocolAlertSeverities,
  ALERT_STATES as ProtocolAlertStates,
  ID_MAX_LENGTH as ProtocolIdMax,
  LIVE_NAMESPACE as ProtocolNamespace,
  LiveEvent as ProtocolLiveEvent,
} from '@pulse/protocol';

/*
 * The runtime constants the dashboard needs from the contract, restated here
 * because importing any value from '@pulse/protocol' pulls every zod schema of
 * the barrel (≈450 kB) into the initial bundle. They stay a single source of
 * truth all the same: each is typed by the protocol's own literal type, so a
 * change in the contract breaks the dashboard build, and `wire.spec.ts`
 * compares them (and the id rule) with the protocol at runtime.
 */

export const LIVE_NAMESPACE: typeof ProtocolNamespace = '/live';

export const LiveEvent: typeof ProtocolLiveEvent = {
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  readings: 'readings',
  device: 'device',
  gateway: 'gateway',
  alert: 'alert',
  lagged: 'lagged',
  alerts: 'alerts',
  ack: 'ack',
};

export const ID_MAX_LENGTH: typeof ProtocolIdMax = 64;
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Device, metric and group ids: 1 to 64 characters of `A-Z a-z 0-9 _ - .` (same rule as the protocol). */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= ID_MAX_LENGTH && ID_PATTERN.test(value);
}

/** Alert severities, most severe first (the order active alerts are sorted in). */
export const ALERT_SEVERITIES: typeof ProtocolAlertSeverities = [
  'critical',
  'major',
  'minor',
  'warning',
  'info',
];
export const ALERT_STATES: typeof ProtocolAlertStates = [
  'raised',
  'acknowledged',
  'cleared',
  'flapping',
];

/** Limits of the alert contract (the dashboard checks an acknowledgement's `by` before sending). */
export const ALERT_LIMITS: typeof ProtocolAlertLimits = {
  maxRules: 1000,
  maxDurationMs: 7 * 86_400_000,
  maxNameLength: 128,
  maxAckByLength: 64,
  maxAckNoteLength: 500,
  maxQueryLimit: 1000,
};

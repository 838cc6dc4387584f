import { AlertEvent, AlertRule } from '@pulse/protocol';

/**
 * The records the engine's pieces share: a compiled rule, its per-device evaluation state and
 * an open alert (the cadence they learn is common/cadence.ts's). Owns their shape and the narrow
 * {@link AlertTransitions} port through which evaluators reach the lifecycle. Must not hold
 * behaviour of one rule kind, nor emit anything.
 */

/** The group of a device (from its retained meta), or undefined. */
export type GroupLookup = (deviceId: string) => string | null | undefined;

/** Per rule × device (× the rule's metric) evaluation state. */
export interface KeyState {
  readonly deviceId: string;
  readonly metric: string | null;
  /** Newest evaluated reading timestamp (clamped); older readings are ignored. */
  lastTs: number;
  /** Server time of the newest reading (or of the state's creation / the device's return online). */
  lastArrival: number;
  /** Value reported with events: the reading (threshold), the rate (rate), the silence in ms (no-data). */
  lastValue: number | null;
  /** EWMA of the interval between reading timestamps, ms; 0 while unknown. */
  cadence: number;
  gaps: number;
  /** Timestamp of the first reading of the current burst (readings < BURST_MS apart). */
  burstStart: number;
  /** Raw condition after hysteresis. */
  cond: boolean;
  /** When `cond` took its current value. */
  since: number;
  /** Debounced condition: the alert side of the state. */
  firing: boolean;
  /** When `firing` last changed. */
  changedAt: number;
  /** Recent raise times, oldest first (at most flapMaxRaises + 1). */
  raises: number[] | null;
  /** Rate window: timestamps and values from `head` on. */
  rt: number[] | null;
  rv: number[] | null;
  head: number;
  /** Offline rule: when the device went offline, NaN while online. */
  offlineSince: number;
  alert: OpenAlert | null;
}

/** An open alert: the event record (copied out on emit) plus where it belongs. */
export interface OpenAlert {
  event: AlertEvent;
  key: string;
  state: KeyState | null;
}

/** An enabled rule with its states, one per device in scope. */
export interface CompiledRule {
  rule: AlertRule;
  name: string;
  states: Map<string, KeyState>;
}

/**
 * What an evaluator may ask of the lifecycle (implemented by `AlertLifecycle`): evaluators
 * decide conditions, the lifecycle alone turns them into alerts and events.
 */
export interface AlertTransitions {
  /** Record the condition at `at` (hysteresis already applied), then debounce it. */
  debounce(c: CompiledRule, state: KeyState, cond: boolean, at: number): void;
  /** A debounced raise (`firing` true) or clear, with flap detection in between. */
  transition(c: CompiledRule, state: KeyState, firing: boolean, at: number): void;
  /** A flapping alert settles once its condition has stayed put for a while. */
  settleFlapping(state: KeyState, at: number): void;
}

/** A reading for a threshold or rate state: stamped `ts` (clamped, in order), value `v`. */
export type ReadingEvaluator = (
  lifecycle: AlertTransitions,
  c: CompiledRule,
  state: KeyState,
  ts: number,
  v: number,
) => void;

/** A timer or status change for a state, at server time `at`. */
export type TimeEvaluator = (
  lifecycle: AlertTransitions,
  c: CompiledRule,
  state: KeyState,
  at: number,
) => void;

export function newKeyState(deviceId: string, metric: string | null, now: number): KeyState {
  return {
    deviceId,
    metric,
    lastTs: -Infinity,
    lastArrival: now,
    lastValue: null,
    cadence: 0,
    gaps: 0,
    burstStart: -Infinity,
    cond: false,
    since: -Infinity,
    firing: false,
    changedAt: -Infinity,
    raises: null,
    rt: null,
    rv: null,
    head: 0,
    offlineSince: Number.NaN,
    alert: null,
  };
}

/** The one open alert of a rule × device × metric is found under this key. */
export function alertKey(ruleId: string, deviceId: string, metric: string | null): string {
  return `${ruleId}\u0000${deviceId}\u0000${metric ?? ''}`;
}

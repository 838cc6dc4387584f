import { AlertEvent, AlertRule } from '@pulse/protocol';

/**
 * The records the engine's pieces share: a compiled rule, its per-device evaluation state and
 * an open alert, plus the cadence learning every rule kind uses. Owns their shape and the
 * narrow {@link AlertTransitions} port through which evaluators reach the lifecycle. Must not
 * hold behaviour of one rule kind, nor emit anything.
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

/** Intervals learned before one over 4 × the pace counts as 4 × (an outage must not teach it). */
const CADENCE_MIN_GAPS = 3;
const CADENCE_ALPHA = 0.2;

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

/**
 * Readings closer than this are one report: Tasmota sends STATE then SENSOR a few ms apart, ESPHome
 * a message per sensor. Their gaps would teach a slow device a pace of milliseconds (and no-data
 * would raise at its floor between reports), so they are not learned, unless the device keeps it
 * up for FAST_AFTER_MS: then it reads faster than once a second, and they are its pace. A
 * firmware's report takes milliseconds; half a second of readings is a device that reads fast (the
 * simulator's 2/s device that goes flat after three readings must still be found silent).
 */
const BURST_MS = 1000;
const FAST_AFTER_MS = 500;

/**
 * EWMA of the interval between reading timestamps (between reports: see BURST_MS); an outage gap
 * is capped so it cannot swamp it.
 */
export function learnCadence(state: KeyState, ts: number): void {
  if (state.lastTs === -Infinity) {
    state.burstStart = ts;
    return;
  }
  let gap = ts - state.lastTs;
  if (gap <= 0) return;
  if (gap >= BURST_MS) state.burstStart = ts;
  else if (state.gaps === 0 ? ts - state.burstStart < FAST_AFTER_MS : state.cadence >= BURST_MS)
    return; // within a report
  if (state.gaps === 0) state.cadence = gap;
  else {
    if (state.gaps >= CADENCE_MIN_GAPS && gap > 4 * state.cadence) gap = 4 * state.cadence;
    state.cadence += CADENCE_ALPHA * (gap - state.cadence);
  }
  state.gaps++;
}

/** The one open alert of a rule × device × metric is found under this key. */
export function alertKey(ruleId: string, deviceId: string, metric: string | null): string {
  return `${ruleId}\u0000${deviceId}\u0000${metric ?? ''}`;
}

import {
  AlertTransitions,
  CADENCE_MIN_GAPS,
  CompiledRule,
  KeyState,
  learnCadence,
} from './alert-state';

/**
 * No-data rules: owns what counts as silence — a fixed `silenceMs`, or a multiple of the
 * cadence learned per device (and metric) — measured on the server clock, the only clock that
 * knows a device is silent. Must not judge values (any reading is a sign of life) nor watch
 * offline devices (the offline rule's), and must not touch alerts beyond asking the lifecycle.
 */

/** A reading arrived (stamped `ts`, at server time `now`): a sign of life that ends a silence. */
export function noDataArrival(
  lifecycle: AlertTransitions,
  c: CompiledRule,
  state: KeyState,
  ts: number,
  now: number,
  late: boolean,
): void {
  if (!late && ts >= state.lastTs) {
    learnCadence(state, ts);
    state.lastTs = ts;
  }
  if (state.firing) {
    state.lastValue = now - state.lastArrival; // the whole silence, reported with the clear
    state.lastArrival = now;
    lifecycle.transition(c, state, false, now);
  }
  state.lastArrival = now;
  lifecycle.settleFlapping(state, now);
}

/** The silence that raises, ms, or null while a cadence-only rule has not learned one yet. */
export function noDataThreshold(c: CompiledRule, state: KeyState): number | null {
  const rule = c.rule;
  if (rule.kind !== 'nodata') return null;
  const learned =
    rule.cadenceMultiple !== undefined && state.gaps >= CADENCE_MIN_GAPS
      ? rule.cadenceMultiple * state.cadence
      : null;
  if (learned === null) return rule.silenceMs ?? null;
  return Math.max(learned, rule.silenceMs ?? 0);
}

/** Timer: raise once the silence reaches the threshold (never while the device is offline). */
export function evaluateNoData(
  lifecycle: AlertTransitions,
  c: CompiledRule,
  state: KeyState,
  now: number,
  offline: boolean,
): void {
  if (!state.firing && !offline) {
    const threshold = noDataThreshold(c, state);
    const silence = now - state.lastArrival;
    if (threshold !== null && silence >= threshold) {
      state.lastValue = silence;
      lifecycle.transition(c, state, true, now);
    }
  }
  lifecycle.settleFlapping(state, now);
}

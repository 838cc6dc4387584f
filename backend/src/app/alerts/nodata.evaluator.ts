import { DEFAULT_UNKNOWN_PACE_MS } from '@pulse/protocol';
import { learnCadence } from '../common/cadence';
import { AlertTransitions, CompiledRule, KeyState } from './alert-state';

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

/**
 * The silence that raises, ms, or null while it cannot be judged yet. A rule with
 * `cadenceMultiple` judges a device by its own pace (`silenceMs` then only a floor), known from
 * its first interval on (refined as more arrive, state.cadence). A device heard once has no pace
 * yet: judged at the floor, every device slower than it raised after its first reading (the
 * built-in rule 10 s after a Tasmota's, which reports every 300 s, or an hourly battery sensor's);
 * not judged at all, one that spoke once and died was never found. It is judged at
 * `unknownPaceMs` instead (2 h by default, decision 0066; never below the floor). A device
 * restored at boot is judged as it was before the restart: by its stored pace, else as heard once
 * at its newest reading time (AlertEngine.watchRestored); one never heard (a status or meta only)
 * is watched at the floor, so one that died meanwhile is still found.
 */
export function noDataThreshold(c: CompiledRule, state: KeyState): number | null {
  const rule = c.rule;
  if (rule.kind !== 'nodata') return null;
  if (rule.cadenceMultiple === undefined) return rule.silenceMs ?? null;
  if (state.gaps === 0)
    return state.lastTs === -Infinity
      ? (rule.silenceMs ?? null)
      : Math.max(rule.unknownPaceMs ?? DEFAULT_UNKNOWN_PACE_MS, rule.silenceMs ?? 0);
  return Math.max(rule.cadenceMultiple * state.cadence, rule.silenceMs ?? 0);
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

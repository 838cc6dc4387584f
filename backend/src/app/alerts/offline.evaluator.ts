import { AlertTransitions, CompiledRule, KeyState, TimeEvaluator } from './alert-state';

/**
 * Offline rules: owns the offline duration of a device (from its status topic, Last Will
 * included) on the server clock. Must not look at readings (silence is the no-data rule's)
 * and must not touch alerts beyond asking the lifecycle.
 */

/** Timer, and the moment the device goes offline: raise once it has stayed offline `forMs`. */
export const evaluateOffline: TimeEvaluator = (lifecycle, c, state, now) => {
  const rule = c.rule;
  if (rule.kind !== 'offline') return;
  if (
    !state.firing &&
    !Number.isNaN(state.offlineSince) &&
    now - state.offlineSince >= rule.forMs
  ) {
    lifecycle.transition(c, state, true, state.offlineSince + rule.forMs);
  }
  lifecycle.settleFlapping(state, now);
};

/** The device went offline at `at` (a repeated retained status keeps the first time). */
export function deviceWentOffline(
  lifecycle: AlertTransitions,
  c: CompiledRule,
  state: KeyState,
  at: number,
  now: number,
): void {
  if (Number.isNaN(state.offlineSince)) state.offlineSince = at;
  evaluateOffline(lifecycle, c, state, now);
}

/** The device is back at `at`: the offline alert clears. */
export const deviceCameOnline: TimeEvaluator = (lifecycle, c, state, at) => {
  state.offlineSince = Number.NaN;
  if (state.firing) lifecycle.transition(c, state, false, at);
  lifecycle.settleFlapping(state, at);
};

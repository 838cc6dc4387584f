import { ReadingEvaluator } from './alert-state';

/**
 * Threshold rules (`above`, `below`, `outside`): owns the level test with its hysteresis (a
 * raised condition holds until the value passes the clear level). Runs on every matching
 * reading, so it stays allocation-free. Must not touch alerts or timing: the debounce and
 * everything after it belong to the lifecycle.
 */
export const evaluateThreshold: ReadingEvaluator = (lifecycle, c, state, ts, v) => {
  const rule = c.rule;
  if (rule.kind !== 'threshold') return;
  state.lastValue = v;
  let cond = state.cond;
  if (rule.op === 'above') {
    const value = rule.value as number;
    if (!cond) cond = v > value;
    else if (v < (rule.clear ?? value)) cond = false;
  } else if (rule.op === 'below') {
    const value = rule.value as number;
    if (!cond) cond = v < value;
    else if (v > (rule.clear ?? value)) cond = false;
  } else {
    const low = rule.low as number;
    const high = rule.high as number;
    if (!cond) cond = v < low || v > high;
    else if (v > (rule.clearLow ?? low) && v < (rule.clearHigh ?? high)) cond = false;
  }
  lifecycle.debounce(c, state, cond, ts);
};

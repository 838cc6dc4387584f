import { ReadingEvaluator } from './alert-state';

/**
 * Threshold rules (`above`, `below`, `outside`): owns the level test with its hysteresis. Until
 * the alert is raised (`firing`) the raise level alone counts, so `forMs` needs every reading
 * past it; once raised, the condition holds until the value passes the clear level, so
 * `clearForMs` needs every reading past that one, and the dead band between them keeps a raised
 * alert raised. (Counting the dead band as "still above" before the raise let a rule "above 70
 * for 3 s" raise on one reading of 75 followed by 65, 62, 61.) Runs on every matching reading, so
 * it stays allocation-free. Must not touch alerts or timing: the debounce and everything after it
 * belong to the lifecycle.
 */
export const evaluateThreshold: ReadingEvaluator = (lifecycle, c, state, ts, v) => {
  const rule = c.rule;
  if (rule.kind !== 'threshold') return;
  state.lastValue = v;
  const raised = state.firing;
  let cond: boolean;
  if (rule.op === 'above') {
    const value = rule.value as number;
    cond = raised ? !(v < (rule.clear ?? value)) : v > value;
  } else if (rule.op === 'below') {
    const value = rule.value as number;
    cond = raised ? !(v > (rule.clear ?? value)) : v < value;
  } else {
    const low = rule.low as number;
    const high = rule.high as number;
    cond = raised
      ? !(v > (rule.clearLow ?? low) && v < (rule.clearHigh ?? high))
      : v < low || v > high;
  }
  lifecycle.debounce(c, state, cond, ts);
};

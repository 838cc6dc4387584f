import { round } from './alert-describe';
import { ReadingEvaluator } from './alert-state';

/**
 * Rate-of-change rules: owns the sliding window of (timestamp, value) samples per state and
 * the change measured across it (per window or per second, in a direction), with hysteresis
 * on the limit. The window is two arrays trimmed in place, so a reading costs no allocation
 * once they have grown. Must not touch alerts or timing beyond the window: the debounce and
 * everything after it belong to the lifecycle.
 */

/** Samples kept per window at most, so a chatty device cannot grow it without bound. */
const RATE_MAX_SAMPLES = 1024;

export const evaluateRate: ReadingEvaluator = (lifecycle, c, state, ts, v) => {
  const rule = c.rule;
  if (rule.kind !== 'rate') return;
  let rt = state.rt;
  let rv = state.rv;
  if (rt === null || rv === null) {
    rt = state.rt = [];
    rv = state.rv = [];
  }
  rt.push(ts);
  rv.push(v);
  const start = ts - rule.windowMs;
  let head = state.head;
  while (head < rt.length - 1 && (rt[head] < start || rt.length - head > RATE_MAX_SAMPLES)) head++;
  if (head > 64 && head * 2 > rt.length) {
    rt.splice(0, head);
    rv.splice(0, head);
    head = 0;
  }
  state.head = head;
  const dt = ts - rt[head];
  // Nothing to compare with yet: the condition stays as it was.
  if (dt <= 0) return lifecycle.debounce(c, state, state.cond, ts);
  const delta = v - rv[head];
  const rate = rule.per === 'second' ? (delta * 1000) / dt : delta;
  state.lastValue = round(rate);
  const magnitude =
    rule.direction === 'up' ? rate : rule.direction === 'down' ? -rate : Math.abs(rate);
  // As a threshold's levels (threshold.evaluator.ts): the raise level until raised, then the clear level.
  const cond = state.firing
    ? !(magnitude < (rule.clear ?? rule.maxDelta))
    : magnitude > rule.maxDelta;
  lifecycle.debounce(c, state, cond, ts);
};

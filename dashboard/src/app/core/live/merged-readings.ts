import type { Reading } from '@pulse/protocol/core';

/*
 * Merged readings (a throttled connection's, docs/decisions/0019-conflation.md) as chart points:
 * pure, no Angular, no state. LiveService pushes what this returns; it must not touch the stores.
 */

/**
 * The low and high of a merged reading's `metric` as two points between the newest point held
 * (`heldTs`) and the reading's time — their real times are not sent — in the order that leads to
 * the reading's value, so a spike among the readings it stands for shows on the chart.
 */
export function rangePoints(
  reading: Reading,
  metric: string,
  [low, high]: readonly [number, number],
  heldTs: number | null,
): [number, number][] {
  const from = heldTs !== null && heldTs < reading.ts ? heldTs : reading.ts - 3;
  const step = (reading.ts - from) / 3;
  const value = reading.values[metric];
  const [first, second] =
    Math.abs(value - high) <= Math.abs(value - low) ? [low, high] : [high, low];
  return [
    [from + step, first],
    [from + 2 * step, second],
  ];
}

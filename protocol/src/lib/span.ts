/*
 * A duration as a person reads it, shared by the gateway (alert messages) and the dashboard
 * (alert rows). Part of the zod-free core entry. Pure; owns the wording only.
 */

/**
 * A duration to the second, in at most two units: "10 s", "2.5 s", "3 min 5 s", "2 h 4 min",
 * "3 d 2 h" (a no-data alert's silence, where "3 min" would hide how long past its limit; "7200 s"
 * would make a person do the sum).
 */
export function formatSpan(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const t = Math.max(0, ms);
  if (t < 10_000 && t % 1000 !== 0) return `${Math.floor(t / 100) / 10} s`;
  const s = Math.floor(t / 1000);
  const i = SPAN_UNITS.findIndex(([size]) => s >= size);
  if (i < 0 || i === SPAN_UNITS.length - 1) return `${s} s`;
  const [size, unit] = SPAN_UNITS[i];
  const [nextSize, nextUnit] = SPAN_UNITS[i + 1];
  const whole = `${Math.floor(s / size)} ${unit}`;
  const rest = Math.floor((s % size) / nextSize);
  return rest ? `${whole} ${rest} ${nextUnit}` : whole;
}
const SPAN_UNITS: readonly (readonly [seconds: number, unit: string])[] = [
  [86_400, 'd'],
  [3_600, 'h'],
  [60, 'min'],
  [1, 's'],
];

/*
 * Display formatting (ages, durations, values, axis ticks): pure functions, no Angular, no state.
 */

/** "now", "3 s ago", "5 min ago", "2 h ago". */
export function formatAge(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'never';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'now';
  if (s < 120) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** Compact duration: "42 s", "3 min", "2 h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.floor(m / 60)} h`;
}

/**
 * A duration to the second, in at most two units: "10 s", "2.5 s", "3 min 5 s", "2 h 4 min",
 * "3 d 2 h" (a no-data alert's silence, where "3 min" would hide how long past its limit).
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

/** A reading for display: about 4 significant digits, no exponent for everyday values. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 10_000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

const pad = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** Local wall-clock time "HH:MM:SS" (or "HH:MM" when `seconds` is false). */
export function formatClock(ts: number, seconds = true): string {
  const d = new Date(ts);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${hm}:${pad(d.getSeconds())}` : hm;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Tick label for a time axis: seconds shown only when the window is short, the day when it spans days. */
export function formatTick(ts: number, windowMs: number): string {
  if (windowMs > 24 * 3_600_000)
    return `${WEEKDAYS[new Date(ts).getDay()]} ${formatClock(ts, false)}`;
  return formatClock(ts, windowMs <= 15 * 60_000);
}

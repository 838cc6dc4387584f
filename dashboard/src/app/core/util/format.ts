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

/** A duration in at most two units ("3 min 5 s"): the protocol's, shared with the gateway's alert messages. */
export { formatSpan } from '@pulse/protocol/core';

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

/** Local date and time to the minute, "2026-11-22 01:00": when an account or a token was made. */
export function formatDateTime(ts: number): string {
  const d = new Date(ts);
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${day} ${formatClock(ts, false)}`;
}

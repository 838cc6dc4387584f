/**
 * The pace a device reports at, learned from its readings' timestamps: the alert engine's
 * rule states learn it (no-data judges a silence against it), and the device registry keeps a
 * device's across restarts, so a slow device is not judged at a rule's floor after every boot.
 *
 * In `common/`, the layer below every feature folder: owns the learning only, no Pulse state.
 */

/** What learning a pace needs; the caller moves `lastTs` on after each reading it learned from. */
export interface Pace {
  /** Newest timestamp learned from; -Infinity before the first. */
  lastTs: number;
  /** EWMA of the interval between reports, ms; 0 while unknown. */
  cadence: number;
  /** Intervals learned. */
  gaps: number;
  /** Timestamp of the first reading of the current burst (readings < BURST_MS apart). */
  burstStart: number;
}

/** Intervals learned before one over 4 × the pace counts as 4 × (an outage must not teach it). */
export const CADENCE_MIN_GAPS = 3;
const CADENCE_ALPHA = 0.2;

/**
 * Readings closer than this are one report: Tasmota sends STATE then SENSOR a few ms apart, ESPHome
 * a message per sensor. Their gaps would teach a slow device a pace of milliseconds (and no-data
 * would raise at its floor between reports), so they are not learned, unless the device keeps it
 * up for FAST_AFTER_MS: then it reads faster than once a second, and they are its pace. A
 * firmware's report takes milliseconds; half a second of readings is a device that reads fast (the
 * simulator's 2/s device that goes flat after three readings must still be found silent).
 */
const BURST_MS = 1000;
const FAST_AFTER_MS = 500;

/**
 * EWMA of the interval between reading timestamps (between reports: see BURST_MS); an outage gap
 * is capped so it cannot swamp it.
 */
export function learnCadence(state: Pace, ts: number): void {
  if (state.lastTs === -Infinity) {
    state.burstStart = ts;
    return;
  }
  let gap = ts - state.lastTs;
  if (gap <= 0) return;
  if (gap >= BURST_MS) state.burstStart = ts;
  else if (state.gaps === 0 ? ts - state.burstStart < FAST_AFTER_MS : state.cadence >= BURST_MS)
    return; // within a report
  if (state.gaps === 0) state.cadence = gap;
  else {
    if (state.gaps >= CADENCE_MIN_GAPS && gap > 4 * state.cadence) gap = 4 * state.cadence;
    state.cadence += CADENCE_ALPHA * (gap - state.cadence);
  }
  state.gaps++;
}

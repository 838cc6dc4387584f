import type { AlertEvent } from '@pulse/protocol/core';
import { isConditionOn } from '@pulse/protocol/core';
import { compareAlerts, isUnacknowledged } from '../core/stores/alert.store';
import { formatAge } from '../core/util/format';

/** Alert lines shown in full in the banner; the rest are counted ("+3 more"). */
export const BANNER_LINES = 3;

/**
 * A loud banner covers the top of the wall this long after its newest alert came on it (by
 * default: the wall's `fold` parameter), then folds into one line in the wall's header (a new
 * loud alert unfolds it for as long again): on an unattended screen it would otherwise hide the
 * top row's names and values until somebody acknowledges, which can be hours.
 */
export const BANNER_FULL_MS = 60_000;

/**
 * Where the full banner puts the message of its first (loudest) line, so that an operator across
 * the room reads the whole of it in the largest type that holds it, while the banner's height
 * stays bounded whatever the message's length (0052: it covers the top of the wall for a minute):
 *
 * - `beside`: on the row of the severity, device and age, in the banner's big type (a short one);
 * - `below`: on a row of its own under them, across the banner's width, in the big type;
 * - `below-small`: that row in the banner's next step (the type of its other lines), two rows of it
 *   at most, an ellipsis at the end only of what these do not hold.
 *
 * styles.css (`.wall-alert-line.msg-*`) draws them; the CSS still guards a wrong guess (a
 * message beside the head may take a second row, the own row two).
 */
export type BannerMessageFit = 'beside' | 'below' | 'below-small';

/**
 * Characters of the banner's big type on one row across it: the type is 3.2vw (styles.css,
 * clamp(28px, 3.2vw, 56px)) and the row the width less 48 px of padding, about 29.5 em from 875
 * to 1750 px wide (more above, where the type stops growing), at 0.6 em a character (DejaVu Sans
 * Bold, a wide system-ui font, averages 0.57–0.59 em on alert messages in Chromium).
 */
const BIG_ROW_CHARS = 49;
/** Of a big row, what the severity ("CRITICAL"), a typical age ("42 s ago") and the gaps take. */
const HEAD_CHARS = 22;

/**
 * {@link BannerMessageFit} of a line's `device` name and `message`, by their lengths: the banner's
 * type scales with the screen's width, so what a row holds is about the same number of characters
 * on any wall (the next step, 2vw, holds about 78 on a row: two rows, about 150). An estimate.
 */
export function bannerMessageFit(device: string, message: string): BannerMessageFit {
  if (device.length + message.length <= BIG_ROW_CHARS - HEAD_CHARS) return 'beside';
  return message.length <= BIG_ROW_CHARS ? 'below' : 'below-small';
}

export interface WallAlertLine {
  id: string;
  severity: 'critical' | 'major';
  deviceId: string;
  /** The device's name (its id while the name is unknown). */
  device: string;
  message: string;
  age: string;
  /** Acknowledgement info for strip lines ("ack by ana"). */
  ack: string;
  /** Its condition cleared (a strip line waiting for an acknowledgement): drawn muted, "CLEARED". */
  cleared: boolean;
}

export interface WallAlertView {
  /** Loud banner: firing critical/major alerts nobody acknowledged; its style follows the worst. */
  banner: {
    level: 'critical' | 'major';
    lines: WallAlertLine[];
    more: number;
    critical: number;
    major: number;
    /** Shown as one line in the header ({@link BANNER_FULL_MS}), not over the top of the wall. */
    folded: boolean;
    /** Where the full banner puts its first line's message. */
    fit: BannerMessageFit;
  } | null;
  /**
   * Small strip: critical alerts acknowledged but still on, then those cleared and waiting for an
   * acknowledgement (muted: not a condition on the floor). `muted`: it holds only cleared ones.
   */
  strip: { lines: WallAlertLine[]; more: number; muted: boolean } | null;
}

/**
 * What the wall shows for the active alerts (pure, unit tested). A critical or
 * major alert that is firing and unacknowledged is loud; once someone
 * acknowledges a critical it shrinks to the strip, a major one leaves the wall
 * (its device tile keeps a coloured border). Lesser severities only colour tiles.
 * A critical that cleared with nobody acknowledging it stays in the strip, muted,
 * after the ones still on; it colours nothing (isConditionOn).
 */
export function wallAlerts(
  active: readonly AlertEvent[],
  now: number,
  nameOf: (deviceId: string) => string,
  fold: BannerFold | null = null,
  foldAfterMs: number | null = BANNER_FULL_MS,
): WallAlertView {
  const loud: AlertEvent[] = [];
  const quiet: AlertEvent[] = [];
  for (const alert of active) {
    if (alert.severity !== 'critical' && alert.severity !== 'major') continue;
    const unacked = isUnacknowledged(alert);
    const firing = isConditionOn(alert);
    if (unacked && firing) loud.push(alert);
    else if (alert.severity === 'critical') quiet.push(alert);
  }
  loud.sort(compareAlerts);
  quiet.sort(compareAlerts); // the ones still on first
  const line = (alert: AlertEvent): WallAlertLine => ({
    id: alert.id,
    severity: alert.severity as 'critical' | 'major',
    deviceId: alert.deviceId,
    device: nameOf(alert.deviceId),
    message: alert.message,
    age: formatAge(now - alert.raisedAt),
    ack:
      alert.acknowledgedAt !== null
        ? `ack by ${alert.acknowledgedBy ?? '?'}${alert.state === 'cleared' ? ', cleared' : ''}`
        : alert.state === 'cleared'
          ? 'cleared, not acknowledged'
          : '',
    cleared: !isConditionOn(alert),
  });
  const critical = loud.filter((a) => a.severity === 'critical').length;
  const folded = fold?.folded(loud, now, foldAfterMs) ?? false;
  const lines = loud.slice(0, BANNER_LINES).map(line);
  return {
    banner: loud.length
      ? {
          level: critical > 0 ? 'critical' : 'major',
          lines,
          more: Math.max(0, loud.length - BANNER_LINES),
          critical,
          major: loud.length - critical,
          folded,
          fit: bannerMessageFit(lines[0].device, lines[0].message),
        }
      : null,
    strip: quiet.length
      ? {
          lines: quiet.slice(0, 2).map(line),
          more: Math.max(0, quiet.length - 2),
          muted: !isConditionOn(quiet[0]),
        }
      : null,
  };
}

/**
 * When each loud alert came on this wall (its screen's time, not the alert's: a wall opened on an
 * old alert shows it in full first). Holds only the alerts loud now.
 */
export class BannerFold {
  private readonly since = new Map<string, number>();

  /** True when every alert in `loud` has been on the wall for `afterMs` (null: never). */
  folded(loud: readonly AlertEvent[], now: number, afterMs: number | null): boolean {
    const ids = new Set(loud.map((alert) => alert.id));
    for (const id of this.since.keys()) if (!ids.has(id)) this.since.delete(id);
    let newest = -Infinity;
    for (const id of ids) {
      let at = this.since.get(id);
      if (at === undefined) this.since.set(id, (at = now));
      if (at > newest) newest = at;
    }
    return afterMs !== null && ids.size > 0 && now - newest >= afterMs;
  }
}

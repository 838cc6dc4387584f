import { isValidId } from '@pulse/protocol/core';

/*
 * Which devices the History tab reads, from the device filter the Active tab shares (part of a
 * name or id). The exact id of a device the browser knows reads that device alone
 * (`GET /api/alerts/history?deviceId=`: the device page's link to its alerts is not widened to
 * the longer ids that contain it); any other text is matched by the gateway as the Active tab
 * matches it (`?device=`: part of an id or of a display name, any case), so the history covers
 * every device it names, also those the browser has no record of. Pure: the page passes in the
 * lookup.
 */

export type HistoryDevice =
  /** No device filter: the whole history. */
  | { kind: 'all' }
  /** This device alone: the text is its exact id. */
  | { kind: 'one'; deviceId: string; name: string }
  /** The devices whose id or name contains `text` (matched by the gateway). */
  | { kind: 'text'; text: string };

/** What `text` asks of the history; `nameOf` is the browser's record of a device's name. */
export function resolveHistoryDevice(
  text: string,
  nameOf: (deviceId: string) => string | undefined,
): HistoryDevice {
  const typed = text.trim();
  if (!typed) return { kind: 'all' };
  const name = isValidId(typed) ? nameOf(typed) : undefined;
  return name === undefined
    ? { kind: 'text', text: typed }
    : { kind: 'one', deviceId: typed, name };
}

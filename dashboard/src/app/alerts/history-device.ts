import { isValidId } from '@pulse/protocol/core';

/*
 * What the History tab's line says it reads, from the device filter the Active tab shares (part
 * of a name or id). The query is the text itself (`GET /api/alerts/history?device=`): the
 * gateway reads a known device's exact id as that device alone, any other text as part of an id
 * or a display name (decision 0055). Here the text is named for the line: the device it is the
 * exact id of, when the browser has its record, else the text. Pure: the page passes the lookup.
 */

export type HistoryDevice =
  /** No device filter: the whole history. */
  | { kind: 'all' }
  /** This device alone: the text is the exact id of a device the browser knows. */
  | { kind: 'one'; deviceId: string; name: string }
  /** The devices whose id or name contains `text` (matched by the gateway). */
  | { kind: 'text'; text: string };

/** What `text` asks of the history, for its line; `nameOf`: the browser's record of a name. */
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

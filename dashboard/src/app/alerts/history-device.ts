import { isValidId } from '@pulse/protocol/core';

/*
 * Which device the History tab reads, from the device filter the Active tab shares (part of a
 * name or id). `GET /api/alerts/history` takes one exact `deviceId` (AlertQuerySchema), so the
 * text is resolved against the devices the browser knows: one match is read, several are offered
 * to pick from, none reads nothing. Pure: the page passes the devices in.
 */

/** Devices offered to pick from when the text matches several. */
export const HISTORY_CHOICES = 10;

export interface NamedDevice {
  deviceId: string;
  name: string;
}

export type HistoryDevice =
  /** No device filter: the whole history. */
  | { kind: 'all' }
  /** Read this device's history; `name` null: a valid id the browser has no record of. */
  | { kind: 'one'; deviceId: string; name: string | null }
  /** Several devices match: nothing is read until one is picked (the first few, and how many). */
  | { kind: 'many'; choices: NamedDevice[]; total: number }
  /** No known device matches and the text is not an id: nothing is read. */
  | { kind: 'none' };

/**
 * The device `text` names among `devices`: its exact id, else the only one whose id or name
 * contains it (case-insensitive, as the Active tab matches), else several to pick from, else
 * the text itself when it can be an id (a device the browser has not seen may have a history).
 */
export function resolveHistoryDevice(text: string, devices: Iterable<NamedDevice>): HistoryDevice {
  const typed = text.trim();
  if (!typed) return { kind: 'all' };
  const lower = typed.toLowerCase();
  const matches: NamedDevice[] = [];
  for (const d of devices) {
    if (d.deviceId === typed) return { kind: 'one', deviceId: d.deviceId, name: d.name };
    if (d.deviceId.toLowerCase().includes(lower) || d.name.toLowerCase().includes(lower))
      matches.push(d);
  }
  if (matches.length === 1) return { kind: 'one', ...matches[0] };
  if (matches.length > 1) {
    matches.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    return { kind: 'many', choices: matches.slice(0, HISTORY_CHOICES), total: matches.length };
  }
  return isValidId(typed) ? { kind: 'one', deviceId: typed, name: null } : { kind: 'none' };
}

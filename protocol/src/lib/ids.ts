/**
 * Identifiers shared by devices, metrics and groups.
 *
 * Contract: 1 to 64 characters of `A-Z a-z 0-9 _ - .`. The same rule keeps ids
 * safe inside MQTT topics (no `/`, `+`, `#`), Socket.IO room names and URLs.
 */
// Not `.` or `..` alone: a URL path segment that browsers and proxies resolve away
// (`/api/users/..` is `/api/`), so such a device, user or group could not be addressed.
export const ID_PATTERN = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$/;
export const ID_MAX_LENGTH = 64;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= ID_MAX_LENGTH && ID_PATTERN.test(value);
}

/**
 * Quote an outside value for an error message, cut to a readable length.
 * Never throws: a value too deeply nested for `JSON.stringify` (e.g. thousands
 * of nested arrays, which also overflow `String()`) is described by its type.
 */
export function quote(value: unknown, max = 40): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Array.isArray(value) ? `[array of ${value.length}]` : `[${typeof value}]`;
  }
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/*
 * JSON text as ASCII: every character outside ASCII written as its `\uXXXX` escape (per UTF-16
 * code unit, so a character beyond the BMP becomes its surrogate pair's two escapes). The same
 * JSON value for any parser; only the text differs.
 *
 * Why: Chromium turns a websocket text message holding any byte outside ASCII into a string on
 * the page's main thread at roughly 0.1 ms per kB, where an ASCII message takes a fast path. A
 * 10,000-device fleet summary (640 kB, a "·" in its names) cost the page 50–80 ms once a second,
 * and the overview dropped frames while scrolling (docs/decisions/0038-ascii-live-frames.md).
 * Names outside ASCII are rare in a frame and common in a fleet: the escape costs bytes only where
 * they are, and a scan where they are not.
 *
 * Owns that rewrite; every text the live layer writes to a socket that can hold free text goes
 * through it (ack-encoder's encoder and RawJson: events, acknowledgements, shared snapshots).
 * `readings` frames (engine-adapter's encodeEvent) are ASCII by construction: ids and metric names
 * match ID_PATTERN, values are numbers. Must not parse nor change anything else.
 */

/** Any UTF-16 code unit outside ASCII. */
const NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII_ALL = /[\u0080-\uffff]/g;

const toEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `json` (JSON text, or a socket.io packet: its header is ASCII but for a namespace name, which
 * Pulse's namespaces are) as ASCII.
 */
export function asciiJson(json: string): string {
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, toEscape) : json;
}

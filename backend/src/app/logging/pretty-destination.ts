import type { DestinationStream } from 'pino';

/**
 * `LOG_FORMAT=pretty`: pino's JSON lines turned into one readable line each on the way out, for a
 * person at a terminal (`npm start`). Pulse logs a few lines a minute outside debug, so parsing
 * each line again costs nothing that matters; production logs are `json` and skip this.
 * Owns the layout only; what is logged (and redacted) is decided before a line gets here.
 */

/** Fields the layout prints in its own place (or leaves out: pid and gateway are one per process). */
const LAID_OUT = new Set(['level', 'time', 'pid', 'gateway', 'context', 'msg', 'err']);
const LEVEL_COLOURS: Record<string, string> = {
  fatal: '\x1b[35m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  debug: '\x1b[36m',
  trace: '\x1b[90m',
};

type Entry = Record<string, unknown> & { err?: { stack?: string; message?: string } };

/** `08:40:01.123  WARN [Mqtt] connection to mqtt://broker:1883 lost  key=value`. */
export function prettyLine(json: string, colour = false): string {
  let entry: Entry;
  try {
    entry = JSON.parse(json) as Entry;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = String(entry.level ?? 'info');
  const label = (level === 'info' ? 'log' : level).toUpperCase().padStart(5);
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const context = entry.context ? ` [${String(entry.context)}]` : '';
  const extras = Object.entries(entry)
    .filter(([key]) => !LAID_OUT.has(key))
    .map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('');
  const stack = entry.err ? `\n${entry.err.stack ?? entry.err.message ?? ''}` : '';
  const tint = colour ? (LEVEL_COLOURS[level] ?? '') : '';
  const reset = colour ? '\x1b[0m' : '';
  return `${time} ${tint}${label}${reset}${context} ${String(entry.msg ?? '')}${extras}${stack}\n`;
}

/** A pino destination writing {@link prettyLine}s to `out` (coloured when it is a terminal). */
export function prettyDestination(
  out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
): DestinationStream {
  const colour = out.isTTY === true;
  return { write: (line: string) => void out.write(prettyLine(line, colour)) };
}

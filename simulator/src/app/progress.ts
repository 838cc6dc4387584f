// The simulator's status line: formats SimulatorStats and redraws it on stderr. Owns formatting
// and the redraw timer; reads the counters through a callback and must not import the fleet loop
// (simulator.ts imports this module).
import { SimulatorStats } from './simulator-stats';

export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatProgress(stats: SimulatorStats, ratePerSecond: number): string {
  const elapsed = Math.max(0, Math.round((stats.now - stats.startedAt) / 1000));
  const clock = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}`;
  const parts = [
    `${clock}`,
    `sent ${fmt(stats.readings)} readings (${fmt(stats.messages)} msgs)`,
    `${fmt(ratePerSecond)}/s`,
    `errors ${fmt(stats.errors)}`,
    `connected ${fmt(stats.connected)}/${fmt(stats.devices)}`,
  ];
  if (stats.skipped) parts.push(`skipped ${fmt(stats.skipped)}`);
  if (stats.dropouts) parts.push(`dropouts ${fmt(stats.dropouts)}`);
  if (stats.outages) parts.push(`outages ${fmt(stats.outages)}`);
  return parts.join(' · ');
}

/**
 * A status line on stderr. On a terminal it is redrawn in place with `\r`
 * about once a second; in a log (not a TTY) a full line is written every
 * `logEveryMs` so logs stay readable.
 */
export function startProgress(
  read: () => SimulatorStats,
  stream: ProgressStream,
  logEveryMs = 10_000,
): { stop(): void } {
  const tty = stream.isTTY === true;
  let last = read();
  let lastLine = 0;
  const timer = setInterval(
    () => {
      const stats = read();
      const dt = (stats.now - last.now) / 1000;
      const rate = dt > 0 ? (stats.readings - last.readings) / dt : 0;
      last = stats;
      const line = formatProgress(stats, rate);
      if (tty) {
        stream.write(`\r${line}\x1b[K`);
        lastLine = line.length;
      } else {
        stream.write(`${line}\n`);
      }
    },
    tty ? 1000 : logEveryMs,
  );
  timer.unref();
  return {
    stop(): void {
      clearInterval(timer);
      if (tty && lastLine > 0) stream.write('\n');
    },
  };
}

/**
 * Processes seen through /proc, for the crash tests: which are still running with a given
 * environment variable (a gateway and its simulator child both carry their DATA_DIR). Reads
 * only; starting and killing processes is @pulse/test-support's.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of the live processes whose environment has `name=value` (zombies left out). */
export function processesWithEnv(name: string, value: string): number[] {
  const wanted = `${name}=${value}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // A killed process not yet reaped has state Z: it holds no socket and runs nothing.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(wanted))
        pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

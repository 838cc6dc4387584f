/**
 * Which built simulator processes are running on this machine (Linux /proc), for the tests that
 * check a gateway's simulator child never outlives it. Owns that scan only; starts and kills
 * nothing.
 */
import { SIMULATOR_MAIN } from '@pulse/test-support';
import { readdirSync, readFileSync } from 'node:fs';

/** Live (not zombie) processes running the built simulator whose argv contains `needle`. */
export function simulatorPids(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!argv.includes(SIMULATOR_MAIN) || !argv.includes(needle)) continue;
      if (readFileSync(`/proc/${entry}/stat`, 'utf8').includes(') Z ')) continue;
      pids.push(Number(entry));
    } catch {
      // Gone while listed.
    }
  }
  return pids;
}

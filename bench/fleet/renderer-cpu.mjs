// CPU time of a Chromium's renderer processes (and of its GPU process) from /proc: the work a
// page costs, whatever share of the two cores the other processes on this shared machine leave
// it (fps and busy % are wall-clock figures and fall with the load). Owns reading /proc; Linux
// only.
import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

function procStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS };
  } catch {
    return null; // gone meanwhile
  }
}

/**
 * User + system CPU ms of every renderer process descending from the browser `rootPid`; null
 * when the browser's pid is not known (then there is nothing to read, not nothing spent).
 */
export const rendererCpuMs = (rootPid) => childCpuMs(rootPid, 'renderer');

/** The same of its GPU process, which composites the pages (in software on this machine). */
export const gpuProcessCpuMs = (rootPid) => childCpuMs(rootPid, 'gpu-process');

/** CPU ms per second between two readings of the above over `seconds`; null if either is. */
export function cpuMsPerS(before, after, seconds) {
  return before === null || after === null ? null : (after - before) / seconds;
}

/** User + system CPU ms of every Chromium child of `--type=<type>` descending from `rootPid`. */
function childCpuMs(rootPid, type) {
  if (!rootPid) return null;
  const children = new Map();
  const cpu = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(entry);
    if (!s) continue;
    const pid = Number(entry);
    cpu.set(pid, s.cpuMs);
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(pid);
  }
  let total = 0;
  const walk = (pid) => {
    for (const child of children.get(pid) ?? []) {
      let renderer = false;
      try {
        renderer = fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(`--type=${type}`);
      } catch {
        // gone meanwhile
      }
      if (renderer) total += cpu.get(child) ?? 0;
      walk(child);
    }
  };
  walk(rootPid);
  return total;
}

// Process-tree helpers for the wall long-run check (Linux /proc only; empty elsewhere): a
// snapshot of every process, a tree's CPU and RSS, Chromium's browser and renderer main thread.
// Owns reading /proc; must not start, stop or signal any process (stack.mjs does).
import fs from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux

/** { pid, ppid, cpuS, rssMb, cmd } for every readable process. */
export function snapshot() {
  const out = new Map();
  let entries = [];
  try {
    entries = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // comm may contain spaces/parens: split after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(rest[1]);
      const cpuS = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
      const rssMb = (Number(rest[21]) * 4096) / 1048576;
      let cmd = '';
      try {
        cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        /* gone */
      }
      out.set(Number(d), { pid: Number(d), ppid, cpuS, rssMb, cmd });
    } catch {
      /* raced with exit */
    }
  }
  return out;
}

/** pid and all its descendants in a snapshot. */
export function tree(snap, root) {
  const kids = new Map();
  for (const p of snap.values()) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(p.pid);
  }
  const seen = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    if (!snap.has(pid)) continue;
    seen.push(pid);
    stack.push(...(kids.get(pid) ?? []));
  }
  return seen;
}

/** CPU seconds of each process of the tree under `root`, by pid. */
export function cpuByPid(snap, root) {
  return new Map(tree(snap, root).map((pid) => [pid, snap.get(pid).cpuS]));
}

/** Total CPU seconds and RSS of a process tree (plus, for Chromium, its renderer alone). */
export function usage(snap, root) {
  let cpuS = 0;
  let rssMb = 0;
  let rendererCpuS = 0;
  let gpuCpuS = 0;
  for (const pid of tree(snap, root)) {
    const p = snap.get(pid);
    cpuS += p.cpuS;
    rssMb += p.rssMb;
    if (p.cmd.includes('--type=renderer')) rendererCpuS += p.cpuS;
    if (p.cmd.includes('--type=gpu-process')) gpuCpuS += p.cpuS;
  }
  return { cpuS, rssMb, rendererCpuS, gpuCpuS };
}

/** Chromium's browser process among the children of `parent` (playwright spawns it directly). */
export function findChromium(snap, parent) {
  for (const p of snap.values())
    if (p.ppid === parent && /chrom/i.test(p.cmd) && !p.cmd.includes('--type=')) return p.pid;
  return null;
}

/** CPU seconds of the renderer main threads (the thread whose tid is the renderer's pid) under a Chromium browser pid. */
export function rendererMainThreadCpuS(snap, browserPid) {
  let cpuS = 0;
  for (const pid of tree(snap, browserPid)) {
    if (!snap.get(pid).cmd.includes('--type=renderer')) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuS += (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
    } catch {
      /* gone */
    }
  }
  return cpuS;
}

// Child-process lifecycle and measurement for run.mjs: every child is tracked and killed when the
// run ends or a scenario fails; IPC waits always time out; CPU seconds and RSS come from /proc,
// machine busy time from /proc/stat. Owns process bookkeeping and sampling; must not know what a
// child is for (servers.mjs starts the servers, load.mjs the load workers, scenarios decide).
import { fork } from 'node:child_process';
import { once as onceEvent } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The bench folder: child scripts are forked from here. */
export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root (dist/ lives here). */
export const root = path.resolve(benchDir, '..');
/** A target whose RSS passes this is killed (a collapsing peer must not take the machine down). */
const RSS_LIMIT = 3 * 1024 ** 3;

const children = new Set();

/** Registers a child so that killAll() reaches it; returns it. */
export function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** SIGKILL to every live child: at exit, and after a failed scenario so nothing leaks into the next. */
export function killAll() {
  for (const c of children) c.kill('SIGKILL');
}

/** Installs the exit and signal handlers that end every child with the run. */
export function killChildrenOnExit() {
  process.on('exit', killAll);
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
}

/** The next IPC message of `type` from `child`; rejects on its exit or after `timeoutMs`. */
export function once(child, type, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `no '${type}' from ${child.spawnargs?.slice(1, 2).join(' ')} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const onMessage = (msg) => {
      if (msg?.type !== type) return;
      cleanup();
      resolve(msg);
    };
    const onExit = (code) => {
      cleanup();
      reject(
        new Error(
          `${path.basename(child.spawnargs?.[1] ?? 'child')} exited (${code}) before '${type}'`,
        ),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks a bench script (path relative to bench/) with IPC, stdout dropped, stderr shown. */
export const forkQuiet = (file, args = []) =>
  track(fork(path.join(benchDir, file), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));

/**
 * SIGTERM, and SIGKILL if the child has not exited 2 s later; resolves once it is gone (or, should
 * even SIGKILL not end it, 1 s after that: a stuck child must not stall the run).
 */
export async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = onceEvent(child, 'exit');
  // BENCH_STOP_GRACE_MS: longer for a gateway profiled with --cpu-prof (written at exit).
  const grace = Number(process.env.BENCH_STOP_GRACE_MS) || 2000;
  const escalate = setTimeout(() => child.kill('SIGKILL'), grace);
  child.kill('SIGTERM');
  await Promise.race([exited, delay(grace + 1000)]);
  clearTimeout(escalate);
}

const CLK_TCK = 100; // Linux USER_HZ; getconf CLK_TCK is 100 on every x86_64 distribution we run

/** CPU seconds (user+system) in a /proc stat file, a process's or a thread's (`/proc/P/task/T/stat`). */
export function statCpuS(file) {
  const stat = fs.readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU seconds (user+system) and RSS bytes of a process, read from /proc. */
export function procStats(pid) {
  try {
    const cpu = statCpuS(`/proc/${pid}/stat`);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    return { cpu, rss };
  } catch {
    return { cpu: 0, rss: 0 };
  }
}

/** Busy jiffies and total jiffies of the whole machine (first line of /proc/stat). */
function machineStats() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** CPU seconds / RSS of each role (a child or a list of them), plus the machine's busy jiffies, at one instant. */
export function sample(procs) {
  const out = { t: Date.now(), machine: machineStats() };
  for (const [role, list] of Object.entries(procs)) {
    const pids = (Array.isArray(list) ? list : [list]).filter(Boolean).map((c) => c.pid);
    const stats = pids.map(procStats);
    out[role] = {
      cpu: stats.reduce((a, s) => a + s.cpu, 0),
      rss: stats.reduce((a, s) => a + s.rss, 0),
    };
  }
  return out;
}

/** CPU % of one core and RSS per role between two samples, machine busy % and foreign CPU %. */
export function usageBetween(before, after) {
  const secs = (after.t - before.t) / 1000;
  const out = { seconds: secs };
  for (const role of Object.keys(before)) {
    if (role === 't' || role === 'machine') continue;
    out[role] = {
      cpuPct: (100 * (after[role].cpu - before[role].cpu)) / secs,
      rssMb: after[role].rss / 1048576,
    };
  }
  const dt = after.machine.total - before.machine.total;
  out.machineBusyPct = dt ? (100 * (after.machine.busy - before.machine.busy)) / dt : null;
  // CPU used by processes outside this benchmark (other jobs on a shared machine): a noise warning.
  const ours = Object.values(out).reduce((a, v) => a + (v?.cpuPct ?? 0), 0);
  out.foreignCpuPct =
    out.machineBusyPct === null ? null : Math.max(0, out.machineBusyPct * os.cpus().length - ours);
  return out;
}

/** Samples RSS peaks every 500 ms and kills a target that passes RSS_LIMIT. */
export function watch(target, procs) {
  const peaks = {};
  let killed = null;
  const timer = setInterval(() => {
    for (const [role, child] of Object.entries(procs)) {
      if (!child) continue;
      const { rss } = procStats(child.pid);
      peaks[role] = Math.max(peaks[role] ?? 0, rss);
      if (role === 'server' && rss > RSS_LIMIT && !killed) {
        killed = `killed: RSS ${Math.round(rss / 1048576)} MB > ${RSS_LIMIT / 1048576} MB`;
        console.error(`  ${target.name} ${killed}`);
        child.kill('SIGKILL');
      }
    }
  }, 500);
  return {
    stop: () => clearInterval(timer),
    peaks: () => Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, v / 1048576])),
    killed: () => killed,
  };
}

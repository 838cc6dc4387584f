import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * `${DATA_DIR}/simulator.pid`: the built-in simulator child of the gateway running on this data,
 * so a gateway restarted on the same data never runs a second fleet with the same device ids
 * beside a stale one (issue 13). The child ends with its parent on its own (IPC channel, parent
 * pid poll); this is the check that does not depend on the child being well: a child that
 * outlived a killed gateway (an older build, a stuck event loop) is ended before the new one
 * starts. Stale means its gateway is gone: a child whose parent is still the gateway that wrote
 * the record belongs to a live gateway (a copy of its DATA_DIR started beside it, or a second
 * gateway on the same data) and is left alone, with everything of it. Owns the file and that
 * check; must not spawn anything (SimulatorRepository does).
 */

export const SIMULATOR_PID_FILE = 'simulator.pid';

/** How long a stale child may take to die after SIGKILL before the new one starts anyway. */
const STALE_EXIT_WAIT_MS = 2000;

interface PidRecord {
  pid: number;
  /** The simulator script the child runs: a reused pid running something else is left alone. */
  script: string;
  /**
   * The gateway that spawned the child (its parent while it lives). Missing in the records of
   * builds before it was kept: whose child that is cannot be told, so it is left alone.
   */
  gateway?: number;
  /**
   * The password file the gateway wrote for it, removed with a stale child: only under this
   * name in the DATA_DIR being started (its path may point into the data this was copied from).
   */
  loginFile: string | null;
}

/** Record `pid` as the simulator child of this process (the gateway) on the data in `dir`. */
export function writePidFile(
  dir: string,
  pid: number,
  script: string,
  loginFile: string | null,
): string {
  const file = join(dir, SIMULATOR_PID_FILE);
  const record: PidRecord = { pid, script, gateway: process.pid, loginFile };
  writeFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  return file;
}

/**
 * Remove `file` if it still records child `pid`: another gateway on the same data may have
 * written its own since, which is not this one's to remove.
 */
export function removePidFile(file: string, pid: number): void {
  if (readRecord(file)?.pid === pid) rmSync(file, { force: true });
}

/**
 * End the simulator a previous gateway on this data left running, if any (SIGKILL, then wait
 * for it to go so its broker connections close before the new fleet connects), and remove its
 * record and password file. A simulator whose gateway still runs is left alone, and so are its
 * files. Returns a line to log (a warning) when there was something to clear or leave, else null.
 */
export function clearStaleSimulator(dir: string): string | null {
  const file = join(dir, SIMULATOR_PID_FILE);
  if (!existsSync(file)) return null;
  const record = readRecord(file);
  const running = record !== null && runsSimulator(record.pid, record.script);
  const owner = record && liveOwner(record, running);
  if (record && owner !== null) {
    return (
      `${SIMULATOR_PID_FILE} names the simulator (pid ${record.pid}) of ${owner}: left alone, ` +
      "with its files (is this DATA_DIR a running gateway's, or a copy of one?)"
    );
  }
  rmSync(file, { force: true });
  if (record?.loginFile) rmSync(join(dir, basename(record.loginFile)), { force: true });
  if (!record || !running) return null;
  try {
    process.kill(record.pid, 'SIGKILL');
  } catch {
    return null; // gone in between
  }
  const deadline = Date.now() + STALE_EXIT_WAIT_MS;
  while (alive(record.pid) && Date.now() < deadline) sleepSync(20);
  return `a simulator left running by an earlier gateway on this DATA_DIR (pid ${record.pid}) was ended`;
}

/**
 * Who still owns the record's simulator (words for the log), or null when it is stale. A child
 * outlives its gateway only as an orphan, re-parented to init or a subreaper, so its parent
 * being the recorded gateway proves that gateway alive (a pid is not reused while a child
 * points at it). With no child running, a live process with the gateway's pid keeps the files,
 * unless it is this one (a container's gateway restarts with the same pid).
 */
function liveOwner(record: PidRecord, running: boolean): string | null {
  const gateway = record.gateway;
  if (typeof gateway !== 'number' || !Number.isInteger(gateway))
    return running ? 'a gateway an older build did not record' : null;
  const owns = running
    ? parentOf(record.pid) === gateway
    : gateway !== process.pid && alive(gateway);
  return owns ? `gateway pid ${gateway}, which still runs` : null;
}

function readRecord(file: string): PidRecord | null {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
    return Number.isInteger(record.pid) && record.pid > 1 ? record : null;
  } catch {
    return null; // missing or unreadable: nothing can be checked against it
  }
}

/** Whether `pid` is alive and runs `script` (Linux /proc; elsewhere it cannot be told: no). */
function runsSimulator(pid: number, script: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(script) && alive(pid);
  } catch {
    return false;
  }
}

/** The parent pid of `pid` (Linux /proc), or null. */
function parentOf(pid: number): number | null {
  const fields = statOf(pid);
  return fields ? Number(fields[1]) : null;
}

function alive(pid: number): boolean {
  // A zombie (killed, not yet reaped by its parent) is dead enough: its sockets are closed.
  const fields = statOf(pid);
  return fields !== null && fields[0] !== 'Z';
}

/** `/proc/<pid>/stat` from the state on (`state ppid …`), or null when there is no such process. */
function statOf(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Boot-time only, bounded by STALE_EXIT_WAIT_MS: nothing else runs yet. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

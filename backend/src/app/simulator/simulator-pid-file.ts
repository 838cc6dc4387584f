import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `${DATA_DIR}/simulator.pid`: the built-in simulator child of the gateway running on this data,
 * so a gateway restarted on the same data never runs a second fleet with the same device ids
 * beside a stale one (issue 13). The child ends with its parent on its own (IPC channel, parent
 * pid poll); this is the check that does not depend on the child being well: a child that
 * outlived a killed gateway (an older build, a stuck event loop) is ended before the new one
 * starts. Owns the file and that check; must not spawn anything (SimulatorRepository does).
 */

export const SIMULATOR_PID_FILE = 'simulator.pid';

/** How long a stale child may take to die after SIGKILL before the new one starts anyway. */
const STALE_EXIT_WAIT_MS = 2000;

interface PidRecord {
  pid: number;
  /** The simulator script the child runs: a reused pid running something else is left alone. */
  script: string;
  /** The password file the stale gateway wrote for it (removed with it). */
  loginFile: string | null;
}

export function writePidFile(
  dir: string,
  pid: number,
  script: string,
  loginFile: string | null,
): string {
  const file = join(dir, SIMULATOR_PID_FILE);
  const record: PidRecord = { pid, script, loginFile };
  writeFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  return file;
}

/**
 * End the simulator a previous gateway on this data left running, if any (SIGKILL, then wait
 * for it to go so its broker connections close before the new fleet connects). Returns a line
 * to log when there was something to clear, else null.
 */
export function clearStaleSimulator(dir: string): string | null {
  const file = join(dir, SIMULATOR_PID_FILE);
  if (!existsSync(file)) return null;
  let record: PidRecord | null = null;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    // Unreadable: nothing can be checked against it.
  }
  rmSync(file, { force: true });
  if (record?.loginFile) rmSync(record.loginFile, { force: true });
  if (!record || !Number.isInteger(record.pid) || record.pid <= 1) return null;
  if (!runsSimulator(record.pid, record.script)) return null;
  try {
    process.kill(record.pid, 'SIGKILL');
  } catch {
    return null; // gone in between
  }
  const deadline = Date.now() + STALE_EXIT_WAIT_MS;
  while (alive(record.pid) && Date.now() < deadline) sleepSync(20);
  return `a simulator left running by an earlier gateway on this DATA_DIR (pid ${record.pid}) was ended`;
}

/** Whether `pid` is alive and runs `script` (Linux /proc; elsewhere it cannot be told: no). */
function runsSimulator(pid: number, script: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(script);
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    // A zombie (killed, not yet reaped by its parent) is dead enough: its sockets are closed.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Boot-time only, bounded by STALE_EXIT_WAIT_MS: nothing else runs yet. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

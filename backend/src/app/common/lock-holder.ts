import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who holds one of Pulse's locks on DATA_DIR (a backup's `backups/.lock`, a gateway's history
 * journal), as the lock says it and as a refusal names it. Shared so both say "this process" the
 * same way; each lock keeps its own rule for when a holder is gone (decisions 0071 and 0073).
 */
export interface LockHolder {
  pid: number;
  host: string;
  /**
   * The holder's pid namespace (Linux: `/proc/self/ns/pid`, e.g. `pid:[4026531836]`); absent
   * where there is no /proc. Its pid means something only on the same host in the same
   * namespace: containers with host networking share the host name, not their processes.
   */
  pidNamespace?: string;
  /** ms since epoch. */
  startedAt: number;
}

/** This process's pid namespace (LockHolder.pidNamespace), fixed for its life. */
export const PID_NAMESPACE = pidNamespace();

/** This process as a holder from `startedAt` on. */
export function thisHolder(startedAt: number): LockHolder {
  return {
    pid: process.pid,
    host: hostname(),
    ...(PID_NAMESPACE === undefined ? {} : { pidNamespace: PID_NAMESPACE }),
    startedAt,
  };
}

/**
 * `process 42 on gateway-b since 2026-12-07T17:50:36.000Z`, for a refusal; a holder of this host
 * name in another pid namespace is said to be another container's (its pid is not one here).
 */
export function describeHolder(holder: LockHolder): string {
  const elsewhere =
    holder.host === hostname() &&
    holder.pidNamespace !== undefined &&
    PID_NAMESPACE !== undefined &&
    holder.pidNamespace !== PID_NAMESPACE
      ? ' (another container: its pid is not one of this one)'
      : '';
  return `process ${holder.pid} on ${holder.host}${elsewhere} since ${new Date(holder.startedAt).toISOString()}`;
}

/** This process's pid namespace, undefined where /proc is absent (not Linux): host name alone. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/**
 * Ends the simulator with the process that started it (issue 13: a gateway killed with SIGKILL
 * left its simulator child running for 40 minutes, and a restarted gateway started a second one
 * with the same device ids). Owns the two signs of a parent's death: the IPC channel the gateway
 * opens closing ('disconnect', at once, however the parent died), and, as a fallback for a
 * channel that never closes (a stuck parent holding it, a runtime without IPC), the parent pid
 * changing (the orphan is re-parented to init or a subreaper). Must not decide how to shut down:
 * it calls `onParentGone` once and the caller stops the fleet.
 */

/** How often the parent pid is compared (a SIGKILLed gateway's child is gone within this plus shutdown). */
export const PARENT_POLL_MS = 1000;

export interface ParentProcess {
  readonly ppid: number;
  /** Set when the process was spawned with an IPC channel (`stdio: [..., 'ipc']`). */
  readonly channel?: { unref(): void } | null | undefined;
  once(event: 'disconnect', listener: () => void): unknown;
}

/**
 * Watch the parent when there is one to watch (started with an IPC channel, as the gateway
 * does); a CLI started from a shell has none and is left alone. Returns the stop function.
 */
export function watchParent(
  onParentGone: (reason: string) => void,
  proc: ParentProcess = process,
  pollMs = PARENT_POLL_MS,
): () => void {
  if (!proc.channel) return () => undefined;
  const parent = proc.ppid;
  let done = false;
  const gone = (reason: string) => {
    if (done) return;
    done = true;
    clearInterval(timer);
    onParentGone(reason);
  };
  proc.once('disconnect', () => gone('parent closed the IPC channel'));
  // The channel must not keep an otherwise finished simulator alive.
  proc.channel.unref();
  const timer = setInterval(() => {
    if (proc.ppid !== parent) gone(`parent ${parent} is gone`);
  }, pollMs);
  timer.unref();
  return () => {
    done = true;
    clearInterval(timer);
  };
}

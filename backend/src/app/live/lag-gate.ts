/**
 * The narrow interface through which the readings fan-out consults the lag monitor while it
 * writes (queries only: the fan-out never changes lag state; it hands the sockets it skipped
 * for their backlog to the monitor after the room's writes). Owned by lag-monitor.ts, which
 * implements it; kept in its own file so the emitter does not import the monitor.
 */

/**
 * Bytes queued on a websocket in user space (beyond what the kernel's socket buffers took) at
 * which the socket is paused for lagging. The kernel takes MBs on loopback first, so a socket
 * over this has not read for seconds. Frames are shared between sockets, so the bytes queued
 * on many lagging sockets are mostly the same few buffers. Above the biggest frame a flush
 * can make (FLUSH_AT_READINGS readings), so one big batch does not count as lagging.
 */
export const LAG_PAUSE_BYTES = 1 << 20;
/**
 * Packets queued in engine.io (long-polling between polls, a websocket with a write pending) at
 * which a socket is lagging: checked as readings are written and by the monitor's check.
 */
export const LAG_PAUSE_PACKETS = 256;
/** The limit instead of LAG_PAUSE_BYTES while a refill is being sent (an ack can be ~10 MB). */
export const LAG_REFILL_BYTES = 16 << 20;

export interface LagGate {
  /** The socket is paused for lagging: it gets no readings. */
  isPaused(socketId: string): boolean;
  /**
   * Bytes the socket may have queued in user space before it counts as lagging: never below
   * LAG_PAUSE_BYTES (so callers test that constant first), more while a refill is sent.
   */
  limitBytes(socketId: string, now: number): number;
}

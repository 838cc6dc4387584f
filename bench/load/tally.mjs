// The state one load worker shares between its protocol clients (which count) and its control
// loop (load-worker.mjs, which resets and reports): the latency histograms, the measuring switch,
// frames seen, connect outcomes, and the Client record. Owns that state's shape; must not speak
// a protocol or talk IPC.
import { Histogram } from '../lib/histogram.mjs';

export const tally = {
  /** Latency of healthy clients' readings, and of stalled clients' after they resume. */
  healthy: new Histogram(),
  stalled: new Histogram(),
  /**
   * Newest-value age of healthy probes, sampled every AGE_SAMPLE_MS while measuring: now minus the
   * newest reading's ts the client holds. What a screen shows is this old; unlike latency it also
   * grows when nothing arrives at all (a throttled or starved client).
   */
  age: new Histogram(),
  /** Off during warm-up: frames are counted (for quiet detection) but readings are not. */
  measuring: false,
  /** Readings frames/packets seen, measuring or not (the orchestrator waits for it to go quiet). */
  frames: 0,
  ok: 0,
  errors: 0,
  firstError: null,
};

/** A connect/subscribe that failed: counted once per client, the first error kept. */
export function fail(c, err) {
  if (c.done) return;
  c.done = true;
  tally.errors++;
  tally.firstError ??= String(err?.message ?? err);
  c.resolve?.();
}

export function subscribed(c) {
  if (c.done) return;
  c.done = true;
  tally.ok++;
  c.resolve?.();
}

export class Client {
  constructor(index, stallable) {
    this.index = index;
    this.stallable = stallable;
    this.received = 0;
    this.bytes = 0;
    this.probe = true;
    this.stalled = false;
    this.wasStalled = false;
    this.lastTs = 0;
    /** A viewer's bearer token for the handshake (Pulse with auth on), else undefined. */
    this.token = undefined;
    this.ackId = 1;
    this.pendingAcks = new Map();
    this.lagged = null;
    this.refill = null;
    this.closed = false;
    this.reconnected = false;
  }
}

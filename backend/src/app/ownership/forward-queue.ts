import { isDecodedReading, type Reading } from '@pulse/protocol';

/** Readings waiting to be forwarded, all owners together, per flush tick at most; beyond, dropped. */
export const MAX_FORWARD_PENDING = 50_000;
/** Readings in one forwarded message at most (a bigger tick goes out as several messages). */
export const MAX_FORWARD_BATCH = 2_000;

/** Format version of a forwarded message (a gateway skips a version it does not know). */
const VERSION = 1;

/** One message on an owner's channel: who sent it, how often it was forwarded, the readings. */
export interface ForwardMessage {
  v: typeof VERSION;
  g: string;
  /** 0: from the gateway that ingested them; 1: passed on by a gateway that no longer owns them. */
  h: 0 | 1;
  r: Reading[];
}

/**
 * The readings of devices another gateway owns, per owner and per hop, until the next flush tick
 * sends each owner its batch as a few messages. Bounded per tick (MAX_FORWARD_PENDING): a
 * reading beyond is dropped and counted, as the live fan-out drops what Redis cannot take.
 *
 * Pure; owns the queue and the message format; must not publish (AlertRouting does).
 */
export class ForwardQueue {
  private readonly byOwner = new Map<string, { fresh: Reading[]; passed: Reading[] }>();
  private count = 0;
  dropped = 0;

  constructor(private readonly max = MAX_FORWARD_PENDING) {}

  get size(): number {
    return this.count;
  }

  add(owner: string, readings: readonly Reading[], passedOn = false): void {
    let queued = this.byOwner.get(owner);
    if (!queued) this.byOwner.set(owner, (queued = { fresh: [], passed: [] }));
    const list = passedOn ? queued.passed : queued.fresh;
    for (const reading of readings) {
      if (this.count >= this.max) {
        this.dropped++;
        continue;
      }
      list.push(reading);
      this.count++;
    }
  }

  /** Everything queued, as messages per owner; the queue is empty after. */
  take(self: string): { owner: string; message: ForwardMessage }[] {
    const out: { owner: string; message: ForwardMessage }[] = [];
    for (const [owner, { fresh, passed }] of this.byOwner) {
      for (const [h, list] of [
        [0, fresh],
        [1, passed],
      ] as const)
        for (let i = 0; i < list.length; i += MAX_FORWARD_BATCH)
          out.push({
            owner,
            message: { v: VERSION, g: self, h, r: list.slice(i, i + MAX_FORWARD_BATCH) },
          });
    }
    this.byOwner.clear();
    this.count = 0;
    return out;
  }
}

/** A forwarding gateway's id (its GATEWAY_ID: at most 64 characters, or a host name and port). */
const SENDER_MAX_LENGTH = 300;

/**
 * A message from an owner channel, checked whole before anything reads it (another version, a
 * bug or anyone who can publish on Redis may have sent it): the format version, the sender, at
 * most MAX_FORWARD_BATCH readings (a sender never sends more in one). Returns why it is refused,
 * or the message with its valid readings (each as the decoder makes it, {@link isDecodedReading},
 * stamped no later than `latestTs`) and how many others were left out. The per-reading check is
 * a key walk, a few comparisons and the id pattern tests: about what the ingest's decoder spends
 * on the reading, a quarter of the JSON parse before it.
 */
export function parseForward(
  raw: Buffer,
  latestTs: number,
): { message: ForwardMessage; refused: number } | string {
  let message: unknown;
  try {
    message = JSON.parse(raw.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (typeof message !== 'object' || message === null) return 'not an object';
  const { v, g, h, r } = message as Partial<Record<keyof ForwardMessage, unknown>>;
  if (v !== VERSION) return 'another format version';
  if (typeof g !== 'string' || g.length === 0 || g.length > SENDER_MAX_LENGTH) return 'bad sender';
  if (!Array.isArray(r)) return 'no readings';
  if (r.length > MAX_FORWARD_BATCH) return `more than ${MAX_FORWARD_BATCH} readings`;
  const readings: Reading[] = [];
  for (const reading of r) if (isDecodedReading(reading, latestTs)) readings.push(reading);
  return {
    message: { v: VERSION, g, h: h === 1 ? 1 : 0, r: readings },
    refused: r.length - readings.length,
  };
}

/** History points all subscribe acks together may carry per second. */
const ACK_POINTS_PER_SECOND = 2_000_000;
/** Subscribe requests that may wait for the budget; beyond it they are refused ("busy"). */
const MAX_WAITING_ACKS = 10_000;

/**
 * A token bucket of history points for subscribe acknowledgements. A refill storm — a
 * hundred clients re-subscribing with `since` at once after a stall, each ack up to
 * 500,000 points (~10 MB of JSON) — otherwise builds every ack in the same second and
 * balloons the gateway's memory (2.2 GB in the stall benchmark) while starving healthy
 * clients. The bucket lets an ack through while it holds tokens (it may go into debt by
 * one ack) and queues the rest, served in order as tokens come back.
 *
 * Owned by the live gateway (one per process); knows nothing of sockets or what an ack holds.
 */
export class AckBudget {
  private tokens: number;
  private at: number;
  private readonly waiting: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly pointsPerSecond = ACK_POINTS_PER_SECOND,
    private readonly now: () => number = Date.now,
    private readonly maxWaiting = MAX_WAITING_ACKS,
  ) {
    this.tokens = pointsPerSecond;
    this.at = now();
  }

  /** Run `serve` now if the budget allows (and nobody waits), else queue it. False: queue full. */
  run(serve: () => void): boolean {
    this.refill();
    if (this.tokens > 0 && this.waiting.length === 0) {
      serve();
      return true;
    }
    if (this.waiting.length >= this.maxWaiting) return false;
    this.waiting.push(serve);
    this.schedule();
    return true;
  }

  /** Points an ack actually carried. */
  spend(points: number): void {
    this.tokens -= points;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.length = 0;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(
      this.pointsPerSecond,
      this.tokens + ((now - this.at) * this.pointsPerSecond) / 1000,
    );
    this.at = now;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.pointsPerSecond));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refill();
      while (this.tokens > 0 && this.waiting.length > 0) {
        const serve = this.waiting.shift() as () => void;
        serve();
      }
      if (this.waiting.length > 0) this.schedule();
    }, wait);
    this.timer.unref?.();
  }
}

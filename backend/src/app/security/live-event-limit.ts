import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { SecurityCounters } from './security-counters.service';

/**
 * Events one `/live` socket may send per second. The dashboard sends a few per navigation
 * (subscribe, unsubscribe, ack); a wall screen rotating boards, one or two every few seconds.
 */
export const LIVE_EVENTS_PER_SECOND = 20;
/** Events in one second at which the socket is disconnected rather than answered. */
export const LIVE_EVENTS_DISCONNECT = 100;

/** The part of a Socket.IO server socket this uses. */
interface LimitedSocket {
  id: string;
  use(fn: (packet: unknown[], next: (error?: Error) => void) => void): unknown;
  disconnect(close?: boolean): unknown;
}

/**
 * Per-socket event rate limit on `/live` (rate-limiter-flexible's in-memory fixed window,
 * keyed by socket id; keys expire with their window). Within LIVE_EVENTS_PER_SECOND an event
 * goes through; beyond, it is not handled and its acknowledgement (if any) is
 * `{ok: false, error: 'rate limited'}`; at LIVE_EVENTS_DISCONNECT the socket is disconnected
 * (a flood costs a parse per event even when refused). Owns the limit only: the handlers
 * behind it are untouched.
 */
export class LiveEventLimit {
  private readonly limiter = new RateLimiterMemory({
    points: LIVE_EVENTS_PER_SECOND,
    duration: 1,
  });

  constructor(private readonly counters: SecurityCounters) {}

  /** Install on a socket as it connects, before its handlers see any event. */
  guard(socket: LimitedSocket): void {
    socket.use((packet, next) => {
      this.limiter.consume(socket.id).then(
        () => next(),
        (result: RateLimiterRes | Error) => {
          const used = result instanceof RateLimiterRes ? result.consumedPoints : Infinity;
          if (used >= LIVE_EVENTS_DISCONNECT) {
            if (used === LIVE_EVENTS_DISCONNECT) {
              this.counters.refuse('live_event_flood', `socket ${socket.id} disconnected`);
              socket.disconnect(true);
            }
            return;
          }
          this.counters.refuse('live_event_rate', `event ${String(packet[0])} on ${socket.id}`);
          const ack = packet[packet.length - 1];
          if (typeof ack === 'function') ack({ ok: false, error: 'rate limited' });
        },
      );
    });
  }
}

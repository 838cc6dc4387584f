import type { TransportName } from './live-socket';
import { pageStorage } from '../util/page-storage';
import {
  TransportPlan,
  WebSocketVerdict,
  fallbackPlan,
  planTransports,
  readTransportRecord,
  writeTransportRecord,
} from './transport-memory';

/*
 * The transport decision of one live connection's lifetime (issue 12, decision 0020): the plan
 * read from what this browser remembers about the gateway origin, the guard that hands a silent
 * WebSocket-first attempt over to long-polling, and the verdicts written back as connections
 * connect, upgrade or fail to. LiveService asks it which transports a new socket gets and tells it
 * what happened; it must not connect, hold the socket or touch the connection state itself.
 */

export interface TransportChoiceEnv {
  /** localStorage, or null where the browser has none or refuses it. */
  storage: Storage | null;
  /** Origin of the gateway the live socket talks to (the records are kept per origin). */
  origin: string;
  /** `?transport=` of the page, when given. */
  forced: string | null;
  now: () => number;
}

/** The environment of a page: its query, its origin, its localStorage if it may be used. */
export function pageTransportEnv(win: Window | null): TransportChoiceEnv {
  // Private modes and sandboxed frames refuse storage: then it runs without memory.
  const storage = pageStorage(win);
  const location = win?.location;
  return {
    storage,
    origin: location?.origin ?? '',
    forced: new URLSearchParams(location?.search ?? '').get('transport'),
    now: () => Date.now(),
  };
}

export class TransportChoice {
  private plan: TransportPlan;
  private guard: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly env: TransportChoiceEnv) {
    this.plan = planTransports(env.forced, readTransportRecord(env.storage, env.origin));
  }

  /** Transports a new socket is created with, in order. */
  get transports(): TransportName[] {
    return [...this.plan.transports];
  }

  /**
   * A connection attempt started. When it goes WebSocket-first, `giveUp` runs if it has not
   * connected within the guard: from then on long-polling goes first (the caller replaces the
   * socket), and the WebSocket is remembered as blocked until an upgrade proves otherwise.
   */
  attemptStarted(giveUp: () => void): void {
    this.clearGuard();
    if (this.plan.guardMs === null) return;
    this.guard = setTimeout(() => {
      this.guard = null;
      this.plan = fallbackPlan(this.plan);
      this.remember('blocked');
      giveUp();
    }, this.plan.guardMs);
  }

  /** The socket connected over `transport`. */
  connected(transport: TransportName): void {
    this.clearGuard();
    if (transport === 'websocket') this.remember('worked');
    // WebSocket-first, yet connected over polling: socket.io fell back after a WebSocket error.
    else if (this.plan.transports[0] === 'websocket') this.remember('blocked');
  }

  /** A live connection moved to `transport` (the background upgrade succeeded). */
  upgraded(transport: TransportName): void {
    if (transport === 'websocket') this.remember('worked');
  }

  /** The background WebSocket probe failed (refused, closed, or no answer to its ping). */
  upgradeFailed(): void {
    this.remember('blocked');
  }

  /**
   * The attempt failed or the connection was lost. True when the next attempt needs a new socket:
   * a failed WebSocket-first attempt is followed by long-polling first (a WebSocket accepted and
   * then closed by a middlebox never raises the error socket.io needs to fall back by itself).
   */
  lost(attemptFailed: boolean): boolean {
    this.clearGuard();
    if (!attemptFailed || this.plan.transports.length < 2) return false;
    if (this.plan.transports[0] !== 'websocket') return false;
    this.plan = fallbackPlan(this.plan);
    return true;
  }

  stop(): void {
    this.clearGuard();
  }

  private remember(verdict: WebSocketVerdict): void {
    if (this.plan.remember)
      writeTransportRecord(this.env.storage, this.env.origin, verdict, this.env.now());
  }

  private clearGuard(): void {
    if (this.guard !== null) clearTimeout(this.guard);
    this.guard = null;
  }
}

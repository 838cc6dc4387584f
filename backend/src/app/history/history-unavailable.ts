import { ServiceUnavailableException } from '@nestjs/common';

/** What a client is told when the durable store cannot answer; never the driver's words. */
export const HISTORY_UNAVAILABLE_MESSAGE =
  'the history store cannot be read right now; try again shortly';

/**
 * A history read that needed the durable store (PostgreSQL down or unreachable, a SQLite file
 * that fails) and could not get it. Thrown by HistoryReader after it counted and logged the
 * cause, so every route that reads history answers the same 503 in the one error body (decision
 * 0056) with nothing to map on its own: a 503 because the client may try again and the gateway
 * itself is fine, where the driver's error reaching Nest's base filter answered a 500.
 */
export class HistoryUnavailableError extends ServiceUnavailableException {
  constructor() {
    super(HISTORY_UNAVAILABLE_MESSAGE);
  }
}

import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Principal } from '../auth/principal';
import { ClientAddress } from '../common/client-address';
import { CONFIG, Config } from '../config/config';
import { SecurityCounters } from './security-counters.service';

/** The window of API_READ_BUDGET, in seconds. */
export const READ_BUDGET_WINDOW_S = 10;

/**
 * Per-client budget of history reads over HTTP (`GET /api/history`, `/api/devices/:id/history`,
 * `/api/alerts/history`): at most API_READ_BUDGET device histories per 10 s (a windows read of
 * 30 devices spends 30, any other read 1), per session or token (a user's, a screen's) or, for
 * an anonymous client, per client address. Each read is bounded on its own (points, range, 100
 * devices); this bounds how many one client may ask in a row, so that one viewer in a loop cannot
 * take the gateway's store and CPU from every screen (the `/live` socket has its own per-event
 * limit). rate-limiter-flexible's in-memory fixed window; keys expire with their window. Over
 * the budget: 429 with Retry-After, counted as `http_read_rate`. A screen reads a few dozen per
 * navigation or board (the overview's first screen ~35, a wall board its devices, a device page
 * 1), far below the default 300.
 */
@Injectable()
export class ReadBudget {
  private readonly limiter: RateLimiterMemory;

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'API_READ_BUDGET'>,
    private readonly addresses: ClientAddress,
    private readonly counters: SecurityCounters,
  ) {
    this.limiter = new RateLimiterMemory({
      points: config.API_READ_BUDGET,
      duration: READ_BUDGET_WINDOW_S,
    });
  }

  /**
   * Spend `cost` (≥ 1) of the caller's budget, or refuse: 429 `{error, message}` with Retry-After
   * (set on `res`), counted. A read costing more than the whole budget is refused at once.
   */
  async spend(req: Request, res: Response, principal: Principal, cost: number): Promise<void> {
    const key = this.clientKey(req, principal);
    try {
      await this.limiter.consume(key, Math.max(1, Math.ceil(cost)));
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      const seconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      this.counters.refuse('http_read_rate', `${req.method} ${req.path.slice(0, 80)} from ${key}`);
      res.setHeader('Retry-After', String(seconds));
      throw new HttpException(
        {
          error: 'rate_limited',
          message: `too many history reads: at most ${this.limiter.points} per ${READ_BUDGET_WINDOW_S} s for this client (a read of several devices counts each); retry in ${seconds} s`,
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  /** Whose budget: the session's or token's id, else the anonymous client's address. */
  private clientKey(req: Request, principal: Principal): string {
    if (principal.kind === 'anonymous') return `address ${this.addresses.of(req)}`;
    return `${principal.kind} token ${principal.tokenId}`;
  }
}

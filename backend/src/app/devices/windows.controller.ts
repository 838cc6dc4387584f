import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  LIMITS,
  WindowsQuery,
  WindowsQuerySchema,
  WindowsResponse,
  toTimeDeltas,
} from '@pulse/protocol';
import { groupScope, Principal } from '../auth/principal';
import { CurrentPrincipal, ScopeFiltered } from '../auth/roles.decorator';
import { CONFIG, Config } from '../config/config';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { HistoryReader } from '../history/history-reader.service';
import { ReadBudget } from '../security/read-budget';
import { DeviceRegistryService } from './device-registry.service';

/**
 * `GET /api/history?devices=a,b&from&maxPoints&timeDeltas=true` (viewer): the windows of several
 * devices in one answer, every metric, at most `maxPoints` per metric spread over the range as a
 * subscribe's history, from at most `LIMITS.maxWindowMs` (an hour) ago. What a wall board or a screen of tiles reads beside its socket: over HTTP
 * it comes compressed and on a connection of its own, so the socket's readings do not wait behind
 * it (docs/decisions/0051-windows-over-http.md). A device unknown, or outside a group-scoped
 * caller's groups, has no series (as if unknown). Thin: the reads are HistoryReader's.
 */
@ScopeFiltered()
@Controller('history')
export class WindowsController {
  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<Config, 'HISTORY_WINDOW_MS' | 'HISTORY_MAX_POINTS'>,
    private readonly registry: DeviceRegistryService,
    private readonly history: HistoryReader,
    private readonly budget: ReadBudget,
  ) {}

  @Get()
  async get(
    @Query(new ZodValidationPipe(WindowsQuerySchema)) query: WindowsQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<WindowsResponse> {
    // Each device asked is a read, known or not (asking is what costs the caller's budget).
    await this.budget.spend(req, res, principal, query.devices.length);
    const scope = groupScope(principal);
    const now = Date.now();
    // Live windows are at most an hour (a device page's, a wall's longest): a read starts no
    // earlier, so one request stays within the recent window's reach whatever it asks.
    const from = Math.max(
      now - LIMITS.maxWindowMs,
      query.from ?? now - this.config.HISTORY_WINDOW_MS,
    );
    const maxPoints = query.maxPoints ?? this.config.HISTORY_MAX_POINTS;
    const visible = query.devices.filter((id) => this.registry.visibleIn(id, scope));
    const windows = await Promise.all(
      visible.map((id) => this.history.query(id, from, Infinity, maxPoints, undefined, 'spread')),
    );
    const series = windows.flat();
    return { series: query.timeDeltas ? series.map(toTimeDeltas) : series };
  }
}

import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Logger,
  NotFoundException,
  Param,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  DeviceInfo,
  DeviceListResponse,
  DeviceOrigin,
  HistoryQuery,
  HistoryQuerySchema,
  HistoryResponse,
  quote,
} from '@pulse/protocol';
import { groupScope, inScope, Principal } from '../auth/principal';
import { CurrentPrincipal, Roles, ScopeFiltered } from '../auth/roles.decorator';
import { CONFIG, Config } from '../config/config';
import { HistoryReader } from '../history/history-reader.service';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { ReadBudget } from '../security/read-budget';
import { DeviceOriginsService } from './device-origins.service';
import { DeviceRegistryService } from './device-registry.service';

/**
 * `/api/devices`: the registry and each device's history, and an admin's removal of a device. A
 * group-scoped caller (a wall screen, a scoped token) sees and removes only devices of its
 * groups; another device is 404, as if unknown.
 */
@ScopeFiltered()
@Controller('devices')
export class DevicesController {
  private readonly logger = new Logger('Devices');

  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<Config, 'HISTORY_WINDOW_MS' | 'HISTORY_MAX_POINTS'>,
    private readonly registry: DeviceRegistryService,
    private readonly history: HistoryReader,
    private readonly origins: DeviceOriginsService,
    private readonly budget: ReadBudget,
  ) {}

  @Get()
  list(@CurrentPrincipal() principal: Principal): DeviceListResponse {
    const scope = groupScope(principal);
    const devices = this.registry.list();
    return {
      devices: scope === null ? devices : devices.filter((d) => inScope(scope, d.meta?.group)),
    };
  }

  @Get(':id')
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): DeviceInfo {
    return this.require(id, principal);
  }

  /** Its ingest source and the fields its format left out lately (issue 14). */
  @Get(':id/origin')
  origin(@Param('id') id: string, @CurrentPrincipal() principal: Principal): DeviceOrigin {
    this.require(id, principal);
    return this.origins.get(id);
  }

  /**
   * `from` defaults to now − HISTORY_WINDOW_MS, `to` to no limit, `maxPoints`
   * (per metric) to HISTORY_MAX_POINTS. Within the recent window, beyond maxPoints the most
   * recent points are returned (`pick=spread`: points spread over the range, as a subscribe's
   * history, decision 0050); a range reaching past it is read from the durable store and
   * min/max decimated over the whole range (docs/decisions/0021).
   */
  @Get(':id/history')
  async getHistory(
    @Param('id') id: string,
    @Query(new ZodValidationPipe(HistoryQuerySchema)) query: HistoryQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HistoryResponse> {
    await this.budget.spend(req, res, principal, 1);
    this.require(id, principal);
    const from = query.from ?? Date.now() - this.config.HISTORY_WINDOW_MS;
    const series = await this.history.query(
      id,
      from,
      query.to ?? Infinity,
      query.maxPoints ?? this.config.HISTORY_MAX_POINTS,
      query.metrics,
      query.pick,
    );
    return { deviceId: id, series };
  }

  /**
   * 204: the device is out of the registry, the fleet summary (a removal in the next `summary`
   * event) and the alert engine (its open alerts end "device removed"); its stored readings stay
   * until retention ages them out, and if it speaks again it is a new device
   * (docs/decisions/0060-removing-a-device.md). 404 for a device unknown or outside the caller's
   * groups.
   */
  @Roles('admin')
  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string, @CurrentPrincipal() principal: Principal): void {
    this.require(id, principal);
    this.registry.remove(id);
    const by = principal.kind === 'user' ? principal.username : principal.kind;
    this.logger.log(`device ${quote(id)} removed by ${quote(by)}`);
  }

  private require(id: string, principal: Principal): DeviceInfo {
    const device = this.registry.visibleIn(id, groupScope(principal)) && this.registry.get(id);
    if (!device) throw new NotFoundException(`device "${id.slice(0, 64)}" is not known`);
    return device;
  }
}

import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import {
  DeviceInfo,
  DeviceListResponse,
  HistoryQuery,
  HistoryQuerySchema,
  HistoryResponse,
} from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import { HistoryService } from '../history/history.service';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { DeviceRegistryService } from './device-registry.service';

@Controller('devices')
export class DevicesController {
  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<Config, 'HISTORY_WINDOW_MS' | 'HISTORY_MAX_POINTS'>,
    private readonly registry: DeviceRegistryService,
    private readonly history: HistoryService,
  ) {}

  @Get()
  list(): DeviceListResponse {
    return { devices: this.registry.list() };
  }

  @Get(':id')
  get(@Param('id') id: string): DeviceInfo {
    return this.require(id);
  }

  /**
   * `from` defaults to now − HISTORY_WINDOW_MS, `to` to no limit, `maxPoints`
   * (per metric) to HISTORY_MAX_POINTS; beyond maxPoints the most recent points are returned.
   */
  @Get(':id/history')
  getHistory(
    @Param('id') id: string,
    @Query(new ZodValidationPipe(HistoryQuerySchema)) query: HistoryQuery,
  ): HistoryResponse {
    this.require(id);
    const from = query.from ?? Date.now() - this.config.HISTORY_WINDOW_MS;
    const series = this.history.query(
      id,
      from,
      query.to ?? Infinity,
      query.maxPoints ?? this.config.HISTORY_MAX_POINTS,
      query.metrics,
    );
    return { deviceId: id, series };
  }

  private require(id: string): DeviceInfo {
    const device = this.registry.get(id);
    if (!device) throw new NotFoundException(`device "${id.slice(0, 64)}" is not known`);
    return device;
  }
}

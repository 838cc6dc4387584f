import { Controller, Get } from '@nestjs/common';
import { IngestStats } from '@pulse/protocol';
import { Public } from '../auth/roles.decorator';
import { IngestService } from '../ingest/ingest.service';
import { StatsService } from '../stats/stats.service';

export interface HealthResponse {
  status: 'ok';
  broker: 'connected' | 'disconnected';
  serverTime: number;
}

@Controller()
export class SystemController {
  constructor(
    private readonly ingest: IngestService,
    private readonly stats: StatsService,
  ) {}

  /** Liveness; `broker` tells whether ingestion is connected. */
  @Public()
  @Get('health')
  health(): HealthResponse {
    const status = this.ingest.gatewayStatus();
    return {
      status: 'ok',
      broker: status.broker,
      serverTime: status.serverTime,
    };
  }

  @Get('stats')
  getStats(): IngestStats {
    return this.stats.collect();
  }
}

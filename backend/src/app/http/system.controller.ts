import { Controller, Get, Header } from '@nestjs/common';
import { IngestStats } from '@pulse/protocol';
import { Public } from '../auth/roles.decorator';
import { IngestService } from '../ingest/ingest.service';
import { MetricsService } from '../stats/metrics.service';
import { StatsService } from '../stats/stats.service';

export interface HealthResponse {
  status: 'ok';
  broker: 'connected' | 'disconnected';
  serverTime: number;
}

/**
 * `/api/health`, `/api/stats` and `/api/metrics`: liveness with the broker connection, and the
 * gateway's counters (JSON, and Prometheus' text format). Owns these two routes only; must not count or track anything itself (IngestService
 * knows the broker state, StatsService assembles the counters each stage owns).
 */
@Controller()
export class SystemController {
  constructor(
    private readonly ingest: IngestService,
    private readonly stats: StatsService,
    private readonly metrics: MetricsService,
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

  /** The same counters (and Node.js runtime metrics) for Prometheus, with the viewer role's access. */
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  getMetrics(): Promise<string> {
    return this.metrics.scrape();
  }
}

import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { IngestStats } from '@pulse/protocol';
import { Public } from '../auth/roles.decorator';
import { PULSE_VERSION } from '../config/version';
import { CheckStatus, ReadinessChecks } from '../health/readiness.service';
import { IngestService } from '../ingest/ingest.service';
import { MetricsService } from '../stats/metrics.service';
import { StatsService } from '../stats/stats.service';

export interface HealthResponse {
  status: 'ok';
  broker: 'connected' | 'disconnected';
  serverTime: number;
  /** The Pulse version this gateway runs (the root package.json's, read at build). */
  version: string;
}

/** `/api/ready`: 200 with `ready`, or 503 with `not_ready`; each check by name, nothing more. */
export interface ReadyResponse {
  status: 'ready' | 'not_ready';
  checks: Record<string, CheckStatus>;
}

/**
 * `/api/health`, `/api/ready`, `/api/stats` and `/api/metrics`: liveness (the process answers),
 * readiness (every dependency reachable: health/readiness.service.ts), and the gateway's
 * counters (JSON, and Prometheus' text format). Owns these routes only; must not count, track
 * or check anything itself (IngestService knows the broker state, ReadinessChecks runs the
 * checks, StatsService assembles the counters each stage owns).
 */
@Controller()
export class SystemController {
  constructor(
    private readonly ingest: IngestService,
    private readonly stats: StatsService,
    private readonly metrics: MetricsService,
    private readonly readiness: ReadinessChecks,
  ) {}

  /**
   * Liveness: 200 while the process serves HTTP; `broker` tells whether ingestion is connected,
   * `version` which build answers (public like the route: no secret, and what a rolling upgrade
   * is checked by).
   */
  @Public()
  @Get('health')
  health(): HealthResponse {
    const status = this.ingest.gatewayStatus();
    return {
      status: 'ok',
      broker: status.broker,
      serverTime: status.serverTime,
      version: PULSE_VERSION,
    };
  }

  /**
   * Readiness, for a load balancer or an orchestrator's probe: public like `/health`, so it
   * names the checks and their outcome only (reasons go to the log).
   */
  @Public()
  @Get('ready')
  async ready(): Promise<ReadyResponse> {
    const report = await this.readiness.run();
    const body: ReadyResponse = {
      status: report.ready ? 'ready' : 'not_ready',
      checks: report.checks,
    };
    if (!report.ready) {
      const failed = Object.entries(report.checks).filter(([, outcome]) => outcome !== 'ok');
      throw new ServiceUnavailableException({
        ...body,
        message: `not ready: ${failed.map(([check, outcome]) => `${check} ${outcome}`).join(', ')}`,
      });
    }
    return body;
  }

  @Get('stats')
  getStats(): Promise<IngestStats> {
    return this.stats.collect();
  }

  /** The same counters (and Node.js runtime metrics) for Prometheus, with the viewer role's access. */
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  getMetrics(): Promise<string> {
    return this.metrics.scrape();
  }
}

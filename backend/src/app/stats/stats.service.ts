import { Injectable } from '@nestjs/common';
import { IngestStats } from '@pulse/protocol';
import { AlertsService } from '../alerts/alerts.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService } from '../history/history.service';
import { IngestService } from '../ingest/ingest.service';
import { LiveHubService } from '../live/live-hub.service';
import { LiveSocketRepository } from '../live/live-socket.repository';
import { LiveGateway } from '../live/live.gateway';
import { SecurityCounters } from '../security/security-counters.service';

/** Assembles {@link IngestStats} from the counters each stage owns. */
@Injectable()
export class StatsService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly ingest: IngestService,
    private readonly registry: DeviceRegistryService,
    private readonly history: HistoryService,
    private readonly hub: LiveHubService,
    private readonly sockets: LiveSocketRepository,
    private readonly gateway: LiveGateway,
    private readonly alerts: AlertsService,
    private readonly security: SecurityCounters,
  ) {}

  collect(): IngestStats {
    const hub = this.hub.stats();
    const lag = this.gateway.stats();
    const writes = this.sockets.writeStats();
    return {
      startedAt: this.startedAt,
      ...this.ingest.stats(),
      devices: this.registry.stats(),
      history: this.history.stats(),
      live: {
        clients: this.sockets.clientCount(),
        emits: hub.emits,
        readingsSent: hub.readingsSent,
        flushMs: hub.flushMs,
        lagPauses: lag.lagPauses,
        lagDisconnects: lag.lagDisconnects,
        disconnects: lag.disconnects,
        droppedOverflow: hub.droppedOverflow,
        alertsSent: hub.alertsSent,
        flushes: hub.flushes,
        lastFlushCostMs: Math.round(hub.lastFlushCostMs * 1000) / 1000,
        directWrites: writes.direct,
        engineWrites: writes.engine,
      },
      alerts: this.alerts.stats(),
      security: this.security.stats(),
    };
  }
}

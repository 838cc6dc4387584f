import { Injectable } from '@nestjs/common';
import { IngestStats } from '@pulse/protocol';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService } from '../history/history.service';
import { IngestService } from '../ingest/ingest.service';
import { LiveHubService } from '../live/live-hub.service';
import { LiveSocketRepository } from '../live/live-socket.repository';

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
  ) {}

  collect(): IngestStats {
    const hub = this.hub.stats();
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
      },
    };
  }
}

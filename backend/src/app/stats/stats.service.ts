import { Injectable } from '@nestjs/common';
import { IngestStats } from '@pulse/protocol';
import { AlertsService } from '../alerts/alerts.service';
import { BackupService } from '../backup/backup.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryReader } from '../history/history-reader.service';
import { HistoryWriter } from '../history/history-writer.service';
import { HistoryService } from '../history/history.service';
import { IngestService } from '../ingest/ingest.service';
import { LiveGateway } from '../live/live.gateway';
import { PULSE_VERSION } from '../config/version';
import { AlertRouting } from '../ownership/alert-routing.service';
import { SecurityCounters } from '../security/security-counters.service';

/**
 * Assembles {@link IngestStats} from the counters each stage owns. The top of the folder graph
 * (it reads every stage; only the HTTP controllers import it): must not be imported by a
 * stage, nor keep counters of its own.
 */
@Injectable()
export class StatsService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly ingest: IngestService,
    private readonly registry: DeviceRegistryService,
    private readonly history: HistoryService,
    private readonly live: LiveGateway,
    private readonly alerts: AlertsService,
    private readonly security: SecurityCounters,
    private readonly historyStore: HistoryWriter,
    private readonly routing: AlertRouting,
    private readonly historyReader: HistoryReader,
    private readonly backups: BackupService,
  ) {}

  /**
   * Async for the one part read from the disk: the backups folder's newest backup (made by either
   * gateway sharing DATA_DIR), read at most every few seconds and waited for a second at most
   * (BackupService.stats). Every other part is the counters as they are.
   */
  async collect(): Promise<IngestStats> {
    const backups = await this.backups.stats();
    const ownership = this.routing.stats();
    return {
      version: PULSE_VERSION,
      startedAt: this.startedAt,
      ...this.ingest.stats(),
      devices: this.registry.stats(),
      history: {
        ...this.history.stats(),
        store: { ...this.historyStore.stats(), reads: this.historyReader.sharedReads() },
      },
      live: this.live.stats(),
      alerts: this.alerts.stats(),
      security: this.security.stats(),
      ...(ownership ? { ownership } : {}),
      backups,
    };
  }
}

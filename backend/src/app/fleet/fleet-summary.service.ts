import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AlertsService } from '../alerts/alerts.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { FleetSummaryModel } from './fleet-summary';

/**
 * The gateway's one fleet summary (see {@link FleetSummaryModel}), wired to the registry (an
 * evicted device becomes a removal) and seeded with the alerts already active at boot. Fed by the
 * live hub (readings, device and alert events it publishes); read by the live layer's SummaryPush,
 * the `/live` subscribe ack and `GET /api/fleet/summary`. Owns the wiring only; must not send.
 */
@Injectable()
export class FleetSummaryService extends FleetSummaryModel implements OnApplicationBootstrap {
  constructor(
    registry: DeviceRegistryService,
    private readonly alerts: AlertsService,
  ) {
    super(registry);
    registry.onEvict((deviceId) => this.remove(deviceId));
  }

  onApplicationBootstrap(): void {
    for (const alert of this.alerts.active()) this.applyAlert(alert);
  }
}

import { Injectable } from '@nestjs/common';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { FleetSummaryModel } from './fleet-summary';

/**
 * The gateway's one fleet summary (see {@link FleetSummaryModel}), wired to the registry: an
 * evicted device becomes a removal. Fed by the live hub with everything published to the live
 * layer (readings, device and alert events: the alert engine keeps its state in memory and
 * publishes every change, so there is nothing to seed at boot). Read by the live layer's
 * SummaryPush, the `/live` subscribe ack and `GET /api/fleet/summary`. Must not depend on what
 * feeds the hub (alerts, ingest): they depend on the hub, which depends on this.
 */
@Injectable()
export class FleetSummaryService extends FleetSummaryModel {
  constructor(registry: DeviceRegistryService) {
    super(registry);
    registry.onEvict((deviceId) => this.remove(deviceId));
  }
}

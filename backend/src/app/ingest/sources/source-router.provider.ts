import { Logger } from '@nestjs/common';
import type { Config } from '../../config/config';
import type { DeviceCredentialsService } from '../../device-credentials/device-credentials.service';
import { Source } from './source-spec';
import { ReservedIds, SourceRouter } from './source-router';

/**
 * The app's router (SOURCE_ROUTER): discovery never speaks for an id with credentials (decision
 * 0067), checked when an entity is announced and again when an id gets credentials (an entity
 * announced for it before ends). With MQTT_URL, device credentials mean nothing (that broker
 * authenticates), so no id is reserved.
 */
export function sourceRouterOf(
  config: Pick<Config, 'MQTT_URL'>,
  sources: readonly Source[],
  credentials: ReservedIds & Pick<DeviceCredentialsService, 'onCredentialsChanged'>,
): SourceRouter {
  if (config.MQTT_URL !== undefined) return new SourceRouter(sources);
  const router = new SourceRouter(sources, credentials);
  const logger = new Logger('Discovery');
  credentials.onCredentialsChanged((identity) => {
    if (identity.kind !== 'device') return;
    const ended = router.endDevice(identity.deviceId);
    if (ended > 0)
      logger.log(
        `${ended} entity(ies) of device ${identity.deviceId} ended: it has credentials now`,
      );
  });
  return router;
}

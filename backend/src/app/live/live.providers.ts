import { Provider } from '@nestjs/common';
import { ALERT_ACKS } from '../common/alert-acks';
import { LIVE_PUBLISHER } from '../common/live-publisher';
import { AlertAudience } from './alert-audience';
import { AlertsSnapshot } from '../common/alerts-snapshot';
import { Conflator } from './conflation';
import { FanOutMeter } from './fan-out-meter';
import { GatewayLoad } from './gateway-load';
import { LagMonitor } from './lag-monitor';
import { LiveEmitter } from './live-emitter';
import { LiveHubService } from './live-hub.service';
import { LiveSubscriptionService } from './live-subscription.service';
import { LiveGateway } from './live.gateway';
import { SummaryPush } from './summary-push';
import { CrossGatewayFanOut } from './cross-gateway-fan-out';
import { LiveRedis } from './live-redis.repository';
import { LostPeerRefill } from './lost-peer-refill';
import { PeerAcks } from './peer-acks';
import { PeerRules } from './peer-rules';
import { PeerCatchUp } from './peer-catch-up';
import { LocalReadingsFanOut, READINGS_FAN_OUT } from './readings-fan-out';

/**
 * The live layer's providers and its three ports' bindings, for AppModule: ingest and alerts
 * publish to the hub through LIVE_PUBLISHER; the hub's readings leave through
 * READINGS_FAN_OUT, bound to the local direct-write fan-out, or with REDIS_URL to the
 * cross-gateway one around it; the alerts controller acknowledges through ALERT_ACKS, the same
 * way to the gateway holding the alert as `/live` does. Owns the wiring only.
 */
export const LIVE_PROVIDERS: Provider[] = [
  AlertAudience,
  AlertsSnapshot,
  LiveEmitter,
  FanOutMeter,
  Conflator,
  GatewayLoad,
  LagMonitor,
  LocalReadingsFanOut,
  LiveRedis,
  PeerCatchUp,
  {
    provide: READINGS_FAN_OUT,
    // One gateway: straight to the local sockets. Several (REDIS_URL): through the peers too.
    useFactory: (
      redis: LiveRedis,
      local: LocalReadingsFanOut,
      emitter: LiveEmitter,
      peers: PeerCatchUp,
    ) => (redis.enabled ? new CrossGatewayFanOut(local, emitter, redis, peers) : local),
    inject: [LiveRedis, LocalReadingsFanOut, LiveEmitter, PeerCatchUp],
  },
  LiveHubService,
  LostPeerRefill,
  { provide: LIVE_PUBLISHER, useExisting: LiveHubService },
  LiveSubscriptionService,
  PeerAcks,
  PeerRules,
  { provide: ALERT_ACKS, useExisting: PeerAcks },
  LiveGateway,
  SummaryPush,
];

import type { AlertEvent } from '@pulse/protocol';
import { waitFor } from '@pulse/test-support';
import { hot } from '../alerts/testing/alert-engine.harness';
import { AlertsService } from '../alerts/alerts.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { useLoggedWarnings, useRawRedis } from '../live/testing/peer-input';
import { AlertRouting } from './alert-routing.service';
import { DeviceOwnership } from './device-ownership.service';
import { OwnershipRedis } from './ownership-redis.repository';

/** What a gateway of another version, a bug or anyone who can publish on Redis might send. */
type Crafted = unknown;

// Real: a redis-server, gateway gw-a's OwnershipRedis, DeviceOwnership (its lease: the only
// member, so it owns every device), AlertRouting and alerts service (rule `hot`: t above 30). A
// raw Redis client publishes on gw-a's channel as another gateway forwarding readings would.
describe("AlertRouting over Redis: readings another gateway forwards to this one's engine are checked", () => {
  let redis: OwnershipRedis;
  let ownership: DeviceOwnership;
  let routing: AlertRouting;
  const warnings = useLoggedWarnings();
  const server = useRawRedis();
  afterEach(async () => {
    routing?.onApplicationShutdown();
    await ownership?.beforeApplicationShutdown();
    await redis?.onApplicationShutdown();
  });

  async function gateway() {
    redis = new OwnershipRedis({ REDIS_URL: server.url() });
    const registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
    const raised: AlertEvent[] = [];
    const hub = { publishAlert: (alert: AlertEvent) => raised.push(alert) };
    const alerts = new AlertsService({ ALERT_RULES_FILE: undefined }, [hot], registry, hub);
    ownership = new DeviceOwnership({ GATEWAY_ID: 'gw-a', PORT: 0 }, redis);
    routing = new AlertRouting({ FLUSH_MS: 20 }, ownership, redis, alerts, registry);
    await ownership.onModuleInit();
    // Subscribed: a message published now reaches it.
    await waitFor(
      async () =>
        (await server.raw().pubsub('NUMSUB', 'pulse:own:readings:gw-a'))[1] === 1 || undefined,
      { message: "gw-a's channel subscribed" },
    );
    return { raised };
  }

  const forward = (message: Crafted) =>
    server.raw().publish('pulse:own:readings:gw-a', JSON.stringify(message));

  it("a peer's malformed readings raise nothing and are counted; the valid readings beside them are evaluated", async () => {
    const { raised } = await gateway();
    const now = Date.now();
    const message = (r: Crafted) => ({ v: 1, g: 'gw-b', h: 0, r });
    const crafted: Crafted[] = [
      null,
      'not a message',
      { v: 1, g: 'gw-b', h: 0 }, // no readings
      message({ deviceId: 'd1', ts: now, values: { t: 40 } }), // not an array
      message(Array.from({ length: 2_001 }, () => ({ deviceId: 'd1', ts: now, values: { t: 1 } }))),
    ];
    for (const raw of crafted) await forward(raw);
    // JSON has no Infinity, but a number out of a double's range parses to it.
    await server
      .raw()
      .publish(
        'pulse:own:readings:gw-a',
        `{"v":1,"g":"gw-b","h":0,"r":[{"deviceId":"inf","ts":${now},"values":{"t":1e999}}]}`,
      );
    await forward(
      message([
        { deviceId: 'text', ts: now, values: { t: '40' } }, // a string where a number goes
        { deviceId: '../../etc', ts: now, values: { t: 40 } }, // no device id of the contract
        { deviceId: 'x'.repeat(65), ts: now, values: { t: 40 } },
        { deviceId: 'no-time', ts: -1, values: { t: 40 } },
        { deviceId: 'listed', ts: now, values: [40] },
        { deviceId: 'ok', ts: now, values: { t: 40 } },
      ]),
    );

    await waitFor(() => raised.some((alert) => alert.deviceId === 'ok') || undefined, {
      message: 'the valid reading evaluated',
    });
    expect(raised.map((alert) => alert.deviceId)).toEqual(['ok']);
    const stats = routing.stats();
    expect(stats?.received).toBe(1);
    expect(stats?.refused).toBe(crafted.length);
    expect(stats?.malformedReadings).toBe(6);
    expect(warnings.some((line) => line.includes('from another gateway'))).toBe(true);
    expect(warnings.length).toBeLessThanOrEqual(2);
  });
});

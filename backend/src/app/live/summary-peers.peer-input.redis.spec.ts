import { DS } from '@pulse/protocol';
import { waitFor } from '@pulse/test-support';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { FleetSummaryService } from '../fleet/fleet-summary.service';
import { LiveRedis } from './live-redis.repository';
import { SummaryPeers } from './summary-peers';
import { useLoggedWarnings, useRawRedis } from './testing/peer-input';

// Real: a redis-server, this gateway's LiveRedis, SummaryPeers, registry and fleet summary. A raw
// Redis client publishes on the share channel as another gateway (or anyone who can) would.
describe('SummaryPeers over Redis: times in what another gateway shares are checked', () => {
  let redis: LiveRedis;
  let peers: SummaryPeers;
  const warnings = useLoggedWarnings();
  const server = useRawRedis();
  afterEach(async () => {
    peers?.close();
    await redis?.onApplicationShutdown();
  });

  /** This gateway: its registry and fleet summary, taking shares from Redis. */
  async function gateway() {
    redis = new LiveRedis({ REDIS_URL: server.url(), REDIS_PASSWORD_FILE: undefined });
    const registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
    const summary = new FleetSummaryService(registry);
    peers = new SummaryPeers(redis, summary, registry, { publishDevice: () => undefined });
    await redis.whenSubscribed();
    return { registry, summary };
  }

  const share = (d: unknown[]) =>
    server.raw().publish('pulse:live:summary', JSON.stringify({ v: 1, g: 'peer', m: ['t'], d }));

  it("a device's time far ahead of this gateway's clock is refused and counted: it would have held the overview's value for ever", async () => {
    const { registry, summary } = await gateway();
    const now = Date.now();
    const year = 365 * 24 * 3600_000;

    await share([
      ['d1', now, now + year, [0, 99, 0]], // newest reading a year ahead
      ['d2', now + year, now, [0, 99, 0]], // last seen a year ahead
      ['d3', now, now, [0, 99, -year]], // a value a year after the newest reading
    ]);
    await share([
      ['d1', now, now, [0, 21, 0]],
      ['d2', now, now, [0, 22, 0]],
      ['d3', now, now, [0, 23, 0]],
    ]);
    await waitFor(() => peers.stats().received >= 2 || undefined, { message: 'both shares' });

    const snapshot = summary.snapshot(null, now);
    const values = Object.fromEntries(
      snapshot.devices.map((device) => [device[DS.id], device[DS.values]]),
    );
    expect(values).toEqual({ d1: [21], d2: [22], d3: [23] });
    expect(registry.get('d2')?.lastSeen).toBe(now);
    expect(peers.stats()).toMatchObject({ devices: 3, rejected: 3 });
    expect(warnings.filter((line) => line.includes('from another gateway'))).toHaveLength(1);
  });

  it("a value a little newer than the device's newest reading time (a registry behind its store after a crash) is applied, as older builds did", async () => {
    const { summary } = await gateway();
    const now = Date.now();
    // The sender's registry says its newest reading was a minute ago; the value it holds from
    // its store is 30 s old: offset -30 s, the value's own time still in the past.
    await share([['d4', now, now - 60_000, [0, 24, -30_000]]]);
    await waitFor(() => peers.stats().received >= 1 || undefined, { message: 'the share' });
    const snapshot = summary.snapshot(null, now);
    expect(snapshot.devices.map((device) => device[DS.values])).toEqual([[24]]);
    expect(peers.stats()).toMatchObject({ devices: 1, rejected: 0 });
  });
});

import { DeviceInfo, DS } from '@pulse/protocol';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { FleetSummaryService } from '../fleet/fleet-summary.service';
import { LiveRedis } from './live-redis.repository';
import { REMOVAL_RESEND_MS, REMOVALS_HELD_MAX, SHARE_CHUNK, SummaryPeers } from './summary-peers';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

// The receiving side of the summary share, with the real registry and summary; LiveRedis without
// REDIS_URL opens nothing, so messages are handed to `receive` as Redis would (the two-gateway
// path over a real Redis: test/scale-out.spec.ts).
describe('SummaryPeers: what another gateway shares', () => {
  let registry: DeviceRegistryService;
  let summary: FleetSummaryService;
  let redis: LiveRedis;
  let peers: SummaryPeers;
  let published: DeviceInfo[];
  const message = (body: unknown) => Buffer.from(JSON.stringify(body), 'utf8');
  const share = (d: unknown[], m: unknown = ['temperature', 'humidity']) =>
    message({ v: 1, g: 'peer-gateway', m, d });

  beforeEach(() => {
    registry = new DeviceRegistryService({ MAX_DEVICES: 3 });
    summary = new FleetSummaryService(registry);
    published = [];
    redis = new LiveRedis({ REDIS_URL: undefined, REDIS_PASSWORD_FILE: undefined });
    peers = new SummaryPeers(redis, summary, registry, {
      publishDevice: (device) => published.push(device),
    });
  });

  it('makes a shared device known, announces it once, and shows its values', () => {
    peers.receive(share([['d1', T0, T0 - 5, [0, 21.5, 0, 1, 40, 1000]]]));
    peers.receive(share([['d1', T0 + 1000, T0 + 995, [0, 22, 0]]]));
    expect(published.map((d) => d.deviceId)).toEqual(['d1']); // the second taught nothing new
    expect(registry.get('d1')).toMatchObject({ lastSeen: T0 + 1000, lastTs: T0 + 995 });
    const snapshot = summary.snapshot(null, T0 + 2000);
    expect(snapshot.metrics).toEqual(['temperature', 'humidity']);
    expect(snapshot.devices[0][DS.values]).toEqual([22, 40]);
    expect(peers.stats()).toMatchObject({ published: 0, received: 2, devices: 2, rejected: 0 });
  });

  it('ignores malformed messages and devices, counted, and keeps the valid ones beside them', () => {
    peers.receive(Buffer.from('not json'));
    peers.receive(message({ v: 2, g: 'peer-gateway', m: [], d: [] })); // another version
    peers.receive(share([], ['bad/metric']));
    peers.receive(share(new Array(SHARE_CHUNK + 1).fill(['d9', T0, T0, []])));
    peers.receive(
      share([
        ['bad id!', T0, T0, []],
        ['d2', T0, T0, [7, 1, 0]], // no metric 7 in the table
        ['d3', T0, T0, [0, 'hot', 0]],
        ['d4', 'yesterday', T0, []],
        ['d5', T0, T0, [0, 1]],
        ['ok', T0, T0, [1, 55, 0]],
      ]),
    );
    expect(peers.stats()).toMatchObject({ received: 1, devices: 1, rejected: 9 });
    expect(registry.list().map((d) => d.deviceId)).toEqual(['ok']);
    const snapshot = summary.snapshot(null, T0);
    expect(snapshot.metrics).toEqual(['humidity']); // the receiver's own table
    expect(snapshot.devices[0][DS.values]).toEqual([55]);
  });

  it('refuses devices beyond the registry limit there (counted by the registry), not here', () => {
    peers.receive(share(['a', 'b', 'c', 'd'].map((id) => [id, T0, T0, [0, 1, 0]])));
    expect(registry.stats()).toMatchObject({ known: 3, refusedNew: 1 });
    expect(summary.size()).toBe(3);
  });

  it('removes a device another gateway removed, without sending the removal back', () => {
    const sent = jest.spyOn(redis, 'publish').mockReturnValue(true);
    peers.receive(
      share([
        ['d1', T0, T0, [0, 21, 0]],
        ['d2', T0, T0, [0, 22, 0]],
      ]),
    );
    summary.takeDelta(T0);
    const gone: string[] = [];
    registry.onGone((deviceId, why) => gone.push(`${deviceId}:${why}`));
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'd1' }));
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'never-heard' }));
    expect(registry.list().map((d) => d.deviceId)).toEqual(['d2']);
    // One never heard here still goes from what else may hold it (this gateway's alert engine,
    // fed readings the gateway that ingested them forwarded to the owner).
    expect(gone).toEqual(['d1:removed', 'never-heard:removed']);
    expect(registry.stats()).toMatchObject({ removed: 1 });
    expect(summary.takeDelta(T0 + 1000)?.removed.map((r) => r.id)).toEqual(['d1']);
    expect(sent).not.toHaveBeenCalled();
    expect(peers.stats()).toMatchObject({ removalsReceived: 2, removalsPublished: 0 });
  });

  it('tells the other gateways of a removal made here, not of an eviction', () => {
    const sent = jest.spyOn(redis, 'publish').mockReturnValue(true);
    registry = new DeviceRegistryService({ MAX_DEVICES: 1, DEVICE_IDLE_EVICT_MS: 0 });
    peers = new SummaryPeers(redis, new FleetSummaryService(registry), registry, {
      publishDevice: () => undefined,
    });
    registry.applyStatus('idle', 'online', T0);
    registry.applyStatus('new', 'online', T0 + 1); // evicts `idle`: not a removal
    registry.remove('new');
    expect(sent).toHaveBeenCalledTimes(1);
    const [channel, body] = sent.mock.calls[0];
    expect(channel).toBe('pulse:live:summary-removals');
    expect(JSON.parse(body.toString('utf8'))).toMatchObject({ v: 1, id: 'new' });
    sent.mockReturnValue(false); // Redis unreachable: held
    registry.applyStatus('later', 'online', T0 + 2);
    registry.remove('later');
    expect(peers.stats()).toMatchObject({
      removalsPublished: 1,
      removalsUnsent: 0,
      removalsHeld: 1,
    });
    peers.close();
  });

  describe('a removal a peer could miss (pub/sub keeps nothing)', () => {
    let ready: () => void;
    let sent: jest.SpyInstance;
    const removals = () =>
      sent.mock.calls
        .filter(([channel]) => channel === 'pulse:live:summary-removals')
        .map(([, body]) => (JSON.parse(body.toString('utf8')) as { id: string }).id);

    beforeEach(() => {
      jest.useFakeTimers();
      jest.spyOn(redis, 'onPublisherReady').mockImplementation((listener) => (ready = listener));
      sent = jest.spyOn(redis, 'publish').mockReturnValue(true);
      // A registry of its own: the outer one has the outer SummaryPeers listening.
      registry = new DeviceRegistryService({ MAX_DEVICES: 3 });
      peers = new SummaryPeers(redis, new FleetSummaryService(registry), registry, {
        publishDevice: () => undefined,
      });
    });
    afterEach(() => {
      peers.close();
      jest.useRealTimers();
    });

    it('is sent once more REMOVAL_RESEND_MS later, and held while Redis is unreachable until it is back', async () => {
      registry.applyStatus('d1', 'online', T0);
      registry.remove('d1');
      expect(removals()).toEqual(['d1']);
      sent.mockReturnValue(false);
      registry.applyStatus('d2', 'online', T0);
      registry.remove('d2');
      await jest.advanceTimersByTimeAsync(REMOVAL_RESEND_MS);
      // d1's resend found Redis away: held with d2.
      expect(peers.stats()).toMatchObject({ removalsHeld: 2, removalsUnsent: 0 });
      sent.mockClear();
      sent.mockReturnValue(true);
      ready();
      expect(removals()).toEqual(['d2', 'd1']);
      await jest.advanceTimersByTimeAsync(REMOVAL_RESEND_MS);
      expect(removals()).toEqual(['d2', 'd1', 'd2', 'd1']);
      expect(peers.stats()).toMatchObject({ removalsHeld: 0, removalsPublished: 3 });
    });

    it('sends nothing more of a removal once the device spoke here again (it came back)', async () => {
      registry.applyStatus('d1', 'online', T0);
      registry.remove('d1');
      registry.applyStatus('d1', 'online', Date.now() + 1000); // back, heard after the removal
      await jest.advanceTimersByTimeAsync(REMOVAL_RESEND_MS);
      expect(removals()).toEqual(['d1']);
      sent.mockReturnValue(false); // Redis away: the next removal is held…
      registry.remove('d1');
      expect(peers.stats()).toMatchObject({ removalsHeld: 1 });
      registry.applyStatus('d1', 'online', Date.now() + 1000); // …and the device comes back
      sent.mockClear();
      sent.mockReturnValue(true);
      ready();
      expect(removals()).toEqual([]);
      expect(peers.stats()).toMatchObject({ removalsHeld: 0 });
    });

    it('sends nothing more of a removal once a peer with a clock behind shared the device since', async () => {
      registry.applyStatus('d1', 'online', Date.now());
      registry.remove('d1');
      await jest.advanceTimersByTimeAsync(500);
      // It spoke to gateway B, a minute behind, after the removal: back.
      peers.receive(share([['d1', Date.now() - 60_000, Date.now() - 60_000, [0, 21, 0]]]));
      await jest.advanceTimersByTimeAsync(REMOVAL_RESEND_MS);
      expect(removals()).toEqual(['d1']);
    });

    it(`holds at most ${REMOVALS_HELD_MAX} while Redis is unreachable; beyond, counted as not sent`, () => {
      sent.mockReturnValue(false);
      const registryOf = new DeviceRegistryService({ MAX_DEVICES: REMOVALS_HELD_MAX + 5 });
      peers.close();
      peers = new SummaryPeers(redis, new FleetSummaryService(registryOf), registryOf, {
        publishDevice: () => undefined,
      });
      for (let i = 0; i < REMOVALS_HELD_MAX + 5; i++) {
        registryOf.applyStatus(`d${i}`, 'online', T0);
        registryOf.remove(`d${i}`);
      }
      expect(peers.stats()).toMatchObject({ removalsHeld: REMOVALS_HELD_MAX, removalsUnsent: 5 });
    });
  });

  it('does not apply a removal older than what it heard of the device since (it came back), counted: the age is reckoned on this clock', () => {
    const now = Date.now();
    peers.receive(share([['back', now - 1000, now - 1000, [0, 21, 0]]]));
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'back', n: 1, age: 5000 }));
    expect(registry.has('back')).toBe(true);
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'back', n: 2, age: 0 }));
    expect(registry.has('back')).toBe(false);
    expect(peers.stats()).toMatchObject({ removalsReceived: 2, removalsStale: 1 });
  });

  describe('with clocks that differ between gateways (judged on this one)', () => {
    const SKEW = 60_000;
    beforeEach(() => jest.useFakeTimers({ now: T0 }));
    afterEach(() => jest.useRealTimers());

    it('applies a removal of a device a peer with a clock ahead shared just before it', () => {
      // Gateway B, a minute ahead, ingested a reading of d1 (its clock) and shared it…
      peers.receive(share([['d1', T0 + SKEW, T0 + SKEW, [0, 21, 0]]]));
      // …then gateway C removed d1: nothing was heard of it since.
      jest.advanceTimersByTime(500);
      peers.receiveRemoval(message({ v: 1, g: 'gateway-c', id: 'd1', n: 1, age: 1 }));
      expect(registry.has('d1')).toBe(false);
      expect(peers.stats()).toMatchObject({ removalsReceived: 1, removalsStale: 0 });
    });

    it('keeps a device a peer with a clock behind shared after a removal held through an outage', () => {
      // Gateway C removed d1 30 s ago, Redis away; meanwhile d1 spoke to B, a minute behind,
      // whose share arrives here before C's held removal.
      peers.receive(share([['d1', T0 - SKEW, T0 - SKEW, [0, 21, 0]]]));
      jest.advanceTimersByTime(500);
      peers.receiveRemoval(message({ v: 1, g: 'gateway-c', id: 'd1', n: 1, age: 30_000 }));
      expect(registry.has('d1')).toBe(true);
      expect(peers.stats()).toMatchObject({ removalsReceived: 1, removalsStale: 1 });
    });
  });

  it('applies a removal once: its repeat does not end what came back meanwhile (alert states of a device this registry never knew)', () => {
    const gone: string[] = [];
    registry.onGone((deviceId) => gone.push(deviceId));
    const removal = { v: 1, g: 'peer-gateway', id: 'forwarded-only', n: 7, age: 0 };
    peers.receiveRemoval(message(removal));
    peers.receiveRemoval(message({ ...removal, age: REMOVAL_RESEND_MS }));
    expect(gone).toEqual(['forwarded-only']);
    // Another removal of it (a new number) is applied.
    peers.receiveRemoval(message({ ...removal, n: 8 }));
    expect(gone).toEqual(['forwarded-only', 'forwarded-only']);
  });

  it('ignores malformed removals, counted', () => {
    peers.receive(share([['d1', T0, T0, [0, 21, 0]]]));
    peers.receiveRemoval(Buffer.from('not json'));
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'bad id!' }));
    peers.receiveRemoval(message({ v: 2, g: 'peer-gateway', id: 'd1' }));
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'd1', age: 'an hour' }));
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'd1', age: -60_000 })); // ahead
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'd1', n: 1.5 }));
    peers.receiveRemoval(message({ v: 1, g: 'peer-gateway', id: 'd1', n: 0 }));
    peers.receiveRemoval(message({ v: 1, g: 'x'.repeat(65), id: 'd1', n: 1 }));
    expect(registry.has('d1')).toBe(true);
    expect(peers.stats()).toMatchObject({ rejected: 8, removalsReceived: 0 });
  });
});

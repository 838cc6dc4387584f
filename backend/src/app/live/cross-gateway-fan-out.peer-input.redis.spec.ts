import { LIVE_NAMESPACE, Reading } from '@pulse/protocol';
import { waitFor } from '@pulse/test-support';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService } from '../history/history.service';
import { CrossGatewayFanOut } from './cross-gateway-fan-out';
import { encodeEvent } from './engine-adapter';
import { LiveEmitter } from './live-emitter';
import { LiveRedis } from './live-redis.repository';
import { PeerCatchUp } from './peer-catch-up';
import { LocalReadingsFanOut } from './readings-fan-out';
import { INTEREST_PEERS_MAX } from './room-interest';
import { useLoggedWarnings, useRawRedis } from './testing/peer-input';

/** What a gateway of another version, a bug or anyone who can publish on Redis might send. */
type Crafted = unknown;

const CHANNEL = 'pulse:live:readings';

/** A readings message as a gateway packs it: [version][u16 header length][header JSON][frame]. */
function message(header: Crafted, frame: Buffer, version = 1): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(3);
  head[0] = version;
  head.writeUInt16BE(json.length, 1);
  return Buffer.concat([head, json, frame]);
}

/** The websocket frame of a `readings` event carrying `batch` (whatever it is). */
const frameOf = (batch: Crafted) =>
  encodeEvent(LIVE_NAMESPACE, 'readings', batch as Reading[]).frame;

// Real: a redis-server, this gateway's LiveRedis, CrossGatewayFanOut and PeerCatchUp (its window
// and registry); a raw Redis client publishes on the readings channel as another gateway would.
// This gateway's sockets are stood in for by the room its emitter reports and the batches the
// hub is handed (the socket side: test/scale-out.spec.ts).
describe('CrossGatewayFanOut over Redis: what another gateway relays is checked', () => {
  let connection: LiveRedis;
  let fanOut: CrossGatewayFanOut;
  const warnings = useLoggedWarnings();
  const redis = useRawRedis();
  afterEach(async () => {
    fanOut?.beforeApplicationShutdown();
    await connection?.onApplicationShutdown();
  });

  /** This gateway, its screens watching device d1; the batches its hub is handed. */
  async function gateway() {
    connection = new LiveRedis({ REDIS_URL: redis.url(), REDIS_PASSWORD_FILE: undefined });
    const registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
    registry.applyReadings(
      'd1',
      [{ deviceId: 'd1', ts: Date.now(), values: { t: 1 } }],
      Date.now(),
    );
    const history = new HistoryService({ HISTORY_WINDOW_MS: 60_000, HISTORY_MAX_POINTS: 1000 });
    const peers = new PeerCatchUp({ HISTORY_FLUSH_MS: 500 }, history, registry);
    const emitter = { watchRooms: () => undefined, readingsRooms: () => ['device:d1'] };
    const local = { hasMembers: (room: string) => room === 'device:d1' };
    fanOut = new CrossGatewayFanOut(
      local as unknown as LocalReadingsFanOut,
      emitter as unknown as LiveEmitter,
      connection,
      peers,
    );
    const relayed: Reading[][] = [];
    fanOut.onRelayed((_room, _except, batch) => relayed.push(batch));
    await connection.whenSubscribed();
    await fanOut.interestKnown();
    return { relayed, history };
  }

  const header = { g: 'peer-gateway', r: 'device:d1', x: [] };
  const reading = (ts: number, t: number): Reading => ({ deviceId: 'd1', ts, values: { t } });

  it("a peer's unreadable or malformed batch is refused and counted; the valid readings around it reach the screens", async () => {
    const { relayed, history } = await gateway();
    const now = Date.now();
    const crafted: Buffer[] = [
      message(header, frameOf(null)), // threw in the Redis subscriber's callback
      message(header, frameOf('not a batch')),
      message(header, frameOf({ deviceId: 'd1' })),
      message(header, Buffer.from('garbage, not a websocket frame')),
      message({ ...header, r: 42 }, frameOf([reading(now, 1)])),
      message({ ...header, x: 'device:d1' }, frameOf([reading(now, 1)])),
      message({ ...header, x: [7] }, frameOf([reading(now, 1)])),
      message(null, frameOf([reading(now, 1)])),
      Buffer.from([1, 0xff, 0xff, 0x7b]), // a header longer than the message
      Buffer.from([1]),
    ];
    for (const raw of crafted) await redis.raw().publish(CHANNEL, raw);
    // One batch: three bad readings among two good ones (the good ones stay).
    const good = [reading(now - 1000, 20), reading(now, 21)];
    await redis.raw().publish(
      CHANNEL,
      message(
        header,
        frameOf([
          good[0],
          { deviceId: 'd1', ts: now, values: { t: 'hot' } }, // a string where a number goes
          { deviceId: '../etc', ts: now, values: { t: 1 } }, // no device id of the contract
          { deviceId: 'd1', ts: 'yesterday', values: { t: 1 } },
          good[1],
        ]),
      ),
    );

    await waitFor(() => relayed.length >= 1 || undefined, { message: 'the valid batch relayed' });
    expect(relayed).toEqual([good]);
    // Only the valid readings reached the window a new screen's history is read from.
    const kept = history.query('d1', now - 5_000, now + 1).flatMap((series) => [...series.v]);
    expect(kept).toEqual([20, 21]);
    const stats = fanOut.stats();
    expect(stats.received).toBe(1);
    expect(stats.malformed).toBe(crafted.length);
    expect(stats.malformedReadings).toBe(3);
    expect(warnings.some((line) => line.includes('from another gateway'))).toBe(true);
    // At a bounded rate: the first refusal now, the rest summed up later.
    expect(warnings.length).toBeLessThanOrEqual(2);
  });

  it('a batch no screen here is sent is not read: its own coming back, a catch-up for another gateway, a room nobody here watches', async () => {
    const { relayed } = await gateway();
    const now = Date.now();
    // Batches that would be refused if read (a batch that is no list, a bad reading): every
    // gateway hears every batch on the channel, its own included, so reading them all is the
    // JSON parse and the check of every reading of every gateway, here, for nothing.
    const unread = [frameOf(null), frameOf([{ deviceId: '../etc', ts: now, values: { t: 1 } }])];
    for (const frame of unread) {
      await redis.raw().publish(CHANNEL, message({ ...header, g: fanOut.gatewayId }, frame));
      await redis.raw().publish(CHANNEL, message({ ...header, t: 'another-gateway' }, frame));
      await redis.raw().publish(CHANNEL, message({ ...header, r: 'device:d2' }, frame));
    }
    const good = [reading(now, 20)];
    await redis.raw().publish(CHANNEL, message(header, frameOf(good)));

    await waitFor(() => relayed.length >= 1 || undefined, { message: 'the valid batch relayed' });
    expect(relayed).toEqual([good]);
    const stats = fanOut.stats();
    expect(stats.received).toBe(1);
    expect(stats.malformed).toBe(0);
    expect(stats.malformedReadings).toBe(0);
  });

  it("a peer's malformed room interest is refused and counted; peers and their rooms are bounded", async () => {
    await gateway();
    const interest = (message: Crafted) =>
      redis
        .raw()
        .publish(
          'pulse:live:rooms',
          typeof message === 'string' ? message : JSON.stringify(message),
        );
    const crafted: Crafted[] = [
      'not JSON',
      null,
      'a string',
      { kind: 'all', rooms: ['device:d1'] }, // no gateway
      { g: 'g'.repeat(1000), kind: 'all', rooms: ['device:d1'] },
      { g: 'peer-1', kind: 'all', rooms: 'device:d1' },
      { g: 'peer-1', kind: 'everything', rooms: ['device:d1'] },
      { g: 'peer-1', kind: 'all', rooms: Array.from({ length: 100_001 }, () => 'fleet') },
    ];
    for (const message of crafted) await interest(message);
    // Two names outside the contract among a good one: the good one is kept.
    await interest({
      g: 'peer-1',
      kind: 'all',
      rooms: ['device:../etc', `device:${'y'.repeat(100)}`, 'device:d2'],
    });
    // More gateways than a deployment has (random ids, as anyone publishing could make up).
    for (let i = 0; i < INTEREST_PEERS_MAX + 10; i++)
      await interest({ g: `made-up-${i}`, kind: 'add', rooms: [`device:m${i}`] });
    await waitFor(() => fanOut.hasMembers(`device:m${INTEREST_PEERS_MAX - 2}`) || undefined, {
      message: 'the interest heard',
    });
    await new Promise((resolve) => setTimeout(resolve, 100)); // the last ones, refused

    expect(fanOut.hasMembers('device:d2')).toBe(true);
    expect(fanOut.hasMembers('device:../etc')).toBe(false);
    expect(fanOut.hasMembers(`device:m${INTEREST_PEERS_MAX + 5}`)).toBe(false);
    const stats = fanOut.stats();
    expect(stats.peers).toBe(INTEREST_PEERS_MAX);
    expect(stats.interestMalformed).toBe(crafted.length + 2);
    expect(stats.interestOverLimit).toBe(11); // peer-1 took one of the places
    expect(warnings.some((line) => line.includes('room interest'))).toBe(true);
    expect(warnings.length).toBeLessThanOrEqual(4);
  });
});

import { useLoggedWarnings, useRawRedis } from '../live/testing/peer-input';
import { DeviceOwnership } from './device-ownership.service';
import { OwnershipRedis } from './ownership-redis.repository';

// Real: a redis-server, gateway gw-a's OwnershipRedis and DeviceOwnership (its heartbeat run by
// hand, as its timer would). A raw Redis client writes the member index, leases and session
// records as a broken gateway, or anyone who can write to this Redis, might.
describe('DeviceOwnership over Redis: the member ids and MQTT sessions read from Redis are checked', () => {
  let redis: OwnershipRedis;
  let ownership: DeviceOwnership;
  const warnings = useLoggedWarnings();
  const server = useRawRedis();
  const raw = () => server.raw();
  afterEach(async () => {
    await ownership?.beforeApplicationShutdown();
    await redis?.onApplicationShutdown();
    await raw().flushall();
  });

  const beat = () => (ownership as unknown as { beat(): Promise<void> }).beat();

  /** A member as the heartbeat script sees one: in the index, its lease alive. */
  async function member(id: string): Promise<void> {
    await raw().sadd('pulse:own:members', id);
    await raw().set(`pulse:own:member:${id}`, 'someone', 'PX', 60_000);
  }

  it('a member id no gateway can have (a path, a whole page) owns no device and is counted; gateways named as GATEWAY_ID allows do', async () => {
    redis = new OwnershipRedis({ REDIS_URL: server.url() });
    ownership = new DeviceOwnership({ GATEWAY_ID: 'gw-a', PORT: 0 }, redis);
    await ownership.onModuleInit();
    // Its session drain would read the journal under DATA_DIR/history-journal/gateway-<id>.
    await member('x/../../../../etc');
    await member('y'.repeat(5_000));
    await member('gw-b');
    await member('host-1.example:3000');
    await beat();

    expect(ownership.currentMembers()).toEqual(['gw-a', 'gw-b', 'host-1.example:3000']);
    expect(ownership.stats().malformedIds).toBe(2);
    expect(warnings.some((line) => line.includes('member id'))).toBe(true);
    await beat(); // read again each heartbeat: counted again, logged at a bounded rate
    expect(ownership.stats().malformedIds).toBe(4);
    expect(warnings.filter((line) => line.includes('member id'))).toHaveLength(1);
  });

  it('an MQTT session record that is no client id is not drained, and is counted', async () => {
    redis = new OwnershipRedis({ REDIS_URL: server.url() });
    ownership = new DeviceOwnership({ GATEWAY_ID: 'gw-a', PORT: 0 }, redis);
    await ownership.onModuleInit();
    await raw().hset('pulse:own:mqtt-sessions', 'gw-b', 'pulse-gw-b', 'gw-c', 'a device/#');
    await raw().hset('pulse:own:mqtt-sessions', 'gw-d', 'z'.repeat(24));

    expect(await redis.sessionOf('gw-b')).toBe('pulse-gw-b');
    expect(await redis.sessionOf('gw-c')).toBeNull();
    expect(await redis.sessionOf('gw-d')).toBeNull();
    expect(ownership.stats().malformedIds).toBe(2);
  });
});

import { Logger } from '@nestjs/common';
import type { Client, PublishPacket } from 'aedes';
import { EventEmitter } from 'node:events';
import { BrokerAuthenticator, BrokerIdentity } from './broker-auth';
import { PUBLISH_FLOOD_FACTOR, PUBLISH_WINDOW_SECONDS, PublishRate } from './publish-rate';
import { SecurityCounters } from './security-counters.service';

// Real: the limiter (rate-limiter-flexible), the counters and the broker authenticator that gives
// a client its identity; the Aedes client is a plain object with the fields the hooks read. The broker end to end is in backend/test/flood-budgets.spec.ts.
describe('PublishRate', () => {
  const allow = (_c: Client | null, _p: PublishPacket, done: (error?: Error | null) => void) =>
    done(null);
  const client = (id: string, remoteAddress: string) =>
    ({ id, conn: Object.assign(new EventEmitter(), { remoteAddress }) }) as never;

  /** A client the broker's `authenticate` hook accepted as `identity`. */
  async function authenticated(id: string, identity: BrokerIdentity): Promise<Client> {
    const auth = new BrokerAuthenticator(counters, {
      anonymousDevices: false,
      identify: () => identity,
      isReserved: () => false,
      ownerOfClientId: () => null,
      connected: () => undefined,
    });
    const c = client(id, '10.0.0.9') as Client;
    await new Promise((resolve) => auth.authenticate(c, 'user', Buffer.from('secret'), resolve));
    return c;
  }
  const packet = (): PublishPacket =>
    ({
      cmd: 'publish',
      topic: 'devices/d1/telemetry',
      payload: Buffer.from('{"a":1}'),
      qos: 0,
      retain: false,
      dup: false,
    }) as PublishPacket;

  let counters: SecurityCounters;
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    counters = new SecurityCounters();
  });
  afterEach(() => jest.restoreAllMocks());

  /** Publish `n` packets as `from`; what each callback said and where each packet ended up. */
  async function publishAs(sut: PublishRate, from: unknown, n: number) {
    const hook = sut.guard(allow);
    return Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<{ error: boolean; topic: string }>((resolve) => {
            const p = packet();
            hook(from as Client, p, (error) => resolve({ error: !!error, topic: p.topic }));
          }),
      ),
    );
  }

  it('passes the budget, drops what is over it, and disconnects at twice the budget', async () => {
    const sut = new PublishRate(counters, { perSecond: 2, exempt: [] });
    const budget = 2 * PUBLISH_WINDOW_SECONDS;
    const results = await publishAs(sut, client('flooder', '10.0.0.9'), budget * 3);
    const passed = results.filter((r) => !r.error && r.topic === 'devices/d1/telemetry');
    const dropped = results.filter((r) => !r.error && r.topic !== 'devices/d1/telemetry');
    const refused = results.filter((r) => r.error);
    expect(passed).toHaveLength(budget);
    expect(dropped).toHaveLength(budget * (PUBLISH_FLOOD_FACTOR - 1));
    expect(dropped[0].topic.startsWith('$')).toBe(true);
    expect(refused).toHaveLength(budget);
    expect(counters.stats().refused).toMatchObject({
      mqtt_publish_rate: budget,
      mqtt_publish_flood: budget,
    });
  });

  it('counts each client on its own and leaves exempt addresses alone', async () => {
    const sut = new PublishRate(counters, { perSecond: 1, exempt: ['127.0.0.1'] });
    await publishAs(sut, client('flooder', '10.0.0.9'), 40);
    const other = await publishAs(sut, client('device', '10.0.0.9'), 5);
    const simulator = await publishAs(sut, client('pulse-sim', '127.0.0.1'), 500);
    expect(other.every((r) => !r.error && r.topic === 'devices/d1/telemetry')).toBe(true);
    expect(simulator.every((r) => !r.error && r.topic === 'devices/d1/telemetry')).toBe(true);
  });

  it('knows an exempt IPv4 address when a dual-stack listener reports it IPv4-mapped', async () => {
    // A broker listening on `::` sees 127.0.0.1 as ::ffff:127.0.0.1, as the connection caps do.
    const sut = new PublishRate(counters, { perSecond: 1, exempt: ['127.0.0.1'] });
    const bench = await publishAs(sut, client('bench-pub', '::ffff:127.0.0.1'), 100);
    expect(bench.every((r) => !r.error && r.topic === 'devices/d1/telemetry')).toBe(true);
    const listed = new PublishRate(counters, { perSecond: 1, exempt: ['::ffff:127.0.0.1'] });
    const plain = await publishAs(listed, client('bench-pub', '127.0.0.1'), 100);
    expect(plain.every((r) => !r.error && r.topic === 'devices/d1/telemetry')).toBe(true);
    expect(counters.stats().refused.mqtt_publish_rate ?? 0).toBe(0);
  });

  it("keys a device's credentials by its id, and never holds Pulse's own simulator to the rate", async () => {
    const sut = new PublishRate(counters, { perSecond: 1, exempt: [] });
    const device = { kind: 'device', deviceId: 'd1' } as const;
    await publishAs(sut, await authenticated('d1-a', device), 10);
    // The same device under another client id shares its budget.
    const again = await publishAs(sut, await authenticated('d1-b', device), 1);
    expect(again[0].topic.startsWith('$')).toBe(true);
    const simulator = await authenticated('pulse-sim-1', {
      kind: 'service',
      name: 'pulse-simulator',
      mayPublishFor: () => true,
    });
    const fleet = await publishAs(sut, simulator, 500);
    expect(fleet.every((r) => !r.error && r.topic === 'devices/d1/telemetry')).toBe(true);
  });

  it('leaves what the ACL refused refused, without counting it against the rate', async () => {
    const sut = new PublishRate(counters, { perSecond: 1, exempt: [] });
    const hook = sut.guard((_c, _p, done) => done(new Error('acl')));
    const error = await new Promise((resolve) =>
      hook(client('d', '10.0.0.9') as Client, packet(), resolve),
    );
    expect(error).toEqual(new Error('acl'));
    expect(counters.stats().refused.mqtt_publish_rate).toBe(0);
  });
});

import { Logger } from '@nestjs/common';
import { ALERT_LIMITS, AckResponse, AlertEvent } from '@pulse/protocol';
import { alertEvent, hot } from '../alerts/testing/alert-engine.harness';
import { AlertsService } from '../alerts/alerts.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { LiveEmitter } from './live-emitter';
import { PeerAcks } from './peer-acks';
import { useRedisNamespaces } from './testing/redis-namespaces';

/** What a gateway of another version, a bug or anyone who can publish on Redis might send. */
type Crafted = unknown;

// Real: a redis-server, gateways' `/live` namespaces on Socket.IO servers with the Redis adapter
// between them (as LiveIoAdapter installs it), each gateway's real alerts service and PeerAcks;
// the "other gateway" that sends crafted requests and answers is such a namespace too.
describe('PeerAcks over Redis: what another gateway sends is checked', () => {
  const warnings: string[] = [];

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((line: unknown) => void warnings.push(String(line)));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    warnings.length = 0;
  });
  const { namespace, joined } = useRedisNamespaces();

  /** A gateway: its real alerts service and engine, and its PeerAcks bound to its namespace. */
  async function gateway() {
    const { nsp, peers } = await namespace();
    const registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
    const raised: AlertEvent[] = [];
    const hub = { publishAlert: (alert: AlertEvent) => raised.push(alert) };
    const alerts = new AlertsService({ ALERT_RULES_FILE: undefined }, [hot], registry, hub);
    const emitter: Pick<LiveEmitter, 'peerAlert'> = { peerAlert: () => undefined };
    const sut = new PeerAcks(alerts, registry, emitter, peers);
    sut.bind(nsp);
    const raise = (deviceId: string): AlertEvent => {
      alerts.onReadings([{ deviceId, ts: Date.now(), values: { t: 40 } }]);
      return raised[raised.length - 1];
    };
    return { sut, alerts, raise, nsp };
  }

  it("a peer's malformed ack request is refused `invalid`, counted and logged, acknowledges nothing; the valid one after it does", async () => {
    const holder = await gateway();
    const other = await namespace();
    await joined(other.nsp, 2);
    await joined(holder.nsp, 2);
    const alert = holder.raise('d1');

    const ask = async (request: Crafted): Promise<unknown[]> =>
      other.nsp.serverSideEmitWithAck('pulse:ack', request as never);
    const crafted: Crafted[] = [
      null, // threw in the adapter's message handler
      'not a request',
      { id: alert.id }, // nobody's name, no scope
      { id: alert.id, by: 'x'.repeat(10_000), scope: null }, // a name past any user's
      { id: alert.id, by: 'mallory', scope: 'hallway' }, // no list of groups: matched 'hall' as text
      { id: alert.id, by: 'ann', note: 42, scope: null },
      { id: 7, by: 'ann', scope: null },
    ];
    for (const request of crafted)
      expect(await ask(request)).toEqual([
        { ok: false, error: 'invalid', message: expect.any(String) },
      ]);
    expect(holder.alerts.active()).toMatchObject([
      { id: alert.id, state: 'raised', acknowledgedBy: null },
    ]);
    expect(holder.sut.stats()).toMatchObject({ malformedRequests: crafted.length });
    expect(warnings.join('\n')).toMatch(/malformed ack request from another gateway/);

    // A field a newer gateway added is left out, not refused (a rolling upgrade).
    const valid = { id: alert.id, by: 'ann', note: 'on it', scope: null, newer: true };
    expect(await ask(valid)).toMatchObject([
      { ok: true, alert: { id: alert.id, state: 'acknowledged', acknowledgedBy: 'ann' } },
    ]);
  }, 20_000);

  it('an id no alert can have (over HTTP, which checks no length) is not_found here: no peer asked, none blames another gateway', async () => {
    const asker = await gateway();
    const peer = await gateway();
    await joined(asker.nsp, 2);
    await joined(peer.nsp, 2);
    const answer = await asker.sut.acknowledge({
      id: 'a'.repeat(ALERT_LIMITS.maxIdLength + 1),
      by: 'ann',
      scope: null,
    });
    expect(answer).toMatchObject({ ok: false, error: 'not_found' });
    expect(peer.sut.stats()).toMatchObject({ malformedRequests: 0 });
    expect(warnings.join('\n')).not.toMatch(/malformed ack request/);
  }, 20_000);

  it("a peer's malformed answer is not taken for the holder's: counted and logged; the holder's valid answer still is", async () => {
    const asker = await gateway();
    const other = await namespace();
    const crafted: Crafted[] = [
      { ok: true, alert: { id: 'al-x' } }, // no whole alert event
      { ok: true, alert: alertEvent('al-x', { message: 'x'.repeat(100_000) }) },
      { ok: false, error: 'exploded', message: 'no such error' },
      { ok: false, error: 'already_acknowledged', message: 42 },
    ];
    let next = 0;
    other.nsp.on('pulse:ack', (_request, answer) =>
      answer(crafted[next++ % crafted.length] as AckResponse),
    );
    await joined(asker.nsp, 2);
    await joined(other.nsp, 2);

    const request = (id: string) => ({ id, by: 'ann', scope: null });
    for (let i = 0; i < crafted.length; i++)
      expect(await asker.sut.acknowledge(request('al-x'))).toEqual({
        ok: false,
        error: 'not_found',
        message: 'no open alert "al-x"',
      });
    expect(asker.sut.stats()).toMatchObject({ malformedAnswers: crafted.length });
    expect(warnings.join('\n')).toMatch(/malformed ack answer from another gateway/);

    // The holder answers beside it: its answer is the answer.
    const holder = await gateway();
    await joined(asker.nsp, 3);
    await joined(holder.nsp, 3);
    await joined(other.nsp, 3);
    const alert = holder.raise('d1');
    expect(await asker.sut.acknowledge(request(alert.id))).toMatchObject({
      ok: true,
      alert: { id: alert.id, state: 'acknowledged', acknowledgedBy: 'ann' },
    });
    expect(asker.sut.stats()).toMatchObject({ malformedAnswers: crafted.length + 1 });
  }, 20_000);
});

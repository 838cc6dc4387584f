import { Logger } from '@nestjs/common';
import type { AckResponse, AlertEvent } from '@pulse/protocol';
import { AlertsService } from '../alerts/alerts.service';
import type { AlertAckRequest } from '../common/alert-acks';
import { DeviceRegistryService } from '../devices/device-registry.service';
import type { LiveNamespace } from './live-io.server';
import type { LiveRedis } from './live-redis.repository';
import {
  ACK_HANDOVER_WAIT_MS,
  ACK_RETRY_MS,
  ACK_WAITERS_MAX,
  ACK_WAITERS_PER_USER,
  PEER_ANSWER_WAIT_MS,
  PeerAcks,
} from './peer-acks';
import { hot } from '../alerts/testing/alert-engine.harness';

type PeerAckHandler = (request: AlertAckRequest, answer: (response: AckResponse) => void) => void;

/** One gateway: its real alerts service and engine, and its PeerAcks. */
function gateway(peers: boolean) {
  const registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
  const raised: AlertEvent[] = [];
  const hub = { publishAlert: (alert: AlertEvent) => raised.push(alert) };
  const alerts = new AlertsService({ ALERT_RULES_FILE: undefined }, [hot], registry, hub);
  // What the live layer last heard the peers hold, and whether devices are changing hands here.
  const peerAlerts = new Map<string, AlertEvent>();
  const routing = { handingOver: false, inHandOver: () => routing.handingOver };
  // Redis: reachable unless a case says otherwise.
  const redis = { enabled: peers, eventsConnected: peers };
  const sut = new PeerAcks(
    alerts,
    registry,
    { peerAlert: (id: string) => peerAlerts.get(id) },
    redis as LiveRedis,
    routing,
  );
  const raise = (deviceId: string, group?: string): AlertEvent => {
    if (group) registry.applyMeta(deviceId, { group }, 1);
    alerts.onReadings([{ deviceId, ts: Date.now(), values: { t: 40 } }]);
    return raised[raised.length - 1];
  };
  return { sut, alerts, raise, peerAlerts, routing, registry, redis };
}

/**
 * Namespaces joined as Socket.IO's Redis adapter joins the gateways: a `pulse:ack` one emits is
 * answered by every other one's handler; `silent` ones never answer (the adapter times out).
 */
function joined(count: number) {
  const handlers: (PeerAckHandler | undefined)[] = [];
  const silent = new Set<number>();
  const asked: AlertAckRequest[] = [];
  const namespaces = Array.from({ length: count }, (_, i) => {
    const nsp = {
      on: (event: string, handler: PeerAckHandler) => {
        if (event === 'pulse:ack') handlers[i] = handler;
      },
      serverSideEmitWithAck: async (_event: 'pulse:ack', request: AlertAckRequest) => {
        asked.push(request);
        const answers: AckResponse[] = [];
        let missing = 0;
        for (let j = 0; j < count; j++) {
          if (j === i) continue;
          if (silent.has(j)) {
            missing++;
            continue;
          }
          // Over Redis: a copy of the request, answered through the callback.
          handlers[j]?.(structuredClone(request), (answer) => answers.push(answer));
        }
        // As Socket.IO does when the adapter times out: the answers that came, on the error.
        if (missing > 0) throw Object.assign(new Error('timeout reached'), { responses: answers });
        return answers;
      },
    };
    return nsp as unknown as LiveNamespace;
  });
  return { namespaces, silent, asked };
}

// Real alert services and engines, one per gateway; Socket.IO's Redis adapter is a fake that
// hands a `pulse:ack` to the other gateways' handlers and their answers back.
describe('PeerAcks', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const request = (id: string, scope: readonly string[] | null = null): AlertAckRequest => ({
    id,
    by: 'ann',
    note: 'on it',
    scope,
  });

  it('acknowledges an alert held here without asking the other gateways', async () => {
    const [a, b] = [gateway(true), gateway(true)];
    const link = joined(2);
    a.sut.bind(link.namespaces[0]);
    b.sut.bind(link.namespaces[1]);
    const alert = a.raise('d1');
    expect(await a.sut.acknowledge(request(alert.id))).toMatchObject({
      ok: true,
      alert: { id: alert.id, state: 'acknowledged', acknowledgedBy: 'ann', ackNote: 'on it' },
    });
    expect(link.asked).toEqual([]);
  });

  it("an alert another gateway holds: acknowledged there, in the caller's name, and that answer comes back", async () => {
    const [a, b, c] = [gateway(true), gateway(true), gateway(true)];
    const link = joined(3);
    [a, b, c].forEach((g, i) => g.sut.bind(link.namespaces[i]));
    const alert = c.raise('d1');
    expect(await a.sut.acknowledge(request(alert.id))).toMatchObject({
      ok: true,
      alert: { id: alert.id, state: 'acknowledged', acknowledgedBy: 'ann' },
    });
    expect(c.alerts.active()).toMatchObject([{ id: alert.id, acknowledgedBy: 'ann' }]);
    // The holder's refusal beats the others' not_found.
    expect(await b.sut.acknowledge(request(alert.id))).toMatchObject({
      ok: false,
      error: 'already_acknowledged',
    });
  });

  it("the holder checks the caller's group scope; an alert nobody holds is not_found", async () => {
    const [a, b] = [gateway(true), gateway(true)];
    const link = joined(2);
    a.sut.bind(link.namespaces[0]);
    b.sut.bind(link.namespaces[1]);
    const alert = b.raise('d1', 'hall');
    expect(await a.sut.acknowledge(request(alert.id, ['yard']))).toMatchObject({
      ok: false,
      error: 'not_found',
    });
    expect(await a.sut.acknowledge(request('al-nowhere'))).toMatchObject({
      ok: false,
      error: 'not_found',
      message: 'no open alert "al-nowhere"',
    });
    expect(await a.sut.acknowledge(request(alert.id, ['hall']))).toMatchObject({ ok: true });
  });

  it("a gateway that does not answer in time: this gateway's not_found", async () => {
    const [a, b] = [gateway(true), gateway(true)];
    const link = joined(2);
    a.sut.bind(link.namespaces[0]);
    b.sut.bind(link.namespaces[1]);
    const alert = b.raise('d1');
    link.silent.add(1);
    expect(await a.sut.acknowledge(request(alert.id))).toMatchObject({
      ok: false,
      error: 'not_found',
    });
    expect(b.alerts.active()).toMatchObject([{ id: alert.id, acknowledgedBy: null }]);
  });

  it('the holder acknowledged while a third gateway stays silent: its answer, not not_found', async () => {
    const [a, b, c] = [gateway(true), gateway(true), gateway(true)];
    const link = joined(3);
    [a, b, c].forEach((g, i) => g.sut.bind(link.namespaces[i]));
    const alert = b.raise('d1');
    link.silent.add(2);
    expect(await a.sut.acknowledge(request(alert.id))).toMatchObject({
      ok: true,
      alert: { id: alert.id, acknowledgedBy: 'ann' },
    });
  });

  describe('an alert between holders (a hand-over)', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    /** `a` asks; `b` holds the alert but is silent (frozen, or not done loading it). */
    function frozenHolder(group?: string) {
      const [a, b] = [gateway(true), gateway(true)];
      const link = joined(2);
      a.sut.bind(link.namespaces[0]);
      b.sut.bind(link.namespaces[1]);
      const alert = b.raise('d1', group);
      if (group) a.registry.applyMeta('d1', { group }, 1);
      link.silent.add(1);
      return { a, b, link, alert };
    }

    it('one a peer was last heard holding: asked again until its holder answers', async () => {
      const { a, link, alert } = frozenHolder();
      a.peerAlerts.set(alert.id, alert);
      const answer = a.sut.acknowledge(request(alert.id));
      await jest.advanceTimersByTimeAsync(3 * ACK_RETRY_MS);
      link.silent.clear();
      await jest.advanceTimersByTimeAsync(ACK_RETRY_MS);
      expect(await answer).toMatchObject({
        ok: true,
        alert: { id: alert.id, acknowledgedBy: 'ann' },
      });
      expect(link.asked.length).toBeGreaterThanOrEqual(4);
      expect(a.sut.stats()).toMatchObject({ waited: 1, unheld: 0, overLimit: 0 });
    });

    it('nobody answers within ACK_HANDOVER_WAIT_MS: not_found, counted', async () => {
      const { a, link, alert } = frozenHolder();
      a.peerAlerts.set(alert.id, alert);
      let answered: unknown = null;
      void Promise.resolve(a.sut.acknowledge(request(alert.id))).then((r) => (answered = r));
      await jest.advanceTimersByTimeAsync(ACK_HANDOVER_WAIT_MS - ACK_RETRY_MS);
      expect(answered).toBeNull();
      await jest.advanceTimersByTimeAsync(2 * ACK_RETRY_MS);
      expect(answered).toMatchObject({ ok: false, error: 'not_found' });
      expect(link.asked.length).toBeLessThanOrEqual(ACK_HANDOVER_WAIT_MS / ACK_RETRY_MS + 2);
      expect(a.sut.stats()).toMatchObject({ waited: 1, unheld: 1, overLimit: 0 });
    });

    it("an alert of a device outside the caller's scope, or one nobody was heard holding, does not wait", async () => {
      const { a, link, alert } = frozenHolder('hall');
      a.peerAlerts.set(alert.id, alert);
      expect(await a.sut.acknowledge(request(alert.id, ['yard']))).toMatchObject({
        ok: false,
        error: 'not_found',
      });
      expect(await a.sut.acknowledge(request('al-nowhere'))).toMatchObject({
        error: 'not_found',
      });
      expect(link.asked).toHaveLength(2);
      expect(a.sut.stats()).toMatchObject({ waited: 0, unheld: 0, overLimit: 0 });
    });

    it('while devices change hands here, any unheld ack waits, and stops waiting when that ends', async () => {
      const { a, link, alert } = frozenHolder();
      a.routing.handingOver = true; // this gateway let the device go: the peer loads it now
      let answered: unknown = null;
      void Promise.resolve(a.sut.acknowledge(request(alert.id))).then((r) => (answered = r));
      await jest.advanceTimersByTimeAsync(4 * ACK_RETRY_MS);
      expect(answered).toBeNull();
      a.routing.handingOver = false;
      await jest.advanceTimersByTimeAsync(ACK_RETRY_MS);
      expect(answered).toMatchObject({ ok: false, error: 'not_found' });
      expect(link.asked.length).toBeLessThan(8);
    });

    it('at most ACK_WAITERS_PER_USER of one user and ACK_WAITERS_MAX in all wait; the next is answered at once, counted', async () => {
      const { a, alert } = frozenHolder();
      a.peerAlerts.set(alert.id, alert);
      // One user may hold ACK_WAITERS_PER_USER places; many users, ACK_WAITERS_MAX in all.
      const byOne = Array.from({ length: ACK_WAITERS_PER_USER }, () =>
        a.sut.acknowledge(request(alert.id)),
      );
      await jest.advanceTimersByTimeAsync(0);
      expect(await a.sut.acknowledge(request(alert.id))).toMatchObject({ error: 'not_found' });
      expect(a.sut.stats()).toMatchObject({ waited: ACK_WAITERS_PER_USER, overLimit: 1 });
      const waiting = [
        ...byOne,
        ...Array.from({ length: ACK_WAITERS_MAX - ACK_WAITERS_PER_USER }, (_, i) =>
          a.sut.acknowledge({ ...request(alert.id), by: `user-${i}` }),
        ),
      ];
      await jest.advanceTimersByTimeAsync(0);
      expect(await a.sut.acknowledge({ ...request(alert.id), by: 'someone-else' })).toMatchObject({
        error: 'not_found',
      });
      expect(a.sut.stats()).toMatchObject({ waited: ACK_WAITERS_MAX, overLimit: 2 });
      await jest.advanceTimersByTimeAsync(ACK_HANDOVER_WAIT_MS + ACK_RETRY_MS);
      await Promise.all(waiting);
      expect(a.sut.stats()).toMatchObject({
        waited: ACK_WAITERS_MAX,
        unheld: ACK_WAITERS_MAX,
        overLimit: 2,
      });
    });
  });

  it("a peer ask the adapter never answers (its server count failed: Redis away) ends, with this gateway's answer", async () => {
    jest.useFakeTimers();
    try {
      const sut = gateway(true).sut;
      const hanging = {
        on: () => undefined,
        serverSideEmitWithAck: () => new Promise<never>(() => undefined),
      } as unknown as LiveNamespace;
      sut.bind(hanging);
      let answered: unknown = null;
      void Promise.resolve(sut.acknowledge(request('al-nowhere'))).then((r) => (answered = r));
      await jest.advanceTimersByTimeAsync(PEER_ANSWER_WAIT_MS - 1);
      expect(answered).toBeNull();
      await jest.advanceTimersByTimeAsync(2);
      expect(answered).toMatchObject({ ok: false, error: 'not_found' });
    } finally {
      jest.useRealTimers();
    }
  });

  it("while Redis cannot be reached no peer is asked: this gateway's answer at once, and the hand-over wait asks again once it is back", async () => {
    const [a, b] = [gateway(true), gateway(true)];
    const link = joined(2);
    a.sut.bind(link.namespaces[0]);
    b.sut.bind(link.namespaces[1]);
    const alert = b.raise('d1');
    a.redis.eventsConnected = false;
    expect(await a.sut.acknowledge(request(alert.id))).toMatchObject({
      ok: false,
      error: 'not_found',
    });
    expect(link.asked).toEqual([]);
    // A peer was last heard holding it: the ack waits, and is answered once Redis is back.
    a.peerAlerts.set(alert.id, alert);
    const answer = a.sut.acknowledge(request(alert.id));
    await new Promise((resolve) => setTimeout(resolve, ACK_RETRY_MS * 2));
    expect(link.asked).toEqual([]);
    a.redis.eventsConnected = true;
    expect(await answer).toMatchObject({
      ok: true,
      alert: { id: alert.id, acknowledgedBy: 'ann' },
    });
  });

  it('with one gateway (no Redis) nothing is asked or answered across gateways', async () => {
    const sut = gateway(false).sut;
    const link = joined(2);
    sut.bind(link.namespaces[0]);
    expect(sut.acknowledge(request('al-nowhere'))).toMatchObject({
      ok: false,
      error: 'not_found',
    });
    expect(link.asked).toEqual([]);
  });
});

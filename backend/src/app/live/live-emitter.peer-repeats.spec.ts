import { AlertEvent } from '@pulse/protocol';
import { closeLive, collectAlerts, connectLive, LiveClient, sleep } from '@pulse/test-support';
import { alertEvent } from '../alerts/testing/alert-engine.harness';
import { LiveEmitter } from './live-emitter';
import type { LiveNamespace } from './live-io.server';
import { HELD_ALERTS_RESEND_MS } from './peer-alerts';
import { useRedisNamespaces } from './testing/redis-namespaces';

/** What collectAlerts gives. */
type AlertsSeen = ReturnType<typeof collectAlerts>;

interface Gateway {
  emitter: LiveEmitter;
  nsp: LiveNamespace;
  url: string;
}

// Real: a redis-server, two gateways' emitters on Socket.IO servers on port 0 with the Redis
// adapter between them (as LiveIoAdapter installs it), and a dashboard's socket.io-client on one.
describe('LiveEmitter: the other gateways’ alert events, as a dashboard sees them', () => {
  const emitters: LiveEmitter[] = [];
  let screen: LiveClient | undefined;

  afterEach(async () => {
    if (screen) await closeLive(screen);
    await Promise.all(emitters.splice(0).map((emitter) => emitter.close()));
  });
  const { namespace, listen, joined } = useRedisNamespaces();

  /** A gateway's emitter on its namespace, serving; its Redis connection may not be up yet. */
  async function gateway(): Promise<Gateway> {
    const { nsp, peers, http } = await namespace({ connected: false });
    const emitter = new LiveEmitter({ FLUSH_MS: 20 }, undefined, peers);
    emitters.push(emitter);
    emitter.bind(nsp);
    return { emitter, nsp, url: await listen(http) };
  }

  /** gw-b with a dashboard on it, then gw-a, each subscribed to the other's events. */
  async function screenOnB(): Promise<{ a: Gateway; b: Gateway; seen: AlertsSeen }> {
    const b = await gateway();
    await joined(b.nsp, 1);
    screen = await connectLive(b.url, ['websocket']);
    const seen = collectAlerts(screen);
    const a = await gateway();
    await joined(a.nsp, 1);
    return { a, b, seen };
  }

  it('reaches a dashboard on the other gateway once, its list’s version moved once, the repeat counted', async () => {
    const b = await gateway();
    // gw-b subscribed to the other gateways' events before gw-a can publish: it hears both sends.
    await joined(b.nsp, 1);
    screen = await connectLive(b.url, ['websocket']);
    const seen = collectAlerts(screen);

    const a = await gateway();
    // Raised before gw-a's Redis connection is ready (as during an outage): held, sent once it
    // is, and once more HELD_ALERTS_RESEND_MS later.
    const ended = alertEvent('x', { state: 'cleared', active: false, clearedAt: 5, updatedAt: 5 });
    a.emitter.emitAlert(ended);
    expect(a.emitter.peerAlertStats()).toMatchObject({ held: 1 });

    await seen.waitForEvent((e) => e.id === 'x', 'x ended, from gw-a');
    await sleep(HELD_ALERTS_RESEND_MS + 500);
    expect(seen.events).toEqual([expect.objectContaining({ id: 'x', state: 'cleared', v: 1 })]);
    expect(b.emitter.snapshot.version()).toBe(`${b.emitter.snapshot.boot}.1`);
    expect(b.emitter.peerAlertStats()).toMatchObject({ repeats: 1 });
  }, 20_000);

  it('a malformed one (no id, wrong types, an oversized message) reaches no screen, counted; the valid one after it does', async () => {
    const { a, b, seen } = await screenOnB();

    // What a gateway of another version, a bug or anyone who can publish on Redis might send.
    const noId: Partial<AlertEvent> = alertEvent('m1');
    delete noId.id;
    const malformed = [
      noId,
      alertEvent('m2', { active: 'yes', count: '1' } as unknown as Partial<AlertEvent>),
      alertEvent('m3', { message: 'x'.repeat(100_000) }),
      'not an event',
    ];
    for (const event of malformed) a.nsp.serverSideEmit('pulse:alert', event as AlertEvent);
    a.emitter.emitAlert(alertEvent('ok'));

    await seen.waitForEvent((e) => e.id === 'ok', 'the valid event after them');
    await sleep(200); // anything sent before it has arrived
    expect(seen.events).toEqual([expect.objectContaining({ id: 'ok', state: 'raised', v: 1 })]);
    expect(b.emitter.peerAlertStats()).toMatchObject({ open: 1, malformed: 4 });
    expect(b.emitter.peerAlert('ok')).toEqual(alertEvent('ok'));
  }, 20_000);

  it('an older gateway’s event without kind (a rolling upgrade) reaches the screens, its kind read from its words', async () => {
    const { a, b, seen } = await screenOnB();

    // As a gateway built before 2026-12-06 sends it: an offline alert, no `kind`.
    const old: Partial<AlertEvent> = alertEvent('old', {
      metric: null,
      value: null,
      threshold: null,
      kind: 'offline',
      message: 'hot: device offline', // its rule's name, then the offline wording
    });
    delete old.kind;
    a.nsp.serverSideEmit('pulse:alert', old as AlertEvent);

    await seen.waitForEvent((e) => e.id === 'old', 'the older gateway’s event');
    expect(seen.events).toEqual([expect.objectContaining({ id: 'old', kind: 'offline' })]);
    expect(b.emitter.peerAlertStats()).toMatchObject({ open: 1, malformed: 0 });
    expect(b.emitter.peerAlert('old')?.kind).toBe('offline');
  }, 20_000);
});

import type { AlertDelta, AlertEvent } from '@pulse/protocol';
import { LiveEmitter } from './live-emitter';
import type { LiveNamespace } from './live-io.server';
import type { LiveRedis } from './live-redis.repository';
import { HELD_ALERTS_RESEND_MS } from './peer-alerts';
import { alertEvent } from '../alerts/testing/alert-engine.harness';

const alert = (id: string, state: AlertEvent['state']): AlertEvent => alertEvent(id, { state });

/**
 * A gateway's emitter with peers: the Redis adapter's connection (up or down, its `ready`
 * listeners) and the namespace are fakes that record what is published to the other gateways
 * and to this gateway's dashboards, and let a peer's `pulse:alert` arrive.
 */
function gateway() {
  const ready: (() => void)[] = [];
  const redis = {
    enabled: true,
    eventsConnected: false,
    onEventsReady: (listener: () => void) => ready.push(listener),
  };
  const published: string[] = [];
  /** `alert` events to this gateway's dashboards: `id:state:v`. */
  const dashboards: string[] = [];
  let fromPeer: (alert: AlertEvent) => void = () => undefined;
  const toDashboards = (event: string, a: AlertDelta) => {
    if (event === 'alert') dashboards.push(`${a.id}:${a.state}:${a.v}`);
    return true;
  };
  const room = { emit: toDashboards };
  const nsp = {
    name: '/live',
    server: {},
    adapter: { on: () => undefined },
    local: { emit: toDashboards, except: () => room },
    on: (event: string, handler: (alert: AlertEvent) => void) => {
      if (event === 'pulse:alert') fromPeer = handler;
    },
    serverSideEmit: (_event: string, a: AlertEvent) => published.push(`${a.id}:${a.state}`),
  };
  const emitter = new LiveEmitter({ FLUSH_MS: 20 }, undefined, redis as unknown as LiveRedis);
  emitter.bind(nsp as unknown as LiveNamespace);
  const up = () => {
    redis.eventsConnected = true;
    ready.forEach((listener) => listener());
  };
  const down = () => (redis.eventsConnected = false);
  return { emitter, published, dashboards, up, down, peer: (a: AlertEvent) => fromPeer(a) };
}

describe('LiveEmitter: alert events the other gateways could not be told (Redis away)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('holds the newest event of each alert and sends it once Redis is back, then once more', async () => {
    const g = gateway();
    g.emitter.emitAlert(alert('x', 'raised'));
    g.emitter.emitAlert(alert('x', 'cleared'));
    g.emitter.emitAlert(alert('y', 'raised'));
    expect(g.published).toEqual([]);
    expect(g.emitter.peerAlertStats()).toMatchObject({ held: 2, unsent: 0 });
    g.up();
    expect(g.published).toEqual(['x:cleared', 'y:raised']);
    g.emitter.emitAlert(alert('y', 'acknowledged')); // live now, and the newest for the resend
    await jest.advanceTimersByTimeAsync(HELD_ALERTS_RESEND_MS);
    expect(g.published).toEqual([
      'x:cleared',
      'y:raised',
      'y:acknowledged',
      'x:cleared',
      'y:acknowledged',
    ]);
    expect(g.emitter.peerAlertStats()).toMatchObject({ held: 0 });
  });

  it('an alert a peer spoke of since (a hand-over: the new holder) is not sent: its older state never lands last', async () => {
    const g = gateway();
    g.emitter.emitAlert(alert('x', 'raised'));
    g.emitter.emitAlert(alert('y', 'raised'));
    g.peer(alert('x', 'cleared'));
    g.up();
    expect(g.published).toEqual(['y:raised']);
    g.peer(alert('y', 'acknowledged'));
    await jest.advanceTimersByTimeAsync(HELD_ALERTS_RESEND_MS);
    expect(g.published).toEqual(['y:raised']);
  });

  it('a peer’s older event arriving late (its resend, after this gateway took the alert over) drops nothing newer held here', async () => {
    const g = gateway();
    const old = alertEvent('x', { state: 'raised', updatedAt: 1 });
    g.peer(old); // the old holder's flush after the outage
    // Handed over here; this gateway's publishing connection is not back yet: held.
    g.emitter.emitAlert(alertEvent('x', { state: 'cleared', clearedAt: 5, updatedAt: 5 }));
    g.peer({ ...old }); // the old holder's resend, 3 s after its flush
    g.up();
    expect(g.published).toEqual(['x:cleared']);
    g.peer({ ...old }); // late again, now that the newer state is due to be sent once more
    await jest.advanceTimersByTimeAsync(HELD_ALERTS_RESEND_MS);
    expect(g.published).toEqual(['x:cleared', 'x:cleared']);
    // Nor does it reach this gateway's screens: they were told of the newer state, and the older
    // one would stay on them (raised) until the alert's next change, which may never come.
    expect(g.dashboards.map((d) => d.split(':').slice(0, 2).join(':'))).toEqual([
      'x:raised', // the old holder's first sending, before the hand-over: news then
      'x:cleared',
    ]);
    expect(g.emitter.peerAlertStats()).toMatchObject({ stale: 2 });
  });

  it('a resend that finds Redis away again stays due, and a second flush within the resend time keeps the first one’s', async () => {
    const g = gateway();
    g.emitter.emitAlert(alert('x', 'raised'));
    g.up();
    expect(g.published).toEqual(['x:raised']);
    g.down();
    await jest.advanceTimersByTimeAsync(HELD_ALERTS_RESEND_MS);
    expect(g.published).toEqual(['x:raised']);
    g.emitter.emitAlert(alert('y', 'raised'));
    g.up();
    expect(g.published).toEqual(['x:raised', 'x:raised', 'y:raised']);
    g.down();
    g.emitter.emitAlert(alert('z', 'raised'));
    g.up(); // within the resend time of the last flush
    await jest.advanceTimersByTimeAsync(HELD_ALERTS_RESEND_MS);
    expect(g.published.slice(3)).toEqual([
      'x:raised',
      'y:raised',
      'z:raised',
      'x:raised',
      'y:raised',
      'z:raised',
    ]);
  });

  it('a peer’s event repeated (its resend after an outage) reaches the dashboards once and moves the list’s version once, counted', () => {
    const g = gateway();
    const raised = alert('x', 'raised');
    const ended = alertEvent('y', { state: 'cleared', active: false, clearedAt: 5, updatedAt: 5 });
    g.peer(raised);
    g.peer(ended);
    g.peer({ ...raised }); // the resend, 3 s later: a copy, off the wire again
    g.peer({ ...ended });
    expect(g.dashboards).toEqual(['x:raised:1', 'y:cleared:2']);
    expect(g.emitter.peerAlertStats()).toMatchObject({ open: 1, repeats: 2 });
    // A change is news: acknowledged, or the same state with another value.
    g.peer({ ...raised, state: 'acknowledged', acknowledgedAt: 7, acknowledgedBy: 'ops' });
    g.peer({
      ...raised,
      state: 'acknowledged',
      acknowledgedAt: 7,
      acknowledgedBy: 'ops',
      value: 90,
    });
    expect(g.dashboards.slice(2)).toEqual(['x:acknowledged:3', 'x:acknowledged:4']);
  });
});

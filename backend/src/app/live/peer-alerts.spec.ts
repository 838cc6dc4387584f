import {
  HeldAlerts,
  PEER_ALERTS_MAX,
  PEER_CLOSED_REPEAT_MS,
  PeerAlerts,
  sameAlertState,
} from './peer-alerts';
import { alertEvent } from '../alerts/testing/alert-engine.harness';

const alert = alertEvent;

describe('PeerAlerts', () => {
  it("adds the peers' open alerts to this gateway's own, each once, and drops them once closed", () => {
    const sut = new PeerAlerts();
    sut.peer(alert('a'));
    sut.peer(alert('b'));
    sut.peer(alert('a', { state: 'acknowledged', acknowledgedBy: 'ana' }));
    const mine = [alert('m')];
    expect(sut.with(mine).map((x) => [x.id, x.state])).toEqual([
      ['m', 'raised'],
      ['a', 'acknowledged'],
      ['b', 'raised'],
    ]);
    sut.peer(alert('b', { state: 'cleared', active: false }));
    expect(sut.with([]).map((x) => x.id)).toEqual(['a']);
  });

  it('leaves an alert to this gateway once its own engine speaks of it (taken over)', () => {
    const sut = new PeerAlerts();
    sut.peer(alert('a'));
    // Listed once, this gateway's copy first, while both know it.
    expect(sut.with([alert('a', { count: 2 })]).map((x) => [x.id, x.count])).toEqual([['a', 2]]);
    sut.local(alert('a', { count: 2 }));
    expect(sut.size).toBe(0);
  });

  it('takes the store’s open list at start, but not what an event said in the meantime', () => {
    const sut = new PeerAlerts();
    sut.beginSeed();
    sut.peer(alert('closed-meanwhile', { active: false, state: 'cleared' }));
    sut.peer(alert('acked-meanwhile', { state: 'acknowledged' }));
    sut.seed([
      alert('closed-meanwhile'),
      alert('acked-meanwhile'),
      alert('old'),
      alert('gone', { active: false }),
    ]);
    expect(sut.with([]).map((x) => [x.id, x.state])).toEqual([
      ['acked-meanwhile', 'acknowledged'],
      ['old', 'raised'],
    ]);
    // Seeded once: later events apply as usual.
    sut.peer(alert('old', { active: false }));
    expect(sut.size).toBe(1);
  });

  it('keeps at most PEER_ALERTS_MAX, counting the ones it leaves out', () => {
    const sut = new PeerAlerts();
    for (let i = 0; i < PEER_ALERTS_MAX + 5; i++) sut.peer(alert(String(i)));
    expect(sut.size).toBe(PEER_ALERTS_MAX);
    expect(sut.refused).toBe(5);
    sut.peer(alert('0', { state: 'acknowledged' })); // one already kept is still updated
    expect(sut.refused).toBe(5);
  });
});

describe('PeerAlerts: a peer’s event that says nothing new (its resend after an outage)', () => {
  const T0 = Date.UTC(2026, 0, 15, 12);

  it('is a repeat only when every field is the same', () => {
    const raised = alert('a');
    expect(sameAlertState(raised, { ...raised })).toBe(true);
    expect(sameAlertState(raised, { ...raised, count: 2 })).toBe(false);
    expect(sameAlertState(raised, { ...raised, updatedAt: 2 })).toBe(false);
    expect(sameAlertState(raised, { ...raised, ackNote: 'on it' })).toBe(false);
    expect(sameAlertState(raised, { ...raised, message: 't above 60' })).toBe(false);
  });

  it('remembers a closed alert while its repeats keep coming, and forgets it PEER_CLOSED_REPEAT_MS after the last', () => {
    const sut = new PeerAlerts();
    const ended = alert('a', { state: 'cleared', active: false });
    expect(sut.peer(ended, T0)).toBe(true);
    expect(sut.peer({ ...ended }, T0 + PEER_CLOSED_REPEAT_MS - 1)).toBe(false);
    expect(sut.peer({ ...ended }, T0 + 2 * PEER_CLOSED_REPEAT_MS - 2)).toBe(false);
    expect(sut.peer({ ...ended }, T0 + 3 * PEER_CLOSED_REPEAT_MS)).toBe(true); // forgotten
    expect(sut.repeats).toBe(2);
    expect(sut.size).toBe(0);
  });

  it('passes the peer’s event on once this gateway’s engine spoke of the alert (it holds it now)', () => {
    const sut = new PeerAlerts();
    const open = alert('a');
    const ended = alert('b', { state: 'cleared', active: false });
    sut.peer(open, T0);
    sut.peer(ended, T0);
    sut.local(alert('a', { count: 2 }));
    sut.local(alert('b', { state: 'raised' }));
    expect(sut.peer({ ...open }, T0)).toBe(true);
    expect(sut.peer({ ...ended }, T0)).toBe(true);
    expect(sut.repeats).toBe(0);
  });

  it(`remembers at most PEER_ALERTS_MAX closed alerts: the oldest is forgotten`, () => {
    const sut = new PeerAlerts();
    const ended = (i: number) => alert(String(i), { state: 'cleared', active: false });
    for (let i = 0; i <= PEER_ALERTS_MAX; i++) sut.peer(ended(i), T0);
    expect(sut.peer(ended(0), T0)).toBe(true); // the oldest, forgotten
    expect(sut.peer(ended(PEER_ALERTS_MAX), T0)).toBe(false);
  });
});

describe('HeldAlerts (events the peers could not be told while Redis was away)', () => {
  it('keeps the newest event of each alert, in the order they last changed, hands them over, and has them due once more', () => {
    const sut = new HeldAlerts();
    sut.hold(alert('a'));
    sut.hold(alert('b'));
    sut.hold(alert('a', { state: 'cleared', updatedAt: 2 }));
    expect(sut.size).toBe(2);
    expect(sut.take().map((e) => [e.id, e.state])).toEqual([
      ['b', 'raised'],
      ['a', 'cleared'],
    ]);
    expect(sut.size).toBe(0);
    // Then due once more, once.
    expect(sut.takeAgain().map((e) => e.id)).toEqual(['b', 'a']);
    expect(sut.take()).toEqual([]);
  });

  it('forgets an alert a peer spoke of, held or due', () => {
    const sut = new HeldAlerts();
    sut.hold(alert('a'));
    sut.take();
    sut.hold(alert('b'));
    sut.forget(alert('a'));
    sut.forget(alert('b'));
    expect(sut.size).toBe(0);
    expect(sut.take()).toEqual([]);
    expect(sut.takeAgain()).toEqual([]);
  });

  it('keeps a held or due state newer than the peer’s event (a late resend of an older one)', () => {
    const sut = new HeldAlerts();
    sut.hold(alert('a', { state: 'cleared', updatedAt: 5 }));
    sut.take();
    sut.hold(alert('b', { state: 'acknowledged', updatedAt: 5 }));
    sut.forget(alert('a', { updatedAt: 4 }));
    sut.forget(alert('b', { updatedAt: 4 }));
    expect(sut.take().map((e) => [e.id, e.state])).toEqual([
      ['a', 'cleared'],
      ['b', 'acknowledged'],
    ]);
  });

  it('orders an alert’s states by how far it got, not by updatedAt alone (an ack takes the server’s clock, a clear its reading’s)', () => {
    const sut = new HeldAlerts();
    // Acknowledged here during an outage at 10:00:05 (server clock); flushed, due once more.
    const acked = alert('a', {
      state: 'acknowledged',
      acknowledgedAt: 10_005,
      acknowledgedBy: 'ops',
      updatedAt: 10_005,
    });
    sut.hold(acked);
    sut.take();
    // The new holder cleared it from a reading stamped 10:00:04.9: acknowledged and cleared,
    // closed. Later, whatever its updatedAt says: the due ack must not be sent again.
    const closed = alert('a', {
      state: 'cleared',
      acknowledgedAt: 10_005,
      acknowledgedBy: 'ops',
      clearedAt: 10_004,
      updatedAt: 10_004,
      active: false,
    });
    expect(sut.forget(closed)).toBe(false);
    expect(sut.takeAgain()).toEqual([]);
    // Raised again (count 2) beats an older episode's later clock; a clear beats the raise it ends.
    sut.hold(alert('b', { count: 2, raisedAt: 90, updatedAt: 90 }));
    expect(sut.forget(alert('b', { count: 1, updatedAt: 200 }))).toBe(true);
    sut.hold(alert('c', { state: 'raised', updatedAt: 300 }));
    expect(sut.forget(alert('c', { state: 'cleared', clearedAt: 250, updatedAt: 250 }))).toBe(
      false,
    );
    expect(sut.take().map((e) => e.id)).toEqual(['b']);
  });

  it('takes a flapping alert that settled for later than the flapping state (a reading’s clock against an ack’s)', () => {
    const sut = new HeldAlerts();
    const acked = { acknowledgedAt: 10_005, acknowledgedBy: 'ops', state: 'acknowledged' as const };
    sut.hold(alert('f', { ...acked, flapping: true, updatedAt: 10_005 }));
    sut.take();
    // Settled on the new holder by a reading stamped 10:00:04: later all the same.
    expect(sut.forget(alert('f', { ...acked, flapping: false, updatedAt: 10_004 }))).toBe(false);
    expect(sut.takeAgain()).toEqual([]);
  });

  it('holds at most PEER_ALERTS_MAX alerts however long the outage: beyond, new alerts are counted as unsent, known ones still updated', () => {
    const sut = new HeldAlerts();
    for (let i = 0; i < PEER_ALERTS_MAX + 3; i++) sut.hold(alert(String(i)));
    // Every alert changing again and again adds nothing.
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < 100; i++) sut.hold(alert(String(i), { count: round + 2 }));
    expect(sut.size).toBe(PEER_ALERTS_MAX);
    expect(sut.unsent).toBe(3);
    const events = sut.take();
    expect(events).toHaveLength(PEER_ALERTS_MAX);
    expect(events.find((e) => e.id === '7')).toMatchObject({ count: 4 });
  });

  it('the flushed alerts are sent once more, each as its newest event; one held again since is left to the next flush', () => {
    const sut = new HeldAlerts();
    sut.hold(alert('a'));
    sut.hold(alert('b'));
    sut.hold(alert('c'));
    sut.take();
    sut.sent(alert('a', { state: 'acknowledged' })); // went out live since: the newest
    sut.sent(alert('z')); // not among the flushed: no resend of it
    sut.hold(alert('b', { state: 'cleared' })); // Redis away again: the next flush carries it
    expect(sut.takeAgain().map((e) => [e.id, e.state])).toEqual([
      ['a', 'acknowledged'],
      ['c', 'raised'],
    ]);
    expect(sut.takeAgain()).toEqual([]);
    expect(sut.take().map((e) => [e.id, e.state])).toEqual([['b', 'cleared']]);
  });
});

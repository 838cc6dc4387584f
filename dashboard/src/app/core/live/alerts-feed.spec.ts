import type { ActiveAlertsResponse, AlertEvent } from '@pulse/protocol/core';
import { acknowledged, alertEvent } from '../../testing/alerts';
import { useFakeClock } from '../../testing/testbed';
import { AlertStore } from '../stores/alert.store';
import { AlertInput, IncomingAlert } from './alert-input';
import {
  ALERTS_READ_RETRY_MS,
  ALERTS_READ_TIMEOUT_MS,
  AlertsFeed,
  MAX_WAITING_ALERTS,
} from './alerts-feed';

/** One `GET /api/alerts` the spec answers (or fails) itself. */
interface PendingRead {
  signal: AbortSignal;
  answer(body: ActiveAlertsResponse): Promise<void>;
  fail(error: Error): Promise<void>;
}

function setup() {
  const store = new AlertStore();
  const reads: PendingRead[] = [];
  const gaveUp: string[] = [];
  const feed = new AlertsFeed(store, new AlertInput(), {
    read: (signal) =>
      new Promise<ActiveAlertsResponse>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted')));
        const settled = () => jest.advanceTimersByTimeAsync(0);
        reads.push({
          signal,
          answer: (body) => (resolve(body), settled()),
          fail: (error) => (reject(error), settled()),
        });
      }),
    giveUp: (why) => gaveUp.push(why),
  });
  const states = () => store.active().map((a) => [a.id, a.state]);
  return { store, feed, reads, gaveUp, states };
}

const at = (alert: AlertEvent, v: number): IncomingAlert => ({ ...alert, v });

describe('AlertsFeed', () => {
  useFakeClock();

  it('applies the list read at the version, then only the deltas past it, in the order they came', async () => {
    const { feed, reads, gaveUp, states } = setup();
    const a = alertEvent({ id: 'a' });
    const b = alertEvent({ id: 'b' });
    const c = alertEvent({ id: 'c' });
    feed.greeted({ version: 'k1.10' });
    expect(reads).toHaveLength(1);
    // While the list is read: a change the list will hold (11), and one it will not (13).
    feed.delta(at(a, 11));
    feed.delta(at(acknowledged(b, 'ana', 5), 13));
    // Shown at once, before the list is in.
    expect(states()).toEqual([
      ['a', 'raised'],
      ['b', 'acknowledged'],
    ]);
    await reads[0].answer({ alerts: [a, { ...b, state: 'cleared' }], version: 'k1.12' });
    expect(states()).toEqual([
      ['a', 'raised'],
      ['b', 'acknowledged'],
    ]);
    // A delta the list already holds, arriving late on a socket behind the HTTP answer, does not
    // take an alert back to an older state.
    feed.delta(at({ ...b, state: 'cleared' }, 12));
    expect(states()).toContainEqual(['b', 'acknowledged']);
    feed.delta(at(c, 14));
    expect(states().map(([id]) => id)).toEqual(['a', 'b', 'c']);
    expect(gaveUp).toEqual([]);
  });

  it('keeps only the newest delta of an alert while the list is read', async () => {
    const { feed, reads, states } = setup();
    const a = alertEvent({ id: 'a' });
    feed.greeted({ version: 'k1.0' });
    feed.delta(at(a, 1));
    feed.delta(at(acknowledged(a, 'ana', 5), 2));
    await reads[0].answer({ alerts: [], version: 'k1.0' });
    expect(states()).toEqual([['a', 'acknowledged']]);
  });

  it.each([
    ['another gateway', 'other.12'],
    ['an older version than the greeting', 'k1.9'],
    ['no version', undefined],
  ])('gives up on a list from %s, and keeps nothing of it', async (_what, version) => {
    const { feed, reads, gaveUp, store } = setup();
    feed.greeted({ version: 'k1.10' });
    await reads[0].answer({ alerts: [alertEvent()], version } as ActiveAlertsResponse);
    expect(gaveUp).toHaveLength(1);
    expect(store.size).toBe(0);
    expect(store.snapshots()).toBe(0);
  });

  it('gives up on a greeting without a version', () => {
    const { feed, reads, gaveUp } = setup();
    feed.greeted({ version: 'not a version' });
    expect(reads).toHaveLength(0);
    expect(gaveUp[0]).toMatch(/no list version/);
  });

  it('reads once more after a failure, then gives up', async () => {
    const { feed, reads, gaveUp, states } = setup();
    feed.greeted({ version: 'k1.1' });
    await reads[0].fail(new Error('/api/alerts: HTTP 503'));
    expect(reads).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(ALERTS_READ_RETRY_MS);
    expect(reads).toHaveLength(2);
    await reads[1].answer({ alerts: [alertEvent({ id: 'a' })], version: 'k1.1' });
    expect(states()).toEqual([['a', 'raised']]);
    expect(gaveUp).toEqual([]);

    feed.greeted({ version: 'k1.2' });
    await reads[2].fail(new Error('/api/alerts: HTTP 503'));
    await jest.advanceTimersByTimeAsync(ALERTS_READ_RETRY_MS);
    await reads[3].fail(new Error('/api/alerts: HTTP 429'));
    expect(gaveUp).toEqual(['/api/alerts: HTTP 429']);
  });

  it('gives a read that does not answer its time, twice, then gives up', async () => {
    const { feed, reads, gaveUp } = setup();
    feed.greeted({ version: 'k1.1' });
    await jest.advanceTimersByTimeAsync(ALERTS_READ_TIMEOUT_MS);
    expect(reads[0].signal.aborted).toBe(true);
    await jest.advanceTimersByTimeAsync(ALERTS_READ_RETRY_MS + ALERTS_READ_TIMEOUT_MS);
    expect(reads).toHaveLength(2);
    expect(gaveUp).toEqual([`no answer in ${ALERTS_READ_TIMEOUT_MS} ms`]);
  });

  it('drops the read of a connection that is gone', async () => {
    const { feed, reads, gaveUp, store } = setup();
    feed.greeted({ version: 'k1.1' });
    feed.reset();
    expect(reads[0].signal.aborted).toBe(true);
    await jest.advanceTimersByTimeAsync(ALERTS_READ_RETRY_MS * 2);
    expect(reads).toHaveLength(1);
    expect(gaveUp).toEqual([]);
    expect(store.snapshots()).toBe(0);
  });

  it('follows a snapshot in the stream as before: every delta after it applies', () => {
    const { feed, states } = setup();
    const a = alertEvent({ id: 'a' });
    feed.snapshot([a]);
    feed.delta(acknowledged(a, 'ana', 5)); // no `v` from a gateway that sends the snapshot
    expect(states()).toEqual([['a', 'acknowledged']]);
  });

  it('gives up past the bound of deltas held while the list is read', () => {
    const { feed, reads, gaveUp } = setup();
    feed.greeted({ version: 'k1.0' });
    for (let i = 0; i <= MAX_WAITING_ALERTS; i++)
      feed.delta(at(alertEvent({ id: `s${i}` }), i + 1));
    expect(gaveUp).toHaveLength(1);
    expect(reads[0].signal.aborted).toBe(true);
  });
});

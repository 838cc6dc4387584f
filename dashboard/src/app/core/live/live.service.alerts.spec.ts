import { TestBed } from '@angular/core/testing';
import type { AlertEvent } from '@pulse/protocol/core';
import { acknowledged, alertEvent } from '../../testing/alerts';
import { T0, provideFakeLive, useFakeClock } from '../../testing/testbed';
import { FETCH } from '../http/alerts-api';
import { AlertStore } from '../stores/alert.store';
import { ALERTS_FALLBACK_JITTER_MS, ALERTS_IN_STREAM_MS, LiveService } from './live.service';

const flushPromises = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** `fetch` answering `GET /api/alerts` with what `answer` gives (a status alone: that error). */
function fakeFetch(answer: () => { alerts: unknown[]; version: string } | number) {
  const urls: string[] = [];
  const fetch = async (url: RequestInfo | URL) => {
    urls.push(String(url));
    const body = answer();
    const status = typeof body === 'number' ? body : 200;
    // What AlertsApi reads of a Response (a real one's body is read on real I/O, not fake time).
    return { ok: status === 200, status, json: async () => (status === 200 ? body : {}) };
  };
  return {
    urls,
    provider: { provide: FETCH, useValue: fetch as unknown as typeof globalThis.fetch },
  };
}

/** Let a fetch answer run through (its body is read on real promises). */
async function waitForFetch(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) await jest.advanceTimersByTimeAsync(1);
}

function setup(providers: Parameters<typeof provideFakeLive>[0] = []) {
  const socket = provideFakeLive(providers);
  const sut = TestBed.inject(LiveService);
  sut.start();
  return { sut, socket, alerts: TestBed.inject(AlertStore) };
}

describe('LiveService alerts', () => {
  useFakeClock();

  it('keeps the active list from the snapshot on connect, then the deltas', () => {
    const { socket, alerts } = setup();
    socket().server.connected('websocket');
    const a = alertEvent({ id: 'a', severity: 'major' });
    socket().server.alerts([a, alertEvent({ id: 'b', severity: 'critical' })]);
    expect(alerts.active().map((x) => x.id)).toEqual(['b', 'a']);
    socket().server.alert(acknowledged(a, 'ana', T0 + 1000));
    socket().server.alert(alertEvent({ id: 'c', severity: 'info' }));
    expect(alerts.active().map((x) => [x.id, x.state])).toEqual([
      ['b', 'raised'],
      ['a', 'acknowledged'],
      ['c', 'raised'],
    ]);
    // Reconnect: the new snapshot is the truth.
    socket().server.disconnected('transport close');
    jest.advanceTimersByTime(750);
    socket().server.connected('websocket');
    socket().server.alerts([alertEvent({ id: 'd' })]);
    expect(alerts.active().map((x) => x.id)).toEqual(['d']);
  });

  it('acknowledges over the socket (the gateway names who) and applies the answer', async () => {
    const { sut, socket, alerts } = setup();
    socket().server.connected('websocket');
    const a = alertEvent({ id: 'a' });
    socket().server.alerts([a]);
    const pending = sut.acknowledge('a', 'on it');
    await flushPromises();
    expect(socket().acks).toHaveLength(1);
    expect(socket().acks[0].request).toEqual({ id: 'a', note: 'on it' });
    const answer = { ...acknowledged(a, 'ana', T0 + 50), ackNote: 'on it' };
    socket().acks[0].reply({ ok: true, alert: answer });
    await expect(pending).resolves.toEqual({ ok: true, alert: answer });
    expect(alerts.get('a')).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'ana',
      ackNote: 'on it',
    });
  });

  it('surfaces a refusal from the gateway unchanged (already acknowledged, not found)', async () => {
    const { sut, socket, alerts } = setup();
    socket().server.connected('websocket');
    socket().server.alerts([alertEvent({ id: 'a' })]);
    const pending = sut.acknowledge('a');
    await flushPromises();
    socket().acks[0].reply({
      ok: false,
      error: 'already_acknowledged',
      message: 'alert a was acknowledged by ana',
    });
    await expect(pending).resolves.toEqual({
      ok: false,
      error: 'already_acknowledged',
      message: 'alert a was acknowledged by ana',
    });
    expect(alerts.get('a')?.state).toBe('raised');
  });

  it('reports a timeout when the gateway does not answer', async () => {
    const { sut, socket } = setup();
    socket().server.connected('websocket');
    const pending = sut.acknowledge('a');
    await flushPromises();
    socket().acks[0].fail(new Error('operation has timed out'));
    await expect(pending).resolves.toMatchObject({ ok: false, error: 'timeout' });
  });

  it('does not send when disconnected', async () => {
    const { sut, socket } = setup();
    await expect(sut.acknowledge('a')).resolves.toMatchObject({
      ok: false,
      error: 'disconnected',
    });
    expect(socket().acks).toHaveLength(0);
  });

  it('gives the role refusals a readable message when the gateway sends an empty one', async () => {
    const { sut, socket } = setup();
    socket().server.connected('websocket');
    const pending = sut.acknowledge('a');
    await flushPromises();
    socket().acks[0].reply({ ok: false, error: 'unauthorized', message: '' });
    await expect(pending).resolves.toEqual({
      ok: false,
      error: 'unauthorized',
      message: 'sign in to acknowledge',
    });
  });

  it('ignores alert events from a replaced socket', () => {
    const { socket, alerts } = setup();
    const first = socket();
    first.server.connectFailed('timeout');
    jest.advanceTimersByTime(750);
    expect(socket()).not.toBe(first);
    first.server.alerts([alertEvent({ id: 'stale' })]);
    first.server.alert(alertEvent({ id: 'stale2' }));
    expect(alerts.active()).toEqual([]);
  });

  it('asks for the list version in the handshake and reads the list over HTTP at it', async () => {
    const a = alertEvent({ id: 'a' });
    const http = fakeFetch(() => ({ alerts: [a], version: 'k1.4' }));
    const { socket, alerts } = setup([http.provider]);
    expect(socket().options.auth?.()).toEqual({ alerts: 'http' });
    socket().server.connected('websocket');
    socket().server.alertsVersion({ version: 'k1.3' });
    socket().server.alert({ ...alertEvent({ id: 'b' }), v: 5 });
    await waitForFetch(() => alerts.snapshots() > 0);
    expect(http.urls).toEqual(['/api/alerts']);
    expect(alerts.active().map((x) => x.id)).toEqual(['a', 'b']);
  });

  it('asks for the snapshot in the stream, on a new connection, once the list cannot be read', async () => {
    const http = fakeFetch(() => 503);
    const { socket, alerts } = setup([http.provider]);
    const first = socket();
    first.server.connected('websocket');
    first.server.alertsVersion({ version: 'k1.3' });
    await jest.advanceTimersByTimeAsync(1000); // the read and its second try
    expect(http.urls).toHaveLength(2);
    expect(socket()).toBe(first);
    // Within the jitter (RANDOM is 0.5 here): a new connection, asking for the snapshot.
    await jest.advanceTimersByTimeAsync(ALERTS_FALLBACK_JITTER_MS / 2);
    expect(socket()).not.toBe(first);
    expect(socket().connects).toBe(1);
    expect(socket().options.auth?.()).toEqual({});
    socket().server.connected('websocket');
    socket().server.alerts([alertEvent({ id: 'in-stream' })]);
    expect(alerts.active().map((x) => x.id)).toEqual(['in-stream']);
    // Not for good: a connection after ALERTS_IN_STREAM_MS asks for the version again.
    await jest.advanceTimersByTimeAsync(ALERTS_IN_STREAM_MS);
    expect(socket().options.auth?.()).toEqual({ alerts: 'http' });
  });

  describe('an alert event that is not one (a gateway of another version, a bug)', () => {
    /** Each is wrong in one way a view would show: no fields, a severity, a time, a value. */
    const malformed = (): unknown[] => [
      null,
      'alert',
      { id: 'only-ids', deviceId: 'd1' },
      { ...alertEvent({ id: 'bad-severity' }), severity: 'urgent' },
      { ...alertEvent({ id: 'no-raised-at' }), raisedAt: undefined },
      { ...alertEvent({ id: 'text-value' }), value: '80' },
    ];
    let warn: jest.SpyInstance;
    beforeEach(() => (warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)));
    afterEach(() => warn.mockRestore());

    it('is left out of the snapshot; the valid ones around it are shown', () => {
      const { socket, alerts } = setup();
      socket().server.connected('websocket');
      const [first, ...rest] = malformed();
      socket().server.alerts([
        first,
        alertEvent({ id: 'a', severity: 'major' }),
        ...rest,
        alertEvent({ id: 'b', severity: 'critical' }),
      ] as AlertEvent[]);
      expect(alerts.active().map((x) => x.id)).toEqual(['b', 'a']);
      expect(alerts.counts()).toMatchObject({ critical: 1, major: 1 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/malformed alert event/);
    });

    it('is left out of the list read over HTTP; the valid ones around it are shown', async () => {
      const http = fakeFetch(() => ({
        alerts: [alertEvent({ id: 'a' }), ...malformed(), alertEvent({ id: 'b' })],
        version: 'k1.4',
      }));
      const { socket, alerts } = setup([http.provider]);
      socket().server.connected('websocket');
      socket().server.alertsVersion({ version: 'k1.4' });
      await waitForFetch(() => alerts.snapshots() > 0);
      expect(alerts.active().map((x) => x.id)).toEqual(['a', 'b']);
    });

    it('as a delta changes nothing: neither the list nor the recent events', () => {
      const { socket, alerts } = setup();
      socket().server.connected('websocket');
      const a = alertEvent({ id: 'a' });
      socket().server.alerts([a]);
      const before = alerts.active();
      for (const event of [
        ...malformed(),
        // Would take `a` off the list, or put an unknown state on it.
        { id: 'a', deviceId: 'd1', active: false },
        { ...acknowledged(a, 'ana', T0 + 1), state: 'done' },
        // A change number that is not one.
        { ...acknowledged(a, 'ana', T0 + 1), v: 'x' },
      ])
        socket().server.alert(event as AlertEvent);
      expect(alerts.active()).toEqual(before);
      expect(alerts.recent()).toEqual([]);
    });

    it('is warned at a bounded rate, not once per event', () => {
      const { socket } = setup();
      socket().server.connected('websocket');
      const warnings = () => warn.mock.calls.filter(([line]) => /malformed alert/.test(line));
      for (let i = 0; i < 100; i++) socket().server.alert({ id: `x${i}` } as AlertEvent);
      expect(warnings()).toHaveLength(1);
      jest.advanceTimersByTime(10_000);
      socket().server.alert({ id: 'late' } as AlertEvent);
      expect(warnings()).toHaveLength(2);
      expect(warnings()[1][0]).toMatch(/99 more/);
    });

    it("in an acknowledgement's answer is not applied", async () => {
      const { sut, socket, alerts } = setup();
      socket().server.connected('websocket');
      const a = alertEvent({ id: 'a' });
      socket().server.alerts([a]);
      const pending = sut.acknowledge('a');
      await flushPromises();
      socket().acks[0].reply({
        ok: true,
        alert: { ...acknowledged(a, 'ana', T0 + 50), state: 'done' } as unknown as AlertEvent,
      });
      await expect(pending).resolves.toMatchObject({ ok: false, error: 'invalid' });
      expect(alerts.get('a')).toEqual(a);
    });
  });
});

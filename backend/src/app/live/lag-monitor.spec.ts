import { Logger } from '@nestjs/common';
import { LAG_PAUSE_BYTES, LAG_PAUSE_PACKETS, LAG_REFILL_BYTES } from './lag-gate';
import {
  ACK_BUSY_DISCONNECT,
  ACK_HOLD_BYTES,
  LAG_CHECK_MS,
  LAG_DISCONNECT_MS,
  LAG_REFILL_GRACE_MS,
  LAG_RESUME_CHECKS,
  LagMonitor,
  PONG_LATE_MS,
  SocketProbe,
} from './lag-monitor';
import type { LiveSocket } from './live-io.server';

// The engine state a socket shows (queued packets and bytes, its ping) is a fake probe: real
// slow clients are in backend/test/slow-client.spec.ts. Time runs on fake timers.

interface FakeSocket {
  id: string;
  connected: boolean;
  packets: number;
  bytes: number;
  ping: object | null;
  heartbeatsHeld: number;
  disconnected: boolean;
}

const probe: SocketProbe = {
  queuedPackets: (s) => (s as unknown as FakeSocket).packets,
  queuedBytes: (s) => (s as unknown as FakeSocket).bytes,
  unansweredPing: (s) => (s as unknown as FakeSocket).ping,
  holdHeartbeat: (s) => void (s as unknown as FakeSocket).heartbeatsHeld++,
};

describe('LagMonitor', () => {
  let sockets: FakeSocket[];
  let told: { id: string; since: number }[];
  let sut: LagMonitor;

  const socket = (id: string): FakeSocket => {
    const s: FakeSocket = {
      id,
      connected: true,
      packets: 0,
      bytes: 0,
      ping: null,
      heartbeatsHeld: 0,
      disconnected: false,
    };
    Object.assign(s, {
      disconnect: () => {
        s.disconnected = true;
        s.connected = false;
      },
    });
    sockets.push(s);
    return s;
  };
  const live = (s: FakeSocket) => s as unknown as LiveSocket;
  /** `n` once-a-second checks. */
  const checks = (n = 1) => jest.advanceTimersByTime(n * LAG_CHECK_MS);

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    sockets = [];
    told = [];
    const emitter = {
      sockets: () => sockets as unknown as LiveSocket[],
      lagged: (s: LiveSocket, since: number) => told.push({ id: s.id, since }),
    };
    sut = new LagMonitor(emitter as never, probe);
    sut.start();
  });

  afterEach(() => {
    sut.stop();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('pauses a socket the fan-out reports, tells it `lagged` once, and counts it', () => {
    const slow = socket('slow');
    sut.pause(live(slow));
    sut.pause(live(slow));
    expect(sut.isPaused('slow')).toBe(true);
    expect(told).toEqual([{ id: 'slow', since: Date.now() }]);
    expect(sut.stats()).toMatchObject({ lagPauses: 1, lagDisconnects: 0 });
  });

  it('leaves a socket that is already gone alone', () => {
    const gone = socket('gone');
    gone.connected = false;
    sut.pause(live(gone));
    expect([sut.isPaused('gone'), told]).toEqual([false, []]);
  });

  it('pauses at the check a socket over LAG_PAUSE_PACKETS packets or LAG_PAUSE_BYTES bytes', () => {
    const polling = socket('polling');
    const ws = socket('ws');
    const fine = socket('fine');
    polling.packets = LAG_PAUSE_PACKETS + 1;
    ws.bytes = LAG_PAUSE_BYTES;
    fine.packets = LAG_PAUSE_PACKETS;
    fine.bytes = LAG_PAUSE_BYTES - 1;
    checks();
    expect(told.map((t) => t.id)).toEqual(['polling', 'ws']);
  });

  it('pauses a socket whose ping stays unanswered PONG_LATE_MS, whatever its buffers', () => {
    const stalled = socket('stalled');
    const answering = socket('answering');
    stalled.ping = {};
    answering.ping = {};
    checks(); // first seen
    answering.ping = {}; // a new ping each time: it answers the previous ones
    checks(PONG_LATE_MS / LAG_CHECK_MS - 1);
    expect(told).toEqual([]);
    answering.ping = {};
    checks();
    expect(told.map((t) => t.id)).toEqual(['stalled']);
  });

  it('resumes a paused socket that re-subscribes at once, and lets its refill queue LAG_REFILL_BYTES for the grace period', () => {
    const slow = socket('slow');
    socket('other');
    sut.pause(live(slow));
    sut.resubscribed('other'); // not paused: no grace
    sut.resubscribed('slow');
    const now = Date.now();
    expect(sut.isPaused('slow')).toBe(false);
    expect(sut.limitBytes('slow', now)).toBe(LAG_REFILL_BYTES);
    expect(sut.limitBytes('other', now)).toBe(LAG_PAUSE_BYTES);
    slow.bytes = LAG_PAUSE_BYTES * 2; // the refill is queued: not lagging
    checks();
    expect(sut.isPaused('slow')).toBe(false);
    jest.advanceTimersByTime(LAG_REFILL_GRACE_MS);
    expect(sut.isPaused('slow')).toBe(true); // the grace is over: over LAG_PAUSE_BYTES again
    expect(sut.limitBytes('slow', Date.now())).toBe(LAG_PAUSE_BYTES);
  });

  it('resumes a paused socket after LAG_RESUME_CHECKS drained checks in a row', () => {
    const slow = socket('slow');
    slow.bytes = LAG_PAUSE_BYTES;
    checks();
    slow.bytes = 0;
    checks(LAG_RESUME_CHECKS - 1);
    slow.bytes = 10; // not drained: the count starts again
    checks();
    slow.bytes = 0;
    checks(LAG_RESUME_CHECKS - 1);
    expect(sut.isPaused('slow')).toBe(true);
    checks();
    expect(sut.isPaused('slow')).toBe(false);
  });

  it('holds the heartbeat of a paused socket while it drains, and disconnects it after LAG_DISCONNECT_MS without progress', () => {
    const slow = socket('slow');
    slow.bytes = 5 * LAG_PAUSE_BYTES;
    slow.ping = {};
    checks();
    slow.bytes -= 1; // progress
    checks();
    expect(slow.heartbeatsHeld).toBe(1);
    checks(LAG_DISCONNECT_MS / LAG_CHECK_MS);
    expect(slow.disconnected).toBe(false);
    checks();
    expect(slow.disconnected).toBe(true);
    expect(sut.stats()).toMatchObject({ lagPauses: 1, lagDisconnects: 1 });
    expect(slow.heartbeatsHeld).toBe(1 + LAG_DISCONNECT_MS / LAG_CHECK_MS);
  });

  it('forgets a socket that disconnected', () => {
    const slow = socket('slow');
    sut.pause(live(slow));
    sut.resubscribed('slow');
    sut.pause(live(slow));
    sut.forget('slow');
    expect(sut.isPaused('slow')).toBe(false);
    expect(sut.limitBytes('slow', Date.now())).toBe(LAG_PAUSE_BYTES);
  });

  describe('subscribe acks', () => {
    it('answers a socket with little queued, and not one that has not read its last acks', () => {
      const reader = socket('reader');
      const hoarder = socket('hoarder');
      reader.bytes = ACK_HOLD_BYTES;
      hoarder.bytes = ACK_HOLD_BYTES + 1;
      expect(sut.admitAck(live(reader))).toBe(true);
      expect(sut.admitAck(live(hoarder))).toBe(false);
      hoarder.bytes = 0;
      hoarder.packets = LAG_PAUSE_PACKETS + 1; // long-polling: packets wait in engine.io
      expect(sut.admitAck(live(hoarder))).toBe(false);
      expect(sut.stats()).toMatchObject({ ackRefusals: 2, ackDisconnects: 0 });
    });

    it('lets a refill queue up to LAG_REFILL_BYTES after a re-subscribe', () => {
      const s = socket('s1');
      s.bytes = LAG_REFILL_BYTES - 1;
      expect(sut.admitAck(live(s))).toBe(false);
      sut.pause(live(s));
      sut.resubscribed(s.id);
      expect(sut.admitAck(live(s))).toBe(true);
    });

    it('disconnects a socket that keeps subscribing without reading, not one that reads in between', () => {
      const hoarder = socket('hoarder');
      const slow = socket('slow');
      hoarder.bytes = slow.bytes = ACK_HOLD_BYTES + 1;
      for (let i = 1; i < ACK_BUSY_DISCONNECT; i++) {
        expect(sut.admitAck(live(hoarder))).toBe(false);
        expect(sut.admitAck(live(slow))).toBe(false);
      }
      // `slow` reads its backlog: its count starts again.
      slow.bytes = 0;
      expect(sut.admitAck(live(slow))).toBe(true);
      slow.bytes = ACK_HOLD_BYTES + 1;
      expect(sut.admitAck(live(slow))).toBe(false);
      expect(hoarder.disconnected).toBe(false);
      expect(sut.admitAck(live(hoarder))).toBe(false);
      expect(hoarder.disconnected).toBe(true);
      expect(slow.disconnected).toBe(false);
      expect(sut.stats()).toMatchObject({ ackDisconnects: 1 });
    });
  });
});

import { ConnectionState } from '../core/live/live.service';
import { summarizeConnection } from './connection-summary';

const state = (patch: Partial<ConnectionState>): ConnectionState => ({
  phase: 'connected',
  transport: 'websocket',
  attempt: 0,
  nextRetryAt: null,
  reason: null,
  ...patch,
});

describe('summarizeConnection', () => {
  it('names the transport when live', () => {
    expect(summarizeConnection(state({}), null, 0)).toMatchObject({
      level: 'ok',
      label: 'Live · WebSocket',
      banner: null,
    });
    expect(summarizeConnection(state({ transport: 'polling' }), null, 0).label).toBe(
      'Live · long-polling',
    );
  });

  it('says so when the gateway throttles this connection, and how often values come', () => {
    const s = summarizeConnection(state({}), null, 0, 1000);
    expect(s).toMatchObject({
      level: 'degraded',
      kind: 'throttled',
      label: 'Live · WebSocket · throttled: newest value every 1 s',
    });
    expect(s.banner).toContain('SLOW LINK');
    expect(summarizeConnection(state({}), null, 0, 250).label).toContain('every 250 ms');
    expect(summarizeConnection(state({}), null, 0, 0).kind).toBe('live');
  });

  it('counts down to the next try while reconnecting', () => {
    const s = summarizeConnection(
      state({ phase: 'reconnecting', transport: null, attempt: 2, nextRetryAt: 10_000 }),
      null,
      6_200,
    );
    expect(s.banner).toBe('CONNECTION LOST — reconnecting in 4 s');
    expect(s.kind).toBe('reconnecting');
  });

  it('keeps broker-down distinct from browser-disconnected', () => {
    const brokerDown = summarizeConnection(
      state({}),
      { broker: 'disconnected', serverTime: 0, flushMs: 50 },
      0,
    );
    expect(brokerDown.kind).toBe('broker-down');
    expect(brokerDown.banner).toContain('BROKER DOWN');
    const offline = summarizeConnection(
      state({ phase: 'offline', transport: null, nextRetryAt: 3000 }),
      null,
      0,
    );
    expect(offline.kind).toBe('offline');
    expect(offline.banner).toBe('NETWORK OFFLINE — retrying in 3 s');
  });
});

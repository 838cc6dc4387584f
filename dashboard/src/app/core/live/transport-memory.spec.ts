import {
  MAX_REMEMBERED_ORIGINS,
  TRANSPORT_MEMORY_KEY,
  WEBSOCKET_GUARD_MS,
  fallbackPlan,
  planTransports,
  readTransportRecord,
  writeTransportRecord,
} from './transport-memory';

const A = 'https://pulse.example';
const B = 'http://127.0.0.1:3000';

/** A storage that refuses every access, as Safari's private mode and sandboxed frames do. */
const refusing = {
  getItem: () => {
    throw new DOMException('denied', 'SecurityError');
  },
  setItem: () => {
    throw new DOMException('full', 'QuotaExceededError');
  },
} as unknown as Storage;

describe('planTransports', () => {
  it('tries a first visit websocket-first, guarded', () => {
    expect(planTransports(null, null)).toEqual({
      transports: ['websocket', 'polling'],
      guardMs: WEBSOCKET_GUARD_MS,
      remember: true,
    });
    expect(WEBSOCKET_GUARD_MS).toBeLessThanOrEqual(1000);
  });

  it('goes websocket-first, guarded, where the websocket worked', () => {
    expect(planTransports(null, { websocket: 'worked', at: 1 })).toEqual(
      planTransports(null, null),
    );
  });

  it('starts a blocked origin over long-polling, the upgrade retried behind it on every load', () => {
    expect(planTransports(null, { websocket: 'blocked', at: 1 })).toEqual({
      transports: ['polling', 'websocket'],
      guardMs: null,
      remember: true,
    });
  });

  it('obeys ?transport= whatever was remembered, and learns nothing from it', () => {
    const worked = { websocket: 'worked', at: 1 } as const;
    expect(planTransports('polling', worked)).toEqual({
      transports: ['polling'],
      guardMs: null,
      remember: false,
    });
    expect(planTransports('websocket', null)).toEqual({
      transports: ['websocket'],
      guardMs: null,
      remember: false,
    });
    // Anything else is not a transport: the usual plan.
    expect(planTransports('carrier-pigeon', worked).transports[0]).toBe('websocket');
  });

  it('falls back to long-polling first, unguarded', () => {
    const plan = fallbackPlan(planTransports(null, { websocket: 'worked', at: 1 }));
    expect(plan).toEqual({ transports: ['polling', 'websocket'], guardMs: null, remember: true });
  });
});

describe('transport records', () => {
  beforeEach(() => localStorage.clear());

  it('remembers per origin, the latest verdict winning', () => {
    writeTransportRecord(localStorage, A, 'worked', 10);
    writeTransportRecord(localStorage, B, 'blocked', 20);
    writeTransportRecord(localStorage, A, 'blocked', 30);
    expect(readTransportRecord(localStorage, A)).toEqual({ websocket: 'blocked', at: 30 });
    expect(readTransportRecord(localStorage, B)).toEqual({ websocket: 'blocked', at: 20 });
    expect(readTransportRecord(localStorage, 'https://elsewhere')).toBeNull();
  });

  it(`keeps the ${MAX_REMEMBERED_ORIGINS} most recent origins`, () => {
    for (let i = 0; i <= MAX_REMEMBERED_ORIGINS; i++)
      writeTransportRecord(localStorage, `http://host-${i}`, 'worked', 1000 + i);
    const stored = JSON.parse(localStorage.getItem(TRANSPORT_MEMORY_KEY) ?? '{}');
    expect(Object.keys(stored)).toHaveLength(MAX_REMEMBERED_ORIGINS);
    expect(readTransportRecord(localStorage, 'http://host-0')).toBeNull();
    expect(readTransportRecord(localStorage, `http://host-${MAX_REMEMBERED_ORIGINS}`)).toEqual({
      websocket: 'worked',
      at: 1000 + MAX_REMEMBERED_ORIGINS,
    });
  });

  it('ignores what it did not write: bad JSON, other shapes, bad entries', () => {
    localStorage.setItem(TRANSPORT_MEMORY_KEY, '{not json');
    expect(readTransportRecord(localStorage, A)).toBeNull();
    localStorage.setItem(TRANSPORT_MEMORY_KEY, '[1,2]');
    expect(readTransportRecord(localStorage, A)).toBeNull();
    localStorage.setItem(
      TRANSPORT_MEMORY_KEY,
      JSON.stringify({ [A]: { websocket: 'maybe', at: 1 }, [B]: { websocket: 'worked', at: 2 } }),
    );
    expect(readTransportRecord(localStorage, A)).toBeNull();
    expect(readTransportRecord(localStorage, B)).toEqual({ websocket: 'worked', at: 2 });
    // A write over garbage starts a clean map.
    localStorage.setItem(TRANSPORT_MEMORY_KEY, 'garbage');
    writeTransportRecord(localStorage, A, 'worked', 5);
    expect(readTransportRecord(localStorage, A)).toEqual({ websocket: 'worked', at: 5 });
  });

  it('works without storage, or with one that refuses: nothing remembered, nothing thrown', () => {
    expect(() => writeTransportRecord(null, A, 'worked', 1)).not.toThrow();
    expect(readTransportRecord(null, A)).toBeNull();
    expect(() => writeTransportRecord(refusing, A, 'worked', 1)).not.toThrow();
    expect(readTransportRecord(refusing, A)).toBeNull();
  });
});

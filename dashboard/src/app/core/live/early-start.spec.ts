import { mayStartEarly, rememberViewing, VIEWED_KEY } from './early-start';

/** A Storage over a Map; `refuse` makes every call throw, as private modes do. */
function memoryStorage(refuse = false): Storage {
  const map = new Map<string, string>();
  const guard = () => {
    if (refuse) throw new DOMException('refused', 'SecurityError');
  };
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    key: (i: number) => [...map.keys()][i] ?? null,
    getItem: (k: string) => (guard(), map.get(k) ?? null),
    setItem: (k: string, v: string) => (guard(), void map.set(k, v)),
    removeItem: (k: string) => (guard(), void map.delete(k)),
  };
}

describe('early start of the live connection', () => {
  it('opens it at boot on the live pages of a browser that was let in last time', () => {
    const storage = memoryStorage();
    rememberViewing(storage, true);
    expect(storage.getItem(VIEWED_KEY)).toBe('1');
    for (const path of ['/', '/devices/sim-001', '/alerts', '/wall'])
      expect(mayStartEarly(storage, path, false)).toBe(true);
    // Pages without live data: their socket opens when (if) they need one.
    for (const path of ['/login', '/setup', '/screens'])
      expect(mayStartEarly(storage, path, false)).toBe(false);
  });

  it('opens it on a first visit, and waits for the server once an answer refused viewing', () => {
    const storage = memoryStorage();
    expect(mayStartEarly(storage, '/', false)).toBe(true); // nothing known yet
    expect(mayStartEarly(null, '/', false)).toBe(true);
    rememberViewing(storage, false); // signed out, or anonymous viewing turned off
    expect(storage.getItem(VIEWED_KEY)).toBe('0');
    expect(mayStartEarly(storage, '/', false)).toBe(false);
    rememberViewing(storage, true);
    expect(mayStartEarly(storage, '/alerts', false)).toBe(true);
  });

  it('opens it at once on a paired wall screen, whatever was remembered', () => {
    const storage = memoryStorage();
    rememberViewing(storage, false);
    expect(mayStartEarly(storage, '/wall', true)).toBe(true);
    expect(mayStartEarly(storage, '/', true)).toBe(false);
  });

  it('never throws where storage is refused (and then opens it, as on a first visit)', () => {
    const refused = memoryStorage(true);
    expect(() => rememberViewing(refused, false)).not.toThrow();
    expect(mayStartEarly(refused, '/', false)).toBe(true);
  });
});

import { AlertEvent, parseAlertsVersion } from '@pulse/protocol';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { ALERTS_SNAPSHOT_SCOPES, ALERTS_SNAPSHOT_TTL_MS, AlertsSnapshot } from './alerts-snapshot';

const alert = (id: string): AlertEvent =>
  ({ id, deviceId: 'd', state: 'raised', active: true }) as unknown as AlertEvent;

describe('AlertsSnapshot', () => {
  let now = 1_000;
  let builds = 0;
  const snapshot = new AlertsSnapshot();
  snapshot.now = () => now;
  const build = (ids: string[]) => () => {
    builds++;
    return ids.map(alert);
  };

  it('numbers changes within one boot id, which differs per process', () => {
    const start = parseAlertsVersion(snapshot.version()) ?? { boot: '', n: NaN };
    expect(snapshot.changed()).toBe(start.n + 1);
    expect(parseAlertsVersion(snapshot.version())).toEqual({ boot: start.boot, n: start.n + 1 });
    expect(new AlertsSnapshot().boot).not.toBe(start.boot);
  });

  it('builds the list once per version, and again after a change or the TTL', () => {
    builds = 0;
    const first = snapshot.current(build(['a']));
    expect(snapshot.current(build(['b'])).alerts.map((a) => a.id)).toEqual(['a']);
    expect(builds).toBe(1);
    snapshot.changed();
    const second = snapshot.current(build(['b']));
    expect(second.alerts.map((a) => a.id)).toEqual(['b']);
    expect(second.version).not.toBe(first.version);
    now += ALERTS_SNAPSHOT_TTL_MS - 1;
    expect(snapshot.current(build(['c']))).toBe(second);
    now += 1; // a change no event told of (a released alert) is seen within the TTL
    expect(snapshot.current(build(['c'])).alerts.map((a) => a.id)).toEqual(['c']);
    expect(builds).toBe(3);
  });

  it('encodes each body once, every encoding the same JSON', async () => {
    snapshot.changed();
    const entry = snapshot.current(build(['x', 'y']));
    const plain = await entry.body('identity');
    expect(JSON.parse(plain.toString())).toEqual({
      alerts: [alert('x'), alert('y')],
      version: entry.version,
    });
    expect(brotliDecompressSync(await entry.body('br')).equals(plain)).toBe(true);
    expect(gunzipSync(await entry.body('gzip')).equals(plain)).toBe(true);
    // Callers at once share one compression.
    expect(entry.body('br')).toBe(entry.body('br'));
    expect(await entry.body('br')).toBe(await entry.body('br'));
  });

  it('tags each entry apart, a rebuild at the same version too', () => {
    const first = snapshot.current(build(['x']));
    now += ALERTS_SNAPSHOT_TTL_MS;
    const rebuilt = snapshot.current(build(['x']));
    expect(rebuilt.version).toBe(first.version);
    expect(rebuilt.tag).not.toBe(first.tag);
  });

  it('keeps a scope’s part of the list with the entry, for a bounded number of scopes', () => {
    snapshot.changed();
    const entry = snapshot.current(build(['a', 'b', 'c']));
    let selections = 0;
    const only = (id: string) => (alerts: readonly AlertEvent[]) => {
      selections++;
      return alerts.filter((a) => a.id === id);
    };
    const part = entry.scoped('hall-a', only('a'));
    expect(part.alerts.map((a) => a.id)).toEqual(['a']);
    expect(part.version).toBe(entry.version);
    expect(entry.scoped('hall-a', only('a'))).toBe(part);
    expect(selections).toBe(1);
    for (let i = 0; i < ALERTS_SNAPSHOT_SCOPES; i++) entry.scoped(`g${i}`, only('b'));
    // Past the bound: built, not kept.
    const extra = entry.scoped('one-too-many', only('c'));
    expect(entry.scoped('one-too-many', only('c'))).not.toBe(extra);
    // The next version starts with none.
    snapshot.changed();
    expect(snapshot.current(build(['a'])).scoped('hall-a', only('a'))).not.toBe(part);
  });
});

import type { AlertEvent } from '@pulse/protocol';
import { AlertJournal } from './alert-journal';
import type { AlertStore } from './alert-store';

/** A store that keeps what it is given, and can be told to fail (a disk full, a lost server). */
class MemoryAlertStore implements AlertStore {
  events: AlertEvent[] = [];
  open = new Map<string, AlertEvent>();
  failing = false;
  loadRules = async () => null;
  loadRulesVersion = async () => null;
  saveRules = async () => undefined;
  loadOpen = async () => [...this.open.values()];
  loadHistory = async (limit: number) => this.events.slice(-limit);
  async saveEvents(events: readonly AlertEvent[], latest: readonly AlertEvent[], keep: number) {
    if (this.failing) throw new Error('disk full');
    this.events = [...this.events, ...events].slice(-keep);
    for (const event of latest) {
      if (event.active) this.open.set(event.id, event);
      else this.open.delete(event.id);
    }
  }
}

const event = (id: string, n: number, active = true) =>
  ({ id, updatedAt: n, active, state: active ? 'raised' : 'cleared' }) as AlertEvent;

describe('AlertJournal', () => {
  it('writes events to the history and keeps only active alerts on the list', async () => {
    const store = new MemoryAlertStore();
    const sut = new AlertJournal(store, 100);
    sut.note(event('a', 1));
    sut.note(event('b', 2));
    sut.note(event('a', 3, false));
    await sut.flush();
    expect(store.events.map((e) => e.updatedAt)).toEqual([1, 2, 3]);
    expect([...store.open.keys()]).toEqual(['b']);
    expect(sut.pending).toBe(false);
  });

  it('keeps what a failed write held, in order, and writes it with the next one', async () => {
    const store = new MemoryAlertStore();
    const sut = new AlertJournal(store, 100);
    sut.note(event('a', 1));
    store.failing = true;
    await expect(sut.flush()).rejects.toThrow('disk full');
    sut.note(event('a', 2, false));
    store.failing = false;
    await sut.flush();
    expect(store.events.map((e) => e.updatedAt)).toEqual([1, 2]);
    // The newer state of the alert won: it is off the list.
    expect(store.open.size).toBe(0);
  });

  it('bounds what waits while the store is down, dropping the oldest and counting them', async () => {
    const store = new MemoryAlertStore();
    store.failing = true;
    const sut = new AlertJournal(store, 10);
    for (let n = 0; n < 25; n++) sut.note(event(`e${n}`, n));
    await expect(sut.flush()).rejects.toThrow();
    store.failing = false;
    await sut.flush();
    expect(store.events.length).toBeLessThanOrEqual(10);
    expect(store.events.at(-1)?.updatedAt).toBe(24);
    expect(sut.dropped).toBe(25 - store.events.length);
  });
});

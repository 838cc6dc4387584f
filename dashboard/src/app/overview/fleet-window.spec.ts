import { TestBed } from '@angular/core/testing';
import type { FleetSummaryPage } from '@pulse/protocol/core';
import type { FleetPageQuery } from '../core/http/devices-api';
import { DeviceStore } from '../core/stores/device.store';
import { summaryEntry } from '../testing/fleet-summary';
import { FIRST_PAGE, FleetWindow, FleetWindowQuery, MIN_MARGIN } from './fleet-window';

/** A gateway of `size` devices `d-0000…`, answered when the spec says so. */
function gateway(size: number) {
  const asked: FleetPageQuery[] = [];
  const pending: (() => void)[] = [];
  let down = false;
  const load = (query: FleetPageQuery) =>
    new Promise<FleetSummaryPage | null>((resolve) => {
      asked.push(query);
      pending.push(() => {
        if (down) return resolve(null);
        const matched = Array.from(
          { length: size },
          (_, i) => `d-${String(i).padStart(4, '0')}`,
        ).filter((id) => !query.q || id.includes(query.q));
        const ids = matched.slice(query.offset, query.offset + query.limit);
        resolve({
          at: Date.now(),
          metrics: ['t'],
          total: matched.length,
          fleet: size,
          groups: [{ name: null, count: size }],
          devices: ids.map((id) => summaryEntry({ id, values: { t: 1 } }, ['t'])),
        });
      });
    });
  const answer = async () => {
    while (pending.length) {
      pending.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  return { load, asked, answer, setDown: (v: boolean) => (down = v) };
}

const QUERY: FleetWindowQuery = { sort: 'name', q: '', group: '', grouped: false };

describe('FleetWindow', () => {
  function setup(size = 10_000, watched?: (deviceId: string) => boolean) {
    const store = TestBed.inject(DeviceStore);
    const gw = gateway(size);
    const win = new FleetWindow(gw.load, store, QUERY, watched);
    /** The first page, then the screen far down the list (the first page's devices left). */
    const scrollFarDown = async () => {
      win.refresh();
      await gw.answer();
      win.want(5000, 5030);
      await gw.answer();
    };
    return { store, gw, win, scrollFarDown };
  }

  it('asks the first page, then holds only the page around what is rendered', async () => {
    const { store, gw, win } = setup();
    win.refresh();
    await gw.answer();
    expect(gw.asked[0]).toMatchObject({ offset: 0, limit: FIRST_PAGE + FIRST_PAGE });
    expect(win.state()?.total).toBe(10_000);
    expect(win.at(0)).toBe('d-0000');
    expect(store.size).toBe(2 * FIRST_PAGE);
    // The screen moves far down: the page around it, and the devices of the old page let go.
    win.want(5000, 5030);
    await gw.answer();
    expect(gw.asked[1]).toMatchObject({ offset: 5000 - MIN_MARGIN, limit: 30 + 2 * MIN_MARGIN });
    expect(win.at(5000)).toBe('d-5000');
    expect(win.at(0)).toBeUndefined();
    expect(store.size).toBe(30 + 2 * MIN_MARGIN);
    expect(store.get('d-0000')).toBeUndefined();
  });

  it('asks nothing while what is rendered stays within the page held, the next page before its edge', async () => {
    const { gw, win } = setup();
    win.refresh();
    await gw.answer(); // positions 0-239
    win.want(0, 30);
    win.want(100, 140);
    win.want(170, 209); // 30 to spare: half the margin of 60
    expect(gw.asked).toHaveLength(1);
    win.want(171, 211); // less: asked before the screen reaches 240
    expect(gw.asked).toHaveLength(2);
    expect(gw.asked[1]).toMatchObject({ offset: 171 - MIN_MARGIN });
    await gw.answer();
    // At the end of the list there is nothing more to ask.
    win.want(9990, 10_000);
    await gw.answer();
    win.want(9995, 10_000);
    expect(gw.asked).toHaveLength(3);
  });

  it('asks one page at a time, then once more for the newest range and query', async () => {
    const { gw, win } = setup();
    win.refresh();
    win.want(3000, 3030);
    win.setQuery({ ...QUERY, q: 'd-00' });
    expect(gw.asked).toHaveLength(1);
    await gw.answer();
    expect(gw.asked[1]).toMatchObject({ q: 'd-00', offset: 3000 - MIN_MARGIN });
    // The first answer was for the old query: not shown.
    expect(win.state()?.total).toBe(100);
    // The search left 100 devices while the screen was at 3,000: the end of the list is asked
    // at once, not when the scroller has caught up.
    expect(gw.asked).toHaveLength(3);
    expect(gw.asked[2]).toMatchObject({ q: 'd-00', offset: 100 - 30 - MIN_MARGIN });
    expect(win.at(99)).toBe('d-0099');
  });

  it('asks again at once what was asked while a request failed', async () => {
    const { gw, win } = setup();
    win.refresh();
    await gw.answer();
    gw.setDown(true);
    win.refresh();
    win.setQuery({ ...QUERY, q: 'd-01' });
    await gw.answer();
    expect(gw.asked).toHaveLength(3);
    expect(gw.asked[2]).toMatchObject({ q: 'd-01' });
  });

  it('keeps a device another view still subscribes, and lets it go once that view stops', async () => {
    const watched = new Set(['d-0001']);
    const { store, gw, win, scrollFarDown } = setup(10_000, (id) => watched.has(id));
    await scrollFarDown();
    expect(store.get('d-0000')).toBeUndefined();
    expect(store.get('d-0001')).toBeDefined();
    watched.clear();
    win.refresh();
    await gw.answer();
    expect(store.get('d-0001')).toBeUndefined();
  });

  it('lets every device it held go when the page goes', async () => {
    const { store, win, scrollFarDown } = setup();
    await scrollFarDown();
    expect(store.size).toBeGreaterThan(0);
    win.dispose();
    expect(store.size).toBe(0);
  });

  it('keeps the last page when the gateway cannot be read, and counts it', async () => {
    const { gw, win } = setup(50);
    win.refresh();
    await gw.answer();
    gw.setDown(true);
    win.refresh();
    await gw.answer();
    expect(win.failures).toBe(1);
    expect(win.state()?.ids).toHaveLength(50);
  });

  it('takes out again a device a late reading brought back after it left the page', async () => {
    const { store, gw, win, scrollFarDown } = setup();
    await scrollFarDown();
    expect(store.get('d-0001')).toBeUndefined();
    // A reading of a tile that was on screen, already on its way when the screen moved.
    store.ingest([{ deviceId: 'd-0001', ts: Date.now(), values: { t: 2 } }], Date.now());
    expect(store.get('d-0001')).toBeDefined();
    win.refresh();
    await gw.answer();
    expect(store.get('d-0001')).toBeUndefined();
  });
});

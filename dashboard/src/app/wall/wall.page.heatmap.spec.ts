import type { FakeLiveSocket } from '../testing/fake-live-socket';
import { fleetSummary, replySummary, summaryEntry } from '../testing/fleet-summary';
import { T0, renderWithFakeLive, useFakeClock } from '../testing/testbed';
import { WallPage } from './wall.page';

const sensor = (id: string) => ({ id, name: `Sensor ${id}`, values: { temperature: 21 } });

/** Play the gateway acknowledging the roster (the fleet summary) with these devices. */
function replyRoster(socket: () => FakeLiveSocket, ids: string[]): void {
  replySummary(socket(), fleetSummary(ids.map(sensor), ['temperature'], T0));
}

/**
 * These tests run on fake time (`settle` advances it), so nothing they assert depends on how fast
 * the machine is; jest's own deadline, 5 s of real time unless told, does. Rendering the wall,
 * its first render compiling it, and advancing 15 s of fake time (fake-timers yields a real
 * macrotask after each timer it fires) took 4 to 5 s on two cores shared with builds and
 * browsers: the test failed on the deadline, not on the page. This bound only stops a test that
 * hangs.
 */
const HUNG_AFTER_MS = 60_000;

describe('WallPage at fleet scale', () => {
  useFakeClock();

  it(
    'draws the heat map from a roster watch without history, and counts a device going offline',
    async () => {
      const { el, socket, settle } = await renderWithFakeLive(WallPage, {
        query: { view: 'heatmap', stale: '30' },
      });
      socket().server.connected('websocket');
      await settle();
      expect(socket().subscribes).toHaveLength(1);
      // The roster is the fleet summary: no readings, no history.
      expect(socket().subscribes[0].request).toEqual({ summary: true, history: false });
      const ids = Array.from({ length: 40 }, (_, i) => `d-${String(i).padStart(3, '0')}`);
      replyRoster(socket, ids);
      await settle(300);
      const count = (state: string) =>
        el.querySelector(`.heat-count[data-state=${state}]`)?.getAttribute('data-count');
      expect(el.querySelector('[data-testid=heat-map]')?.getAttribute('data-cells')).toBe('40');
      expect(count('online')).toBe('40');
      // No tiles, no per-device elements: one canvas.
      expect(el.querySelectorAll('app-wall-tile')).toHaveLength(0);
      expect(el.querySelectorAll('.heat-area *')).toHaveLength(1);

      // Its status comes in the next summary push (at most a second later).
      socket().server.summary({
        at: T0 + 1000,
        changed: [
          summaryEntry({ ...sensor('d-007'), status: 'offline', age: 1000 }, ['temperature']),
        ],
        removed: [],
      });
      await settle(300);
      expect(count('offline')).toBe('1');
      expect(count('online')).toBe('39');
      expect(el.querySelector('[data-testid=heat-map]')?.getAttribute('aria-label')).toBe(
        'Heat map of 40 devices: 1 offline, 39 online',
      );
    },
    HUNG_AFTER_MS,
  );

  it(
    'watches only the board on screen of a paged fleet, and the next one just before it rotates in',
    async () => {
      // A new board re-creates its tiles (Angular warns in dev mode): that is the point here.
      jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      const { socket, settle } = await renderWithFakeLive(WallPage, {
        query: { size: '4', rotate: '15', window: '1m' },
      });
      socket().server.connected('websocket');
      await settle();
      const roster = socket().subscribes[0];
      expect(roster.request).toEqual({ summary: true, history: false });
      const ids = Array.from({ length: 12 }, (_, i) => `d-${String(i).padStart(2, '0')}`);
      replyRoster(socket, ids);
      await settle(300);
      const boards = () =>
        socket()
          .subscribes.slice(1)
          .map((s) => s.request);
      // T0 is a whole minute: board 0 of 3 is on screen for 15 s.
      expect(boards()).toEqual([
        expect.objectContaining({ devices: ids.slice(0, 4), history: true }),
      ]);
      expect(boards().some((r) => r.fleet)).toBe(false);

      await settle(10_000); // 5 s before board 1 rotates in: subscribed ahead
      expect(boards().map((r) => r.devices)).toEqual([ids.slice(0, 4), ids.slice(4, 8)]);
      expect(socket().unsubscribes).toEqual([]);

      await settle(5_000); // board 1 on screen: board 0 released, board 1 kept (no re-subscribe)
      expect(socket().unsubscribes).toEqual([{ devices: ids.slice(0, 4) }]);
      expect(boards()).toHaveLength(2);
    },
    HUNG_AFTER_MS,
  );
});

import type { LiveService } from '../core/live/live.service';
import type { WatchHandle } from '../core/live/live-watches';
import { MAX_SERIES_CAPACITY, type SeriesStore } from '../core/stores/series.store';
import type { WallConfig } from './wall-params';

/*
 * What the wall asks the gateway for: the roster (which devices exist, their status and latest
 * values, no history), per board it holds, that board's devices with the chart window of
 * history, and on explicit boards the records of the devices its alert lines name. Owns those
 * watches and the series pins that go with them; it must not decide which boards are held (the
 * wall page does, from wall-params' rotation arithmetic) nor render.
 */

/**
 * The wall's roster: every device the wall may page through or colour — the fleet summary (status,
 * last seen, latest values, alert state of every device the screen may see, pushed at most once
 * a second and only for what changed; the gateway scopes it, RosterOrder filters by group), or
 * for a heat map of explicit devices, those devices without history. Null when the wall needs
 * none (tiles on explicit boards: their board watches bring the device records).
 */
export function watchRoster(live: LiveService, cfg: WallConfig): WatchHandle | null {
  if (cfg.boards.length)
    return cfg.view === 'heatmap'
      ? live.watch({ devices: [...new Set(cfg.boards.flat())], historyMs: 0, maxPoints: 1 })
      : null;
  return live.watchSummary();
}

/**
 * Names for a wall's alert lines when it has no fleet summary (explicit boards): the devices the
 * lines name, watched without history. Its board watches (or a heat map's roster) bring the
 * records of the wall's own devices, of the boards held only, so an alert of a device on another
 * board or on none would show its id; the summary of the other walls names every device. Null
 * when the wall has the summary or no line names a device.
 */
export function watchAlertNames(
  live: LiveService,
  cfg: WallConfig,
  deviceIds: readonly string[],
): WatchHandle | null {
  if (!cfg.boards.length || !deviceIds.length) return null;
  return live.watch({ devices: [...deviceIds], historyMs: 0, maxPoints: 1 });
}

/**
 * The boards the wall holds data for (the one on screen and, just before a rotation, the next):
 * one device watch per board with `windowMs` of history, and the board's series pinned to hold
 * that window. Setting the same boards again keeps their watches (no re-subscribe).
 */
export class BoardWatches {
  private readonly held = new Map<string, { release: () => void }>();

  constructor(
    private readonly live: LiveService,
    private readonly series: SeriesStore,
  ) {}

  /** Hold exactly `boards` (device ids per board), each with `windowMs` of history. */
  set(boards: readonly (readonly string[])[], windowMs: number): void {
    const wanted = new Map<string, readonly string[]>();
    for (const ids of boards) if (ids.length) wanted.set(`${windowMs}|${ids.join(',')}`, ids);
    for (const [key, hold] of this.held)
      if (!wanted.has(key)) {
        hold.release();
        this.held.delete(key);
      }
    for (const [key, ids] of wanted) {
      if (this.held.has(key)) continue;
      const unpins = ids.map((id) => this.series.pinWindow(id, windowMs));
      // The buffers hold the window at each device's observed cadence (capped); history asks for
      // as much, over HTTP: compressed, and not ahead of the board's readings (decision 0051).
      const handle = this.live.watch({
        devices: [...ids],
        historyMs: windowMs,
        maxPoints: MAX_SERIES_CAPACITY,
        windowOverHttp: true,
      });
      this.held.set(key, {
        release: () => {
          handle.release();
          for (const unpin of unpins) unpin();
        },
      });
    }
  }

  /** Device ids of the boards held (tests, diagnostics). */
  devices(): string[] {
    return [...this.held.keys()].flatMap((key) => key.slice(key.indexOf('|') + 1).split(','));
  }

  releaseAll(): void {
    this.set([], 0);
  }
}

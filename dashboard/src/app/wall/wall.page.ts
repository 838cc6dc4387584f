import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  afterNextRender,
  computed,
  effect,
  inject,
  signal,
  untracked,
} from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRoute } from '@angular/router';
import { map } from 'rxjs';
import { ScreenSession } from '../core/auth/screen-session';
import { AlertStore } from '../core/stores/alert.store';
import { ClockService } from '../core/util/clock.service';
import { DeviceStore } from '../core/stores/device.store';
import { formatClock, formatDuration } from '../core/util/format';
import { LiveService } from '../core/live/live.service';
import { SeriesStore } from '../core/stores/series.store';
import { ConnectionStatusComponent } from '../shared/connection-status.component';
import { summarizeConnection } from '../shared/connection-summary';
import { boardIndex, boardsToWatch, pageBoards, parseWallParams } from './wall-params';
import { BannerFold, wallAlerts } from './wall-alerts';
import { NgTemplateOutlet } from '@angular/common';
import { BoardWatches, watchAlertNames, watchRoster } from './wall-feed';
import { WallHeatMapComponent } from './heat-map.component';
import { RosterOrder } from './wall-roster';
import { WallTileComponent } from './wall-tile.component';
import { WALL_TILE_MIN_PX, wallLayout, wallNameChars } from './wall-layout';

/** The grid's gap and padding (styles.css `.wall-grid`; wallLayout's default gap). */
const GRID_GAP_PX = 14;

/**
 * Wall mode: a kiosk board configured by URL parameters (see `wall-params.ts` for the list,
 * and the dashboard README) or, on a paired screen, by the same parameters stored on the
 * gateway (its board, from ScreenSession; the URL's are then ignored). Dark, big type,
 * no cursor, no controls; a clock; rotating boards; a full-width banner when
 * this screen is blind (browser disconnected) or the stack is deaf (broker down).
 */
@Component({
  selector: 'app-wall-page',
  imports: [WallTileComponent, WallHeatMapComponent, ConnectionStatusComponent, NgTemplateOutlet],
  template: `
    @let cfg = config();
    <div class="wall theme-{{ cfg.theme }}" data-testid="wall">
      <!-- Banners overlay the top of the wall instead of pushing the grid down: alerts come and go, and
           every change of the grid's height would resize (and re-lay out) every chart on it. -->
      <div class="wall-overlays">
        @if (connection().banner; as banner) {
          <div
            class="wall-banner banner-{{ connection().kind }}"
            role="alert"
            data-testid="wall-banner"
            [attr.data-kind]="connection().kind"
          >
            {{ banner }}
          </div>
        }
        @let alerts = alertView();
        <!-- The folded line and the acknowledged strip sit in the header, in its own height, unless
             a connection banner covers the header: then the folded line goes below it. -->
        @let overlaid = !!connection().banner;
        @if (alerts.banner; as b) {
          @if (!b.folded) {
            <div
              class="wall-alert-banner level-{{ b.level }}"
              role="alert"
              aria-live="assertive"
              data-testid="wall-alert-banner"
              [attr.data-level]="b.level"
              [attr.data-count]="b.critical + b.major"
            >
              <!-- The first line's message where its length fits (wall-alerts.ts bannerMessageFit). -->
              @for (l of b.lines; track l.id; let first = $first) {
                <div
                  class="wall-alert-line sev-{{ l.severity }} {{ first ? 'msg-' + b.fit : '' }}"
                  [attr.data-alert-id]="l.id"
                >
                  <span class="wall-alert-sev">{{ l.severity }}</span>
                  <span class="wall-alert-device">{{ l.device }}</span>
                  <span class="wall-alert-message">{{ l.message }}</span>
                  <span class="wall-alert-age">{{ l.age }}</span>
                </div>
              }
              @if (b.more > 0) {
                <div class="wall-alert-more">+{{ b.more }} more unacknowledged</div>
              }
            </div>
          }
        }
        @if (alerts.banner?.folded && overlaid) {
          <ng-container *ngTemplateOutlet="foldedLine" />
        }
      </div>
      <ng-template #foldedLine>
        @if (alertView().banner; as b) {
          <!-- The banner folded after BANNER_FULL_MS: one line in the header's own height, so
               the grid neither moves nor hides behind it. -->
          <span
            class="wall-alert-folded level-{{ b.level }}"
            data-testid="wall-alert-banner"
            data-folded="true"
            [attr.data-level]="b.level"
            [attr.data-count]="b.critical + b.major"
          >
            @let l = b.lines[0];
            <span class="wall-alert-sev">{{ l.severity }}</span>
            <span class="wall-alert-device">{{ l.device }}</span>
            <span class="wall-alert-message">{{ l.message }}</span>
            <span class="wall-alert-age">{{ l.age }}</span>
            @if (b.lines.length + b.more > 1) {
              <span class="wall-alert-more">+{{ b.lines.length + b.more - 1 }}</span>
            }
          </span>
        }
      </ng-template>
      <header class="wall-top">
        <span class="wall-title"
          >{{ title() }}
          @if (cfg.view === 'tiles') {
            <small class="wall-window">last {{ windowLabel() }}</small>
          }
        </span>
        @if (alerts.banner?.folded && !overlaid) {
          <ng-container *ngTemplateOutlet="foldedLine" />
        }
        @if (alerts.strip; as s) {
          <!-- Muted (no red) when it holds only criticals that cleared and wait for an acknowledgement. -->
          <div
            class="wall-alert-strip"
            [class.muted]="s.muted"
            data-testid="wall-alert-strip"
            [attr.data-count]="s.lines.length + s.more"
          >
            @for (l of s.lines; track l.id) {
              <span
                class="wall-strip-item"
                [class.cleared]="l.cleared"
                [attr.data-alert-id]="l.id"
                [attr.data-cleared]="l.cleared"
                ><b>{{ l.cleared ? 'CLEARED' : 'CRITICAL' }}</b> {{ l.device }} — {{ l.message }} ·
                {{ l.age }} · {{ l.ack }}</span
              >
            }
            @if (s.more > 0) {
              <span class="wall-strip-item wall-strip-more">+{{ s.more }} more</span>
            }
          </div>
        }
        @if (cfg.view === 'tiles' && boards().length > 1) {
          <span class="wall-board">board {{ board() + 1 }} / {{ boards().length }}</span>
        }
        <app-connection-status />
        <time class="wall-clock" data-testid="wall-clock">{{ time() }}</time>
      </header>
      @if (cfg.view === 'heatmap') {
        <main class="wall-heat">
          <app-wall-heat-map
            [deviceIds]="roster()"
            [staleMs]="cfg.staleMs"
            [metric]="cfg.metric"
            [blind]="blind()"
          />
        </main>
      } @else {
        <main
          class="wall-grid"
          [class.wall-scroll]="layout().scroll"
          [style.grid-template-columns]="columns()"
          [style.grid-template-rows]="rows()"
          [attr.data-cols]="layout().cols"
          [attr.data-rows]="layout().rows"
        >
          @for (id of current(); track id) {
            <app-wall-tile
              [deviceId]="id"
              [metrics]="cfg.metrics"
              [windowMs]="cfg.windowMs"
              [staleMs]="cfg.staleMs"
              [blind]="blind()"
              [alert]="alertsByDevice().get(id)?.severity ?? null"
              [nameChars]="nameChars()"
            />
          } @empty {
            <p class="wall-empty">Waiting for devices…</p>
          }
        </main>
      }
      @if (notes().length) {
        <footer class="wall-errors">URL parameters: {{ notes().join(' · ') }}</footer>
      }
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'wall-host' },
})
export class WallPage {
  private readonly live = inject(LiveService);
  private readonly store = inject(DeviceStore);
  private readonly series = inject(SeriesStore);
  private readonly clock = inject(ClockService);
  private readonly alerts = inject(AlertStore);
  private readonly screen = inject(ScreenSession);

  private readonly urlConfig = toSignal(
    inject(ActivatedRoute).queryParamMap.pipe(map((params) => parseWallParams(params))),
    {
      requireSync: true,
    },
  );
  /** A paired screen shows its stored board; any other wall the URL's. */
  protected readonly config = computed(() => {
    const self = this.screen.self();
    return self ? parseWallParams(new URLSearchParams(self.board)) : this.urlConfig();
  });
  /** The groups a scoped screen may watch (null: not scoped). */
  private readonly scope = computed(() => this.screen.self()?.groups ?? null);
  protected readonly connection = computed(() =>
    summarizeConnection(
      this.live.connection(),
      this.live.gateway(),
      this.clock.now(),
      this.live.throttleMs(),
    ),
  );
  protected readonly alertsByDevice = this.alerts.byDevice;
  private readonly bannerFold = new BannerFold();
  protected readonly alertView = computed(() => {
    this.store.revision(); // device names
    this.clock.now(); // ages
    return wallAlerts(
      this.alerts.active(),
      this.live.serverNow(),
      (id) => this.store.get(id)?.name ?? id,
      this.bannerFold,
      this.config().foldMs,
    );
  });
  /** Devices named by the alert banner and strip, sorted (the same array while they are the same). */
  private readonly alertDevices = computed(
    () => {
      const view = this.alertView();
      const lines = [...(view.banner?.lines ?? []), ...(view.strip?.lines ?? [])];
      return [...new Set(lines.map((line) => line.deviceId))].sort();
    },
    { equal: (a, b) => a.length === b.length && a.every((id, i) => id === b[i]) },
  );
  /** Browser ↔ gateway down (not broker down: then the gateway still tells us about devices). */
  protected readonly blind = computed(() => this.live.connection().phase !== 'connected');
  protected readonly time = computed(() => formatClock(this.clock.now()));

  private readonly order = new RosterOrder();
  /** Every device the wall covers, in board / cell order (same array while nobody joins or leaves). */
  protected readonly roster = computed<readonly string[]>(() => {
    const cfg = this.config();
    if (cfg.boards.length) return cfg.boards.flat();
    this.store.revision();
    return this.order.order(this.store.all(), cfg.group, this.scope());
  });
  protected readonly boards = computed<string[][]>(() => {
    const cfg = this.config();
    return cfg.boards.length ? cfg.boards : pageBoards([...this.roster()], cfg.size);
  });
  protected readonly board = computed(() =>
    boardIndex(this.boards().length, this.config().rotateMs, this.clock.now()),
  );
  protected readonly current = computed(() => this.boards()[this.board()] ?? []);
  /** Size of the grid's content box (measured; tiles are laid out to fill it). */
  private readonly gridSize = signal({ width: 0, height: 0 });
  /** The most metric rows a tile of the board shows (a phone's tiles are made tall enough for them). */
  private readonly metricRows = computed(() => {
    const wanted = this.config().metrics.length;
    if (wanted) return wanted;
    // Metric names coming are a members change: a reading alone does not re-read the board.
    this.store.members();
    return Math.max(1, ...this.current().map((id) => this.store.get(id)?.metrics.length ?? 0));
  });
  protected readonly layout = computed(() => {
    const { width, height } = this.gridSize();
    // A paired screen is a wall, whatever its shape (an upright panel at a device pixel ratio of
    // 2 is 540 px wide): every tile on screen, never a phone's scrolling board.
    const paired = this.screen.self() !== null;
    return wallLayout(this.current().length, width, height, this.config().cols, this.metricRows(), {
      paired,
    });
  });
  /** Characters of a tile's name beside a group label of so many (wallNameChars), per layout. */
  protected readonly nameChars = computed(() => {
    const { width, height } = this.gridSize();
    const { cols, rows, scroll, tileHeight } = this.layout();
    // A scrolling board is taller than the grid: the height its rows of tiles take.
    const boardHeight = scroll ? rows * (tileHeight + GRID_GAP_PX) + GRID_GAP_PX : height;
    return (groupChars: number) => wallNameChars(width, boardHeight, cols, rows, groupChars);
  });
  /**
   * What the wall did not take of its parameters: the values it could not read (parseWallParams)
   * and a `cols` more than the grid's width holds (wallLayout lowered it).
   */
  protected readonly notes = computed(() => {
    const cfg = this.config();
    const { cols } = this.layout();
    const width = Math.round(this.gridSize().width);
    return cfg.view === 'tiles' && cfg.cols > cols
      ? [
          ...cfg.errors,
          `cols: ${cfg.cols} is more than ${width} px hold (tiles of ${WALL_TILE_MIN_PX} px), showing ${cols}`,
        ]
      : cfg.errors;
  });
  protected readonly columns = computed(() => `repeat(${this.layout().cols}, minmax(0, 1fr))`);
  protected readonly rows = computed(() => {
    const { rows, scroll, tileHeight } = this.layout();
    return `repeat(${rows}, ${scroll ? `${tileHeight}px` : 'minmax(0, 1fr)'})`;
  });
  protected readonly title = computed(() => {
    const cfg = this.config();
    const name = this.screen.self()?.name;
    return name ? `Pulse · ${name}` : cfg.group ? `Pulse · ${cfg.group}` : 'Pulse';
  });

  protected readonly windowLabel = computed(() => {
    const ms = this.config().windowMs;
    return ms >= 3_600_000 && ms % 3_600_000 === 0
      ? `${ms / 3_600_000} h`
      : ms % 60_000 === 0
        ? `${ms / 60_000} min`
        : formatDuration(ms);
  });

  constructor() {
    const host: HTMLElement = inject(ElementRef).nativeElement;
    const destroyRef = inject(DestroyRef);
    afterNextRender(() => {
      const grid = host.querySelector<HTMLElement>('.wall-grid');
      if (!grid || typeof ResizeObserver === 'undefined') return;
      const measure = () => {
        const style = getComputedStyle(grid);
        const width =
          grid.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const height =
          grid.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
        const prev = this.gridSize();
        if (Math.abs(prev.width - width) >= 1 || Math.abs(prev.height - height) >= 1)
          this.gridSize.set({ width, height });
      };
      const observer = new ResizeObserver(measure);
      observer.observe(grid);
      measure();
      destroyRef.onDestroy(() => observer.disconnect());
    });
    this.screen.start();
    // A paired screen asks for nothing until it knows its board: the one it remembered (drawn at
    // once after a reload) or the gateway's. What the board asks beyond the token's scope (an
    // admin narrowed it while the wall was off) is refused whole, and the gateway's answer, which
    // replaces the board, comes right after.
    effect((onCleanup) => {
      if (this.screen.pending()) return;
      const cfg = this.config();
      untracked(() => {
        const roster = watchRoster(this.live, cfg);
        onCleanup(() => roster?.release());
      });
    });
    // The names of the devices the alert lines show, where no roster brings them.
    effect((onCleanup) => {
      if (this.screen.pending()) return;
      const cfg = this.config();
      const devices = this.alertDevices();
      untracked(() => {
        const names = watchAlertNames(this.live, cfg, devices);
        onCleanup(() => names?.release());
      });
    });
    // Data only for the board on screen, and the next one a few seconds before it rotates in.
    const held = new BoardWatches(this.live, this.series);
    destroyRef.onDestroy(() => held.releaseAll());
    effect(() => {
      const cfg = this.config();
      const boards = this.boards();
      const shown =
        this.screen.pending() || cfg.view === 'heatmap'
          ? []
          : boardsToWatch(boards.length, cfg.rotateMs, this.clock.now()).map((i) => boards[i]);
      untracked(() => held.set(shown, cfg.windowMs));
    });
  }
}

import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  afterNextRender,
  effect,
  inject,
  input,
  output,
  viewChild,
} from '@angular/core';
import type { ChartConfiguration, Plugin, Scale } from 'chart.js';
import { DevicesApi } from '../core/http/devices-api';
import { DeviceStore } from '../core/stores/device.store';
import { formatTick, formatValue } from '../core/util/format';
import { Drawable, FrameScheduler } from '../core/render/frame-scheduler.service';
import { LiveService } from '../core/live/live.service';
import { SeriesStore } from '../core/stores/series.store';
import { bandPlugin } from './band-plugin';
import { BandPoints } from './bucket-series';
import { Chart, registerChartParts } from './chart-setup';
import { isBucketed } from './chart-windows';
import { LongWindow } from './long-window';
import { ThresholdLine, suggestedRange, thresholdLinesPlugin } from './threshold-lines';
import { Point, WindowProjection, projectWindow } from './window-projection';
import { WindowStats, gapThresholdMs, redrawIntervalMs } from './window-stats';

export { MIN_REDRAW_MS, redrawIntervalMs } from './window-stats';

/** Plot width assumed before the chart has laid out. */
const DEFAULT_PLOT_WIDTH = 300;

/**
 * A y axis that stays at zero or above while everything on it does (the readings, the band, the
 * threshold lines): Chart.js's grace below a low reading (a power meter idling at 20 W) and the
 * rounding of the first tick down to a whole step started the axis a step below zero, −5000 W
 * on a small chart and −10000 W on a wall's (two ticks), squeezing the line into the top half.
 * Readings below zero keep their room below it. Judged on the data and the suggested range (the
 * threshold lines), not on the limits Chart.js hands over: it widens a series of zeros to −1…1
 * first. One per chart: the two callbacks share a flag.
 */
function zeroFloor(): { afterDataLimits(scale: Scale): void; afterBuildTicks(scale: Scale): void } {
  let nonNegative = false;
  return {
    afterDataLimits: (scale) => {
      const suggested = (scale.options as { suggestedMin?: unknown }).suggestedMin;
      nonNegative =
        !(scale.getMinMax(false).min < 0) && !(typeof suggested === 'number' && suggested < 0);
    },
    afterBuildTicks: (scale) => {
      if (!nonNegative || scale.min >= 0) return;
      scale.ticks = scale.ticks.filter((tick) => tick.value >= 0);
      scale.min = 0;
    },
  };
}
/** How often the window stats are emitted (they drive text, not pixels). */
const STATS_EVERY_MS = 500;
/**
 * A bucketed window moves a pixel only every few minutes, but its newest bucket takes in every
 * live reading: redraw at least this often so the right edge keeps up.
 */
const BUCKETED_REDRAW_MS = 2_000;

/** The test hook on the host: what the chart holds to draw, as `[x, y]` (band: `[x, lo, hi]`). */
export interface ChartDataHook {
  pulseChartData(): { line: [number, number][]; band: [number, number, number][] };
}

/**
 * One live line chart of one metric of one device on a linear time axis.
 *
 * The Chart.js instance is created once (options set once, no reactive
 * option objects) and its data array is mutated in place (point objects are
 * reused: a frame allocates nothing per point). It is drawn by the shared
 * {@link FrameScheduler} when the series changed or the window moved, but not
 * more often than {@link redrawIntervalMs} (one pixel of the window's time).
 * What to draw is the window projection ({@link projectWindow}: the visible points, at
 * most two per pixel column, stats and gaps over every point); `frame()` only decides
 * whether a draw is due and applies the projection. Windows longer than the live series
 * (6h, 24h, 7d) are drawn from a {@link LongWindow}: a downsampled range, the live series
 * folded into its newest buckets, drawn as a line through each bucket's middle over a min/max
 * band. Test hooks on the host: `data-points` (points — or buckets — in the
 * visible window), `data-gaps` (gaps in it), `data-last-gap-end` (timestamp of
 * the first point after the newest gap, or 0), `data-range` (a long window's load:
 * loading / loaded / failed), and `pulseChartData()` ({@link ChartDataHook}).
 *
 * Owns its Chart.js instance and nothing else: it reads the stores and never writes them,
 * never sees the socket (a long window's range comes over HTTP through DevicesApi), and draws
 * only when the frame scheduler calls `frame()`.
 */
@Component({
  selector: 'app-live-chart',
  template: `<canvas #canvas role="img" [attr.aria-label]="metric() + ' chart'"></canvas>`,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'live-chart' },
})
export class LiveChartComponent implements Drawable {
  readonly deviceId = input.required<string>();
  readonly metric = input.required<string>();
  readonly unit = input('');
  readonly windowMs = input(5 * 60_000);
  /** Freeze the time axis (data keeps arriving into the store). */
  readonly paused = input(false);
  readonly variant = input<'default' | 'wall'>('default');
  /** Alert rule levels drawn as horizontal lines (raise solid, clear dashed); the y axis keeps raise levels in view. */
  readonly thresholds = input<readonly ThresholdLine[]>([]);
  readonly stats = output<WindowStats>();

  private readonly canvas = viewChild.required<ElementRef<HTMLCanvasElement>>('canvas');
  private readonly host: HTMLElement = inject(ElementRef).nativeElement;
  private readonly series = inject(SeriesStore);
  private readonly devices = inject(DeviceStore);
  private readonly live = inject(LiveService);
  private readonly scheduler = inject(FrameScheduler);
  private readonly destroyRef = inject(DestroyRef);

  private chart: Chart<'line', Point[]> | null = null;
  private readonly points: Point[] = [];
  /** A bucketed window's band edges (empty otherwise), index-aligned with `points`. */
  private readonly band: BandPoints = { mid: this.points, hi: [], lo: [] };
  private readonly api = inject(DevicesApi);
  private readonly longWindow = new LongWindow(
    (deviceId, metric, plan) => this.api.history(deviceId, metric, plan),
    () => {
      this.configDirty = true;
      this.scheduler.request();
    },
  );
  private bandGapMs = 0;
  private drawnAt = 0;
  /** Per-chart jitter on the redraw interval (0.9–1.1) so charts do not all fall due in the same frame. */
  private readonly jitter = 0.9 + Math.random() * 0.2;
  /** Threshold plugin, attached only while there are lines (a plugin costs on every update). */
  private readonly plugins: Plugin<'line'>[] = [];
  private readonly thresholdPlugin: Plugin<'line'>;
  private readonly bandPlugin = bandPlugin({
    upper: 1,
    lower: 2,
    color: () => (this.variant() === 'wall' ? 'rgba(79,209,255,0.22)' : 'rgba(37,99,235,0.18)'),
    gapMs: () => this.bandGapMs,
  });
  private configDirty = true;
  private pausedAt: number | null = null;
  private statsAt = 0;
  private lastStats = '';
  private thresholdsDirty = true;

  constructor() {
    registerChartParts();
    // Inputs are not set yet in the constructor: read the variant when drawing.
    this.thresholdPlugin = thresholdLinesPlugin(() => this.thresholds(), {
      labels: () => this.variant() !== 'wall',
    });
    // Window / pause changes: redraw on the next frame.
    effect(() => {
      this.windowMs();
      const paused = this.paused();
      this.pausedAt = paused ? (this.pausedAt ?? this.live.serverNow()) : null;
      this.configDirty = true;
      this.scheduler.request();
    });
    effect(() => {
      const lines = this.thresholds();
      this.host.setAttribute('data-thresholds', String(lines.length));
      const at = this.plugins.indexOf(this.thresholdPlugin);
      if (lines.length && at < 0) this.plugins.push(this.thresholdPlugin);
      else if (!lines.length && at >= 0) this.plugins.splice(at, 1);
      this.thresholdsDirty = true;
      this.configDirty = true;
      this.scheduler.request();
    });
    const hook: ChartDataHook = {
      pulseChartData: () => ({
        line: this.points.map((p) => [p.x, p.y]),
        band: this.band.hi.map((p, i) => [p.x, this.band.lo[i].y, p.y]),
      }),
    };
    Object.assign(this.host, hook);
    afterNextRender(() => {
      this.chart = new Chart(this.canvas().nativeElement, this.config());
      const unregister = this.scheduler.register(this);
      this.destroyRef.onDestroy(() => {
        unregister();
        this.chart?.destroy();
        this.chart = null;
        this.points.length = 0;
      });
    });
  }

  frame(): number | void {
    const chart = this.chart;
    if (!chart) return;
    const wallNow = Date.now();
    const windowMs = this.windowMs();
    const plotWidth = Math.max(
      50,
      (chart.chartArea?.right ?? 0) - (chart.chartArea?.left ?? 0) ||
        chart.width ||
        DEFAULT_PLOT_WIDTH,
    );
    if (!this.configDirty) {
      // Paused: keep the picture still, but pick up new data on resume.
      if (this.pausedAt !== null) return;
      // Running: the window slides even without new data, so something is always pending; draw when due.
      const every = redrawIntervalMs(windowMs, plotWidth);
      const interval = isBucketed(windowMs) ? Math.min(every, BUCKETED_REDRAW_MS) : every;
      const wait = this.drawnAt + interval * this.jitter - wallNow;
      if (wait > 0) return wait;
    }
    const forceStats = this.configDirty; // a new window: its stats at once
    this.drawnAt = wallNow;
    this.configDirty = false;

    const buffer = this.series.get(this.deviceId(), this.metric());
    // A device clock slightly ahead of the gateway's must not hide its newest points.
    const max = this.pausedAt ?? Math.max(this.live.serverNow(), buffer?.lastTs ?? 0);
    const cadence = this.devices.get(this.deviceId())?.cadenceMs ?? null;
    const min = max - windowMs;
    let gapMs = gapThresholdMs(cadence, windowMs, plotWidth);
    let view: WindowProjection;
    if (isBucketed(windowMs)) {
      const target = { deviceId: this.deviceId(), metric: this.metric(), windowMs, plotWidth };
      const buckets = this.longWindow.buckets(target, buffer, max);
      // Neighbouring buckets' middles may lie up to two widths apart without a reading missing.
      gapMs = Math.max(gapMs, 2.5 * buckets.bucketMs);
      view = buckets.project(min, max, gapMs, this.band);
      view.stats.bucketMs = buckets.bucketMs;
    } else {
      this.longWindow.reset();
      this.band.hi.length = this.band.lo.length = 0;
      view = projectWindow(buffer, { min, max, plotWidth, gapMs }, this.points);
    }
    this.bandGapMs = gapMs;
    this.setBandPlugin(this.band.hi.length > 0);
    this.applyToChart(chart, min, max, gapMs);
    this.report(view, wallNow, forceStats);
  }

  /** The band plugin is attached only while there is a band (a plugin costs on every update). */
  private setBandPlugin(on: boolean): void {
    const at = this.plugins.indexOf(this.bandPlugin);
    if (on && at < 0) this.plugins.unshift(this.bandPlugin);
    else if (!on && at >= 0) this.plugins.splice(at, 1);
  }

  /** Mutate the Chart.js instance in place (the points are already in its data array) and draw. */
  private applyToChart(chart: Chart<'line', Point[]>, min: number, max: number, gapMs: number) {
    chart.data.datasets[0].spanGaps = gapMs;
    const x = chart.options.scales?.['x'];
    if (x) {
      x.min = min;
      x.max = max;
    }
    const y = chart.options.scales?.['y'];
    if (y && this.thresholdsDirty) {
      this.thresholdsDirty = false;
      const range = suggestedRange(this.thresholds());
      y.suggestedMin = range.min;
      y.suggestedMax = range.max;
    }
    chart.update('none');
  }

  /** Test hooks on the host, and the stats output (throttled; only when they changed). */
  private report({ stats, lastGapEnd }: WindowProjection, wallNow: number, force: boolean): void {
    this.host.setAttribute('data-points', String(stats.count));
    this.host.setAttribute('data-gaps', String(stats.gaps));
    this.host.setAttribute('data-last-gap-end', String(lastGapEnd));
    const range = this.longWindow.state;
    if (range) this.host.setAttribute('data-range', range);
    else this.host.removeAttribute('data-range');
    if (!force && wallNow - this.statsAt < STATS_EVERY_MS) return;
    this.statsAt = wallNow;
    const key = `${stats.count}|${stats.min}|${stats.max}|${stats.avg}|${stats.gaps}|${stats.bucketMs}`;
    if (key === this.lastStats) return;
    this.lastStats = key;
    this.stats.emit(stats);
  }

  private edgeDataset(data: Point[]): ChartConfiguration<'line', Point[]>['data']['datasets'][0] {
    return {
      data,
      showLine: false,
      pointRadius: 0,
      pointHitRadius: 0,
      normalized: true,
      parsing: false,
      indexAxis: 'x',
    };
  }

  private config(): ChartConfiguration<'line', Point[]> {
    const wall = this.variant() === 'wall';
    const text = wall ? '#d7dde8' : '#5b6474';
    const grid = wall ? 'rgba(255,255,255,0.08)' : 'rgba(0,0,0,0.06)';
    const unit = this.unit();
    return {
      type: 'line',
      plugins: this.plugins,
      data: {
        datasets: [
          {
            data: this.points,
            borderColor: wall ? '#4fd1ff' : '#2563eb',
            borderWidth: wall ? 2.5 : 1.5,
            pointRadius: 0,
            pointHitRadius: 0,
            tension: 0,
            fill: false,
            spanGaps: 3000,
            normalized: true,
            parsing: false,
            indexAxis: 'x',
          },
          // A bucketed window's highest and lowest readings: not drawn themselves (the band
          // plugin fills between them), but in the data so the y axis spans the band.
          this.edgeDataset(this.band.hi),
          this.edgeDataset(this.band.lo),
        ],
      },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        // No hover work: these charts redraw many times a second.
        events: [],
        // Wall: a sparkline-style trend (the big number beside it is the reading): no axes, ticks or grid to lay out or draw.
        layout: { padding: wall ? 3 : 0 },
        scales: {
          x: {
            type: 'linear',
            display: !wall,
            ticks: {
              display: !wall,
              color: text,
              maxRotation: 0,
              autoSkipPadding: 24,
              maxTicksLimit: wall ? 2 : 8,
              font: { size: wall ? 16 : 11 },
              // Hidden ticks still get labels generated on every update: make that free.
              callback: wall ? () => '' : (value) => formatTick(Number(value), this.windowMs()),
            },
            grid: { color: grid },
          },
          y: {
            type: 'linear',
            display: !wall,
            grace: '5%',
            ...zeroFloor(),
            ticks: {
              display: !wall,
              maxTicksLimit: wall ? 2 : 6,
              color: text,
              font: { size: wall ? 16 : 11 },
              callback: wall ? () => '' : (value) => formatValue(Number(value)),
            },
            grid: { color: grid },
            title: { display: !!unit && !wall, text: unit, color: text },
          },
        },
      },
    };
  }
}

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
import type { ChartConfiguration, Plugin } from 'chart.js';
import { DeviceStore } from '../core/stores/device.store';
import { formatTick, formatValue } from '../core/util/format';
import { Drawable, FrameScheduler } from '../core/render/frame-scheduler.service';
import { LiveService } from '../core/live/live.service';
import { SeriesStore } from '../core/stores/series.store';
import { Chart, registerChartParts } from './chart-setup';
import { ThresholdLine, suggestedRange, thresholdLinesPlugin } from './threshold-lines';
import { Point, WindowProjection, projectWindow } from './window-projection';
import { WindowStats, gapThresholdMs, redrawIntervalMs } from './window-stats';

export { MIN_REDRAW_MS, redrawIntervalMs } from './window-stats';

/** Plot width assumed before the chart has laid out. */
const DEFAULT_PLOT_WIDTH = 300;
/** How often the window stats are emitted (they drive text, not pixels). */
const STATS_EVERY_MS = 500;

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
 * whether a draw is due and applies the projection. Test hooks on the host: `data-points` (points in the
 * visible window), `data-gaps` (gaps in it), `data-last-gap-end` (timestamp of
 * the first point after the newest gap, or 0).
 *
 * Owns its Chart.js instance and nothing else: it reads the stores and never writes them,
 * never sees the socket, and draws only when the frame scheduler calls `frame()`.
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
  private drawnAt = 0;
  /** Per-chart jitter on the redraw interval (0.9–1.1) so charts do not all fall due in the same frame. */
  private readonly jitter = 0.9 + Math.random() * 0.2;
  /** Threshold plugin, attached only while there are lines (a plugin costs on every update). */
  private readonly plugins: Plugin<'line'>[] = [];
  private readonly thresholdPlugin: Plugin<'line'>;
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
      const wait = this.drawnAt + redrawIntervalMs(windowMs, plotWidth) * this.jitter - wallNow;
      if (wait > 0) return wait;
    }
    const forceStats = this.configDirty; // a new window: its stats at once
    this.drawnAt = wallNow;
    this.configDirty = false;

    const buffer = this.series.get(this.deviceId(), this.metric());
    // A device clock slightly ahead of the gateway's must not hide its newest points.
    const max = this.pausedAt ?? Math.max(this.live.serverNow(), buffer?.lastTs ?? 0);
    const cadence = this.devices.get(this.deviceId())?.cadenceMs ?? null;
    const gapMs = gapThresholdMs(cadence, windowMs, plotWidth);
    const view = projectWindow(buffer, { min: max - windowMs, max, plotWidth, gapMs }, this.points);
    this.applyToChart(chart, max - windowMs, max, gapMs);
    this.report(view, wallNow, forceStats);
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
    if (!force && wallNow - this.statsAt < STATS_EVERY_MS) return;
    this.statsAt = wallNow;
    const key = `${stats.count}|${stats.min}|${stats.max}|${stats.avg}|${stats.gaps}`;
    if (key === this.lastStats) return;
    this.lastStats = key;
    this.stats.emit(stats);
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

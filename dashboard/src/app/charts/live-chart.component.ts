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
import type { ChartConfiguration } from 'chart.js';
import { DeviceStore } from '../core/device.store';
import { formatTick, formatValue } from '../core/format';
import { Drawable, FrameScheduler, IDLE_FRAME_MS } from '../core/frame-scheduler.service';
import { LiveService } from '../core/live.service';
import { SeriesStore } from '../core/series.store';
import { Chart, registerChartParts } from './chart-setup';
import { ThresholdLine, suggestedRange, thresholdLinesPlugin } from './threshold-lines';
import { EMPTY_STATS, WindowStats, gapThresholdMs } from './window-stats';

interface Point {
  x: number;
  y: number;
}

/** How often the window stats are emitted (they drive text, not pixels). */
const STATS_EVERY_MS = 500;
/** Above this many points in the window, LTTB decimation kicks in. */
const DECIMATE_ABOVE = 1000;

/**
 * One live line chart of one metric of one device on a linear time axis.
 *
 * The Chart.js instance is created once and its data array is mutated in
 * place (point objects are reused, so steady state allocates nothing); it is
 * drawn by the shared {@link FrameScheduler} only when the series changed or
 * the window moved. Test hooks on the host: `data-points` (points in the
 * visible window), `data-gaps` (gaps in it), `data-last-gap-end` (timestamp of
 * the first point after the newest gap, or 0).
 */
@Component({
  selector: 'app-live-chart',
  template: `<canvas #canvas role="img" [attr.aria-label]="metric() + ' chart'"></canvas>`,
  styles: `
    :host { display: block; position: relative; min-height: 80px; }
    canvas { position: absolute; inset: 0; width: 100% !important; height: 100% !important; }
  `,
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
  private drawnVersion = -1;
  private drawnAt = 0;
  private configDirty = true;
  private pausedAt: number | null = null;
  private statsAt = 0;
  private lastStats = '';
  private thresholdsDirty = true;

  constructor() {
    registerChartParts();
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

  frame(): void {
    const chart = this.chart;
    if (!chart) return;
    const buffer = this.series.get(this.deviceId(), this.metric());
    const version = buffer?.version ?? -1;
    const wallNow = Date.now();
    const moved = this.pausedAt === null && wallNow - this.drawnAt >= IDLE_FRAME_MS;
    if (version === this.drawnVersion && !this.configDirty && !moved) return;
    if (this.pausedAt !== null && !this.configDirty && version !== this.drawnVersion) {
      // Paused: keep the picture still, but pick up new data on resume.
      return;
    }
    const forceStats = this.configDirty; // a new window: its stats at once
    this.drawnVersion = version;
    this.drawnAt = wallNow;
    this.configDirty = false;

    const windowMs = this.windowMs();
    // A device clock slightly ahead of the gateway's must not hide its newest points.
    const max = this.pausedAt ?? Math.max(this.live.serverNow(), buffer?.lastTs ?? 0);
    const min = max - windowMs;
    const cadence = this.devices.get(this.deviceId())?.cadenceMs ?? null;
    const gapMs = gapThresholdMs(cadence, windowMs, Math.max(100, chart.width || 600));

    // Copy the visible window (plus one point before it so the line enters from the edge).
    let n = 0;
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    let count = 0;
    let gaps = 0;
    let lastGapEnd = 0;
    if (buffer) {
      const start = Math.max(0, buffer.lowerBound(min) - 1);
      let prevT = NaN;
      for (let i = start; i < buffer.length; i++) {
        const t = buffer.tAt(i);
        if (t > max) break;
        const v = buffer.vAt(i);
        let p = this.points[n];
        if (!p) {
          p = { x: t, y: v };
          this.points[n] = p;
        } else {
          p.x = t;
          p.y = v;
        }
        n++;
        if (t >= min) {
          count++;
          sum += v;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          if (t - prevT > gapMs) {
            gaps++;
            lastGapEnd = t;
          }
        }
        prevT = t;
      }
    }
    this.points.length = n;

    const dataset = chart.data.datasets[0];
    dataset.spanGaps = gapMs;
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

    this.host.setAttribute('data-points', String(count));
    this.host.setAttribute('data-gaps', String(gaps));
    this.host.setAttribute('data-last-gap-end', String(lastGapEnd));
    if (forceStats || wallNow - this.statsAt >= STATS_EVERY_MS) {
      this.statsAt = wallNow;
      const stats: WindowStats = count
        ? { count, min: lo, max: hi, avg: sum / count, gaps }
        : { ...EMPTY_STATS };
      const key = `${stats.count}|${stats.min}|${stats.max}|${stats.avg}|${stats.gaps}`;
      if (key !== this.lastStats) {
        this.lastStats = key;
        this.stats.emit(stats);
      }
    }
  }

  private config(): ChartConfiguration<'line', Point[]> {
    const wall = this.variant() === 'wall';
    const text = wall ? '#d7dde8' : '#5b6474';
    const grid = wall ? 'rgba(255,255,255,0.08)' : 'rgba(0,0,0,0.06)';
    const unit = this.unit();
    return {
      type: 'line',
      plugins: [thresholdLinesPlugin(() => this.thresholds(), { labels: !wall })],
      data: {
        datasets: [
          {
            data: this.points,
            borderColor: wall ? '#4fd1ff' : '#2563eb',
            borderWidth: wall ? 3 : 1.5,
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
        plugins: {
          decimation: { enabled: true, algorithm: 'lttb', threshold: DECIMATE_ABOVE },
        },
        scales: {
          x: {
            type: 'linear',
            // On the wall the big number is the reading; the line is the trend: no tick clutter.
            ticks: {
              display: !wall,
              color: text,
              maxRotation: 0,
              autoSkipPadding: 24,
              maxTicksLimit: 8,
              font: { size: wall ? 16 : 11 },
              callback: (value) => formatTick(Number(value), this.windowMs()),
            },
            grid: { color: grid },
          },
          y: {
            type: 'linear',
            grace: '5%',
            ticks: {
              display: !wall,
              maxTicksLimit: 6,
              color: text,
              font: { size: wall ? 16 : 11 },
              callback: (value) => formatValue(Number(value)),
            },
            grid: { color: grid },
            title: { display: !!unit && !wall, text: unit, color: text },
          },
        },
      },
    };
  }
}

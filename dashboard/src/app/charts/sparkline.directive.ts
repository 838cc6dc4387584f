import {
  DestroyRef,
  Directive,
  ElementRef,
  afterNextRender,
  effect,
  inject,
  input,
} from '@angular/core';
import { DeviceStore } from '../core/stores/device.store';
import { Drawable, FrameScheduler } from '../core/render/frame-scheduler.service';
import { LiveService } from '../core/live/live.service';
import { ChartSeries } from '../core/stores/chart-series';
import { SeriesStore } from '../core/stores/series.store';
import { gapThresholdMs, redrawIntervalMs } from './window-stats';

/**
 * Points a sparkline asks for per metric when its device comes on screen: about one per 1.2 px
 * of a 72 px line, so a screenful of tiles fills from a small acknowledgement (decimated by the
 * gateway, min and max per bucket, over the tile's window).
 */
export const SPARKLINE_POINTS = 60;

/**
 * A tiny line in an inline `<svg>`: one `<path>` whose `d` it rewrites, no Chart.js instance per
 * tile and no `<canvas>`. Chromium composites every 2D canvas as a layer of its own, so 35 tiles'
 * 140 sparkline canvases were 140 layers to layerize and commit on every frame while the overview
 * scrolled; an SVG path is painted with its tile (decision 0035). Drawn by the shared frame
 * scheduler when its series changed or the window moved by a pixel, not more often than one
 * pixel's worth of the window's time; breaks the line where data is missing.
 * Owns its `<svg>` only: it reads the stores and never writes them, leaves watching the
 * series to its page (the overview) and draws only when the frame scheduler calls `frame()`.
 */
@Directive({
  selector: 'svg[appSparkline]',
  host: { class: 'sparkline', 'aria-hidden': 'true', preserveAspectRatio: 'none' },
})
export class SparklineDirective implements Drawable {
  readonly deviceId = input.required<string>();
  readonly metric = input.required<string>();
  readonly windowMs = input(5 * 60_000);
  readonly color = input('#2563eb');

  private readonly svg: SVGSVGElement = inject(ElementRef).nativeElement;
  private readonly path: SVGPathElement;
  private readonly series = inject(SeriesStore);
  private readonly devices = inject(DeviceStore);
  private readonly live = inject(LiveService);
  private readonly scheduler = inject(FrameScheduler);
  private drawnVersion = -1;
  private drawnAt = 0;
  /** Device and metric last drawn: a recycled tile (the overview reuses them) draws its new one at once. */
  private drawnKey = '';
  /** The `d` last written: an unchanged line is not written again (no repaint). */
  private drawnPath = '';
  private drawnBox = '';
  /**
   * The element's CSS size, from a ResizeObserver (after layout, never forcing it): reading
   * clientWidth in frame() forced a layout per sparkline per frame while rows scrolled in.
   */
  private cssWidth = 0;
  private cssHeight = 0;

  constructor() {
    const doc = this.svg.ownerDocument;
    this.path = doc.createElementNS('http://www.w3.org/2000/svg', 'path');
    this.svg.appendChild(this.path);
    const destroyRef = inject(DestroyRef);
    // Another device or metric in the same element: a frame to replace the line (no data may come).
    effect(() => {
      this.deviceId();
      this.metric();
      this.scheduler.request();
    });
    effect(() => this.path.setAttribute('stroke', this.color()));
    afterNextRender(() => {
      const unregister = this.scheduler.register(this);
      destroyRef.onDestroy(unregister);
      if (typeof ResizeObserver === 'undefined') return; // no layout to observe (unit tests)
      const observer = new ResizeObserver(([entry]) => {
        const box = entry.contentBoxSize?.[0];
        this.cssWidth = box ? box.inlineSize : entry.contentRect.width;
        this.cssHeight = box ? box.blockSize : entry.contentRect.height;
        this.drawnVersion = -2; // redraw at the new size
        this.scheduler.request();
      });
      observer.observe(this.svg);
      destroyRef.onDestroy(() => observer.disconnect());
    });
  }

  private size(): [number, number] {
    if (typeof ResizeObserver === 'undefined') return [this.svg.clientWidth, this.svg.clientHeight];
    return [this.cssWidth, this.cssHeight];
  }

  frame(): number | void {
    const buffer = this.series.get(this.deviceId(), this.metric());
    const version = buffer?.version ?? -1;
    const [width, height] = this.size();
    if (width === 0) return; // not laid out yet: the observer asks for a frame when it is
    const now = Date.now();
    const key = `${this.deviceId()}\u0000${this.metric()}`;
    if (key !== this.drawnKey) {
      this.drawnKey = key;
      this.drawnAt = 0;
      this.drawnVersion = -2;
    }
    const wait = this.drawnAt + redrawIntervalMs(this.windowMs(), width) - now;
    if (wait > 0) return version === this.drawnVersion ? undefined : wait;
    this.drawnVersion = version;
    this.drawnAt = now;
    const box = `0 0 ${width} ${height}`;
    if (box !== this.drawnBox) {
      this.drawnBox = box;
      this.svg.setAttribute('viewBox', box);
    }
    this.setPath(this.line(buffer, width, height));
  }

  private setPath(d: string): void {
    if (d === this.drawnPath) return;
    this.drawnPath = d;
    this.path.setAttribute('d', d);
  }

  /** The path's `d` in CSS pixels: the window's points, a new subpath after each gap. */
  private line(buffer: ChartSeries | undefined, width: number, height: number): string {
    if (!buffer || buffer.size < 2) return '';
    const max = this.live.serverNow();
    const start = buffer.lowerBound(max - this.windowMs());
    if (start >= buffer.size - 1) return '';
    // Stretch what we have over the width until the window fills up (a fresh page has seconds, not minutes).
    const min = buffer.tAt(start);
    const windowMs = Math.max(1, max - min);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < buffer.size; i++) {
      const v = buffer.vAt(i);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi - lo || 1;
    const pad = 2;
    const gapMs = gapThresholdMs(
      this.devices.get(this.deviceId())?.cadenceMs ?? null,
      windowMs,
      width,
    );
    let d = '';
    let prevT = NaN;
    for (let i = start; i < buffer.size; i++) {
      const t = buffer.tAt(i);
      const x = ((t - min) / windowMs) * width;
      const y = height - pad - ((buffer.vAt(i) - lo) / span) * (height - 2 * pad);
      d += `${i === start || t - prevT > gapMs ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`;
      prevT = t;
    }
    return d;
  }
}

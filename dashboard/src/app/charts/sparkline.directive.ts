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
import { SeriesStore } from '../core/stores/series.store';
import { gapThresholdMs, redrawIntervalMs } from './window-stats';

/**
 * Points a sparkline asks for per metric when its device comes on screen: about one per 1.2 px
 * of a 72 px line, so a screenful of tiles fills from a small acknowledgement (decimated by the
 * gateway, min and max per bucket, over the tile's window).
 */
export const SPARKLINE_POINTS = 60;

/**
 * A tiny hand-drawn line on a `<canvas>`: no Chart.js instance per tile, so a
 * fleet of hundreds of tiles stays cheap. Drawn by the shared frame scheduler
 * when its series changed or the window moved by a pixel, not more often than
 * one pixel's worth of the window's time; breaks the line where data is missing.
 * Owns its canvas only: it reads the stores and never writes them, leaves watching the
 * series to its page (the overview) and draws only when the frame scheduler calls `frame()`.
 */
@Directive({
  selector: 'canvas[appSparkline]',
  host: { class: 'sparkline' },
})
export class SparklineDirective implements Drawable {
  readonly deviceId = input.required<string>();
  readonly metric = input.required<string>();
  readonly windowMs = input(5 * 60_000);
  readonly color = input('#2563eb');

  private readonly canvas: HTMLCanvasElement = inject(ElementRef).nativeElement;
  private readonly series = inject(SeriesStore);
  private readonly devices = inject(DeviceStore);
  private readonly live = inject(LiveService);
  private readonly scheduler = inject(FrameScheduler);
  private drawnVersion = -1;
  private drawnAt = 0;
  /** Device and metric last drawn: a recycled tile (the overview reuses them) draws its new one at once. */
  private drawnKey = '';
  /**
   * The canvas's CSS size, from a ResizeObserver (after layout, never forcing it): reading
   * clientWidth in frame() forced a layout per sparkline per frame while rows scrolled in.
   */
  private cssWidth = 0;
  private cssHeight = 0;

  constructor() {
    const destroyRef = inject(DestroyRef);
    // Another device or metric in the same canvas: a frame to replace the line (no data may come).
    effect(() => {
      this.deviceId();
      this.metric();
      this.scheduler.request();
    });
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
      observer.observe(this.canvas);
      destroyRef.onDestroy(() => observer.disconnect());
    });
  }

  private size(): [number, number] {
    if (typeof ResizeObserver === 'undefined')
      return [this.canvas.clientWidth, this.canvas.clientHeight];
    return [this.cssWidth, this.cssHeight];
  }

  frame(): number | void {
    const buffer = this.series.get(this.deviceId(), this.metric());
    const version = buffer?.version ?? -1;
    const [cssWidth, cssHeight] = this.size();
    if (cssWidth === 0) return; // not laid out yet: the observer asks for a frame when it is
    const now = Date.now();
    const key = `${this.deviceId()}\u0000${this.metric()}`;
    if (key !== this.drawnKey) {
      this.drawnKey = key;
      this.drawnAt = 0;
      this.drawnVersion = -2;
    }
    const wait = this.drawnAt + redrawIntervalMs(this.windowMs(), cssWidth) - now;
    if (wait > 0) return version === this.drawnVersion ? undefined : wait;
    this.drawnVersion = version;
    this.drawnAt = now;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const ratio = globalThis.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(cssWidth * ratio));
    const height = Math.max(1, Math.round(cssHeight * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    ctx.clearRect(0, 0, width, height);
    if (!buffer || buffer.size < 2) return;

    const max = this.live.serverNow();
    const start = buffer.lowerBound(max - this.windowMs());
    if (start >= buffer.size - 1) return;
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
    const pad = 2 * ratio;
    const gapMs = gapThresholdMs(
      this.devices.get(this.deviceId())?.cadenceMs ?? null,
      windowMs,
      width / ratio,
    );
    ctx.lineWidth = 1.5 * ratio;
    ctx.strokeStyle = this.color();
    ctx.lineJoin = 'round';
    ctx.beginPath();
    let prevT = NaN;
    for (let i = start; i < buffer.size; i++) {
      const t = buffer.tAt(i);
      const x = ((t - min) / windowMs) * width;
      const y = height - pad - ((buffer.vAt(i) - lo) / span) * (height - 2 * pad);
      if (i === start || t - prevT > gapMs) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
      prevT = t;
    }
    ctx.stroke();
  }
}

import { DestroyRef, Injectable, NgZone, inject } from '@angular/core';
import { DOCUMENT } from '@angular/common';
import type { Clock } from '@pulse/protocol/core';
import { SeriesStore } from '../stores/series.store';

/*
 * Rendering: the one animation-frame loop every chart and sparkline draws in. Owns the frame
 * timing and budget; it must not read the socket or write the stores, and drawables own what
 * they draw.
 */

/** Something drawn on a canvas: asked on animation frames whether it must redraw. */
export interface Drawable {
  /**
   * Redraw if due (data or the time window changed, and the drawable's own
   * rate limit allows). Return how many ms until it wants another frame when
   * it has a change it did not draw yet (rate limited), or nothing.
   */
  frame(now: number): number | void;
}

/** How often drawables are polled when nothing asks for a frame (keeps time axes moving). */
export const IDLE_FRAME_MS = 1000;
/**
 * Drawing time per animation frame. Once spent, the remaining drawables wait
 * for the next frame (round robin), so a burst of due charts is spread over
 * frames instead of producing one long frame.
 */
export const FRAME_BUDGET_MS = 4;

/**
 * One requestAnimationFrame loop for every chart and sparkline: at most one
 * draw per frame per drawable, only of drawables whose data changed (each
 * checks its own version counters and rate limit), outside Angular (the app
 * is zoneless; NgZone is a no-op then, but this stays correct under zone.js).
 * New points in the {@link SeriesStore} ask for a frame, so charts follow the
 * data rate; a 1 s idle poll keeps time axes moving when no data arrives.
 * While the page is hidden nothing is drawn; the stores keep ingesting, and
 * the first visible frame catches up.
 */
@Injectable({ providedIn: 'root' })
export class FrameScheduler {
  private readonly zone = inject(NgZone);
  private readonly document = inject(DOCUMENT);
  private readonly drawables: Drawable[] = [];
  private frameId: number | null = null;
  private idleTimer: ReturnType<typeof setInterval> | null = null;
  private dueTimer: ReturnType<typeof setTimeout> | null = null;
  private dueAt = Infinity;
  /** Where the next frame starts walking the drawables (round robin under the budget). */
  private cursor = 0;
  /** Frames run, for tests and diagnostics. */
  frames = 0;
  /** Clock for the frame budget (injectable for tests). */
  clock: Clock = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

  constructor() {
    const onVisibility = () => {
      if (!this.document.hidden) this.request();
    };
    this.document.addEventListener('visibilitychange', onVisibility);
    const stopListening = inject(SeriesStore).onChange(() => this.request());
    inject(DestroyRef).onDestroy(() => {
      this.document.removeEventListener('visibilitychange', onVisibility);
      stopListening();
      this.stopIdle();
      this.clearDue();
      this.cancel();
    });
  }

  register(drawable: Drawable): () => void {
    this.drawables.push(drawable);
    this.startIdle();
    this.request();
    return () => {
      const at = this.drawables.indexOf(drawable);
      if (at >= 0) this.drawables.splice(at, 1);
      if (at >= 0 && at < this.cursor) this.cursor--;
      if (this.drawables.length === 0) {
        this.stopIdle();
        this.clearDue();
        this.cancel();
      }
    };
  }

  /** Ask for a frame soon (data arrived). Cheap to call many times. */
  request(): void {
    if (this.frameId !== null || this.drawables.length === 0 || this.document.hidden) return;
    const win = this.document.defaultView;
    if (!win?.requestAnimationFrame) return;
    this.zone.runOutsideAngular(() => {
      this.frameId = win.requestAnimationFrame((now) => this.run(now));
    });
  }

  private run(now: number): void {
    this.frameId = null;
    if (this.document.hidden) return;
    this.frames++;
    const list = this.drawables;
    const n = list.length;
    if (n === 0) return;
    const started = this.clock();
    let wait = Infinity;
    let visited = 0;
    let i = this.cursor % n;
    let mayHaveDrawn = false;
    for (; visited < n; visited++, i = (i + 1) % n) {
      // Only a drawable that did not answer "not yet" may have spent time: read the clock then.
      if (mayHaveDrawn && this.clock() - started >= FRAME_BUDGET_MS) break;
      try {
        const next = list[i].frame(now);
        mayHaveDrawn = typeof next !== 'number';
        if (!mayHaveDrawn && (next as number) < wait) wait = next as number;
      } catch (error) {
        mayHaveDrawn = true;
        console.error('[frame] draw failed', error);
      }
    }
    this.cursor = n ? i % n : 0;
    if (visited < n)
      this.request(); // budget spent: the rest next frame
    else if (wait < Infinity) this.requestIn(wait);
  }

  /** A frame in `ms` (a rate-limited drawable has a pending change). One timer for all. */
  private requestIn(ms: number): void {
    const at = Date.now() + Math.max(0, ms);
    if (this.dueTimer !== null && this.dueAt <= at) return;
    this.clearDue();
    this.dueAt = at;
    this.zone.runOutsideAngular(() => {
      this.dueTimer = setTimeout(
        () => {
          this.dueTimer = null;
          this.dueAt = Infinity;
          this.request();
        },
        Math.max(0, ms),
      );
    });
  }

  private clearDue(): void {
    if (this.dueTimer !== null) clearTimeout(this.dueTimer);
    this.dueTimer = null;
    this.dueAt = Infinity;
  }

  private cancel(): void {
    if (this.frameId !== null) this.document.defaultView?.cancelAnimationFrame(this.frameId);
    this.frameId = null;
  }

  private startIdle(): void {
    if (this.idleTimer !== null) return;
    this.zone.runOutsideAngular(() => {
      this.idleTimer = setInterval(() => this.request(), IDLE_FRAME_MS);
    });
  }

  private stopIdle(): void {
    if (this.idleTimer !== null) clearInterval(this.idleTimer);
    this.idleTimer = null;
  }
}

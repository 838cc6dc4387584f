import { DestroyRef, Injectable, NgZone, inject } from '@angular/core';
import { DOCUMENT } from '@angular/common';

/** Something drawn on a canvas: asked once per frame whether it must redraw. */
export interface Drawable {
  /** Redraw if the data (or the time window) changed since the last draw. */
  frame(now: number): void;
}

/** How often drawables are polled when nothing asks for a frame (keeps time axes moving). */
export const IDLE_FRAME_MS = 1000;

/**
 * One requestAnimationFrame loop for every chart and sparkline: at most one
 * draw per frame, only of drawables whose data changed (each checks its own
 * version counters), outside Angular (the app is zoneless; NgZone is a no-op
 * then, but this stays correct under zone.js). While the page is hidden
 * nothing is drawn; the stores keep ingesting, and the first visible frame
 * catches up.
 */
@Injectable({ providedIn: 'root' })
export class FrameScheduler {
  private readonly zone = inject(NgZone);
  private readonly document = inject(DOCUMENT);
  private readonly drawables = new Set<Drawable>();
  private frameId: number | null = null;
  private idleTimer: ReturnType<typeof setInterval> | null = null;
  /** Frames drawn, for tests and diagnostics. */
  frames = 0;

  constructor() {
    const onVisibility = () => {
      if (!this.document.hidden) this.request();
    };
    this.document.addEventListener('visibilitychange', onVisibility);
    inject(DestroyRef).onDestroy(() => {
      this.document.removeEventListener('visibilitychange', onVisibility);
      this.stopIdle();
      this.cancel();
    });
  }

  register(drawable: Drawable): () => void {
    this.drawables.add(drawable);
    this.startIdle();
    this.request();
    return () => {
      this.drawables.delete(drawable);
      if (this.drawables.size === 0) {
        this.stopIdle();
        this.cancel();
      }
    };
  }

  /** Ask for a frame soon (data arrived). Cheap to call many times. */
  request(): void {
    if (this.frameId !== null || this.drawables.size === 0 || this.document.hidden) return;
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
    for (const drawable of this.drawables) {
      try {
        drawable.frame(now);
      } catch (error) {
        console.error('[frame] draw failed', error);
      }
    }
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

import { Injectable, computed, effect, inject, signal, untracked } from '@angular/core';
import { LiveService } from '../live/live.service';
import { AuthRequestError } from './auth-api';
import { DisplayTokenStore, PAGE_RELOAD } from './display-token';
import { ScreenSelf, ScreensApi } from './screens-api';

/*
 * A paired wall screen's view of itself: its board and scope from `/api/screens/me` (the last
 * one read is remembered with the display token and drawn until the fresh one arrives), read when
 * the wall starts and again whenever the live connection comes back or drops (the gateway cuts
 * a screen's socket when its board or scope changes, or when it is revoked). A 401 means revoked:
 * the display token is dropped and the page reloads to show a new pairing code. It owns that
 * decision; it must not draw (the wall page does) nor keep the token (DisplayTokenStore does).
 */
@Injectable({ providedIn: 'root' })
export class ScreenSession {
  private readonly api = inject(ScreensApi);
  private readonly live = inject(LiveService);
  private readonly token = inject(DisplayTokenStore);
  private readonly reload = inject(PAGE_RELOAD);
  private readonly _self = signal<ScreenSelf | null>(this.token.rememberedBoard());
  /**
   * The screen's name, board and scope: as last read (kept over a reload, so the wall draws its
   * own board at once), replaced by each fresh read; null until first read, or when not a screen.
   */
  readonly self = this._self.asReadonly();
  /** A display token is held but the board is not known yet. */
  readonly pending = computed(() => this.token.token() !== null && this._self() === null);
  private readonly started = signal(false);

  constructor() {
    effect(() => {
      if (!this.started()) return;
      const phase = this.live.connection().phase;
      if (phase === 'connected' || phase === 'reconnecting') untracked(() => void this.refresh());
    });
  }

  /** Begin following `/api/screens/me` (idempotent; nothing without a display token). */
  start(): void {
    if (this.started() || this.token.token() === null) return;
    this.started.set(true);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    if (this.token.token() === null) return;
    try {
      const self = await this.api.me();
      this.token.rememberBoard(self);
      this._self.set(self);
    } catch (error) {
      // Unreachable gateway (restart, network): keep the token and the board, try again later.
      if (error instanceof AuthRequestError && error.status === 401) this.unpair();
    }
  }

  /** Revoked: forget the token and start over at a pairing code. */
  unpair(): void {
    this.token.clear();
    this._self.set(null);
    this.reload();
  }
}

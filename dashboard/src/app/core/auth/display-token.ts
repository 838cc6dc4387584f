import { DOCUMENT } from '@angular/common';
import { Injectable, InjectionToken, inject, signal } from '@angular/core';
import { isScreenSelf, type ScreenSelf } from '@pulse/protocol/core';
import { pageStorage } from '../util/page-storage';

/*
 * The display token of a paired wall screen, kept in this browser's local storage so the wall
 * stays paired across reloads and restarts, and the board last read with it, so a reloaded wall
 * draws its own board from the first frame (and while the gateway is unreachable). It owns those
 * two values and how the token rides on a request (`Authorization`, never the URL); it must not
 * call the server (ScreenSession does).
 */

const STORAGE_KEY = 'pulse.displayToken';
const BOARD_KEY = 'pulse.screenBoard';

/**
 * Reload the page: how a wall switches between its pairing code and its board (a fresh start
 * with or without the token). Injectable so unit specs see it happen.
 */
export const PAGE_RELOAD = new InjectionToken<() => void>('PAGE_RELOAD', {
  providedIn: 'root',
  factory: () => {
    const win = inject(DOCUMENT).defaultView;
    return () => win?.location.reload();
  },
});

@Injectable({ providedIn: 'root' })
export class DisplayTokenStore {
  private readonly storage = pageStorage(inject(DOCUMENT).defaultView);
  private readonly _token = signal<string | null>(this.storage?.getItem(STORAGE_KEY) ?? null);
  /** The stored token, null when this browser is not a paired screen. */
  readonly token = this._token.asReadonly();

  /** A new token (a new pairing): no board is remembered for it yet. */
  set(token: string): void {
    this.storage?.removeItem(BOARD_KEY);
    this.storage?.setItem(STORAGE_KEY, token);
    this._token.set(token);
  }

  /** Unpaired: the token and its board are forgotten. */
  clear(): void {
    this.storage?.removeItem(STORAGE_KEY);
    this.storage?.removeItem(BOARD_KEY);
    this._token.set(null);
  }

  /**
   * The board last read with this token; null when none is held, what is stored is not one, or
   * another tab has paired this browser since (the stored token is no longer this one).
   */
  rememberedBoard(): ScreenSelf | null {
    try {
      if (!this.holdsStoredToken()) return null;
      const value: unknown = JSON.parse(this.storage?.getItem(BOARD_KEY) ?? 'null');
      return isScreenSelf(value) ? value : null;
    } catch {
      return null;
    }
  }

  /**
   * Keep `self` as the board of this token: its id, name, board and groups only (nothing the
   * gateway may add later). Not when another tab has stored another token since: its board would
   * be drawn under that token. A full storage only loses the head start.
   */
  rememberBoard(self: ScreenSelf): void {
    try {
      if (!this.holdsStoredToken()) return;
      const { id, name, board, groups } = self;
      this.storage?.setItem(BOARD_KEY, JSON.stringify({ id, name, board, groups }));
    } catch {
      // Quota or refused storage: the next reload waits for the gateway, as before.
    }
  }

  /** This tab's token is the one in storage (may throw where storage is refused). */
  private holdsStoredToken(): boolean {
    const token = this._token();
    return token !== null && this.storage?.getItem(STORAGE_KEY) === token;
  }

  /** `init` with `Authorization: Bearer <token>` added, when there is a token and none is set. */
  authorize(init: RequestInit | undefined): RequestInit | undefined {
    const token = this._token();
    if (token === null) return init;
    const headers = new Headers(init?.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    return { ...init, headers };
  }
}

import { DOCUMENT } from '@angular/common';
import { Injectable, InjectionToken, inject, signal } from '@angular/core';
import { pageStorage } from '../util/page-storage';

/*
 * The display token of a paired wall screen, kept in this browser's local storage so the wall
 * stays paired across reloads and restarts. It owns that one value and how it rides on a
 * request (`Authorization`, never the URL); it must not call the server (ScreenSession does).
 */

const STORAGE_KEY = 'pulse.displayToken';

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

  set(token: string): void {
    this.storage?.setItem(STORAGE_KEY, token);
    this._token.set(token);
  }

  clear(): void {
    this.storage?.removeItem(STORAGE_KEY);
    this._token.set(null);
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

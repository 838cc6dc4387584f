import { DestroyRef, inject, Signal, signal } from '@angular/core';

/** The dashboard's phone layout (styles.css: every `@media (max-width: 700px)` block). */
export const PHONE_MEDIA = '(max-width: 700px)';

/**
 * Whether the page's viewport matches the CSS media `query` now, following it as the window is
 * resized or the phone turned: for sizes the code must know as the stylesheet does (a virtual
 * list's row height). Call in an injection context; the listener goes with it. False where
 * there is no `matchMedia` (unit tests under jsdom).
 */
export function injectMediaQuery(query: string): Signal<boolean> {
  if (typeof matchMedia !== 'function') return signal(false).asReadonly();
  const list = matchMedia(query);
  const matches = signal(list.matches);
  const change = (event: MediaQueryListEvent) => matches.set(event.matches);
  list.addEventListener('change', change);
  inject(DestroyRef).onDestroy(() => list.removeEventListener('change', change));
  return matches.asReadonly();
}

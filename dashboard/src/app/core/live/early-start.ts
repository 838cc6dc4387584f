/*
 * Whether the live connection may open while the app boots, before `/api/auth/me` answers and the
 * page's guard lets it in (issue 11: the first live tile). A page opens its socket only once its
 * guard, its chunks and its component are through, about a second after navigation; started at
 * boot, the handshake runs beside all that. It is started early only where it will be used: on a
 * page that shows live data (fleet, device, alerts, wall), unless this browser's last `/me` answer
 * (remembered here) did not let it view, which a paired wall screen overrides. So a browser that
 * may not view has at most one handshake refused (its first visit; the guard then closes the
 * connection) and none after. Owns that remembered bit and the decision; must not open sockets
 * (LiveService does) nor route (guards do).
 */

/** localStorage key: '1' when the last `/api/auth/me` answer allowed viewing the fleet, '0' when not. */
export const VIEWED_KEY = 'pulse.mayView';

/** First path segments of the pages that show live data. */
const LIVE_PAGES = new Set(['', 'devices', 'alerts', 'wall']);

/** Remember whether the server's last answer let this browser view (a hint, never a grant). */
export function rememberViewing(storage: Storage | null, mayView: boolean): void {
  try {
    storage?.setItem(VIEWED_KEY, mayView ? '1' : '0');
  } catch {
    // Storage refused (private mode, quota): the page just opens its socket later.
  }
}

/**
 * True when the page at `pathname` will want the live connection and this browser was not refused
 * viewing the last time it asked (or is a paired wall screen): the connection may open at once.
 */
export function mayStartEarly(
  storage: Storage | null,
  pathname: string,
  pairedScreen: boolean,
): boolean {
  const first = pathname.split('/')[1] ?? '';
  if (!LIVE_PAGES.has(first)) return false;
  if (first === 'wall' && pairedScreen) return true;
  try {
    return storage?.getItem(VIEWED_KEY) !== '0';
  } catch {
    return true; // nothing remembered: as on a first visit
  }
}

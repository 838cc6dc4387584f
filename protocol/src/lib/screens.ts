/*
 * The wall-screen contract without zod: pairing bounds, the code alphabet and the shapes of
 * `/api/screens/*`. Part of the zod-free core entry (the dashboard imports it): it must not
 * import zod or any `*.schema.ts` value (request schemas live in `screens.schema.ts`).
 */

export const SCREEN_LIMITS = {
  /** Characters in a pairing code. */
  codeLength: 6,
  /** Pairing code alphabet: no 0/O or 1/I to misread across a room. */
  codeAlphabet: 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789',
  /** A pairing code (and its pairing id) lives this long unless an admin pairs it. */
  pendingTtlMs: 10 * 60_000,
  /**
   * A pairing code (and its pairing id) is dropped once its wall has not polled for it this long
   * (a wall polls every `claimPollMs`, every 5 s after an error; a throttled background tab
   * about once a minute): a code nobody waits for does not hold its place for 10 minutes.
   */
  pendingIdleMs: 90_000,
  /** Codes waiting to be paired, in all (anyone may ask for one; ~0.3 KB each). */
  maxPending: 1_000,
  /** Codes waiting to be paired that one client address may hold. */
  maxPendingPerAddress: 5,
  /** Codes waiting to be paired that one network may hold: an IPv4 /24, an IPv6 /64. */
  maxPendingPerPrefix: 10,
  /**
   * Codes waiting to be paired that one IPv6 site (/48) may hold, however many /64s it holds (a
   * home's /56 has 256): filling `maxPending` takes 20 sites (decision 0061 addendum).
   */
  maxPendingPerSite: 50,
  /** New codes one client address may ask for per window. */
  pairingStartsPerWindow: 20,
  pairingWindowSeconds: 600,
  /** Claim polls one client address may send per minute (a wall polls every 2 s). */
  claimsPerMinute: 120,
  /** How often a waiting wall asks whether it was paired. */
  claimPollMs: 2_000,
  /** Display token lifetime: a year (revocable at any time; pair again after). */
  displayTokenTtlMs: 365 * 86_400_000,
  /** Paired screens in all. */
  maxScreens: 500,
  maxNameLength: 64,
  /** The board: the wall's URL query string (`group=hall-a&cols=3`), stored server-side. */
  maxBoardLength: 2048,
  /** Groups in one screen's scope. */
  maxGroups: 32,
} as const;

/** `POST /api/screens/pairing` (201): the code to show and the id only this wall knows. */
export interface PairingStartResponse {
  /** Opaque; the wall keeps it and presents it to claim (never in a URL). */
  pairingId: string;
  /** What the wall shows in large type and the admin types in. */
  code: string;
  /** Ms since the epoch; ask for a new code after it. */
  expiresAt: number;
  /** How often to poll `claim`. */
  pollMs: number;
}

/** `POST /api/screens/pairing/claim` (200); 404 once the pairing id is unknown or expired. */
export type PairingClaimResponse =
  | { status: 'pending'; expiresAt: number }
  | { status: 'paired'; token: string; screen: ScreenSelf };

/** What a screen knows about itself (`GET /api/screens/me` with its display token). */
export interface ScreenSelf {
  id: string;
  name: string;
  /** The wall's query string (same parameters as `/wall?…`). */
  board: string;
  /** Group scope; null = the whole fleet. */
  groups: string[] | null;
}

/** Whether `value` has a ScreenSelf's shape: how a wall checks the gateway's answer and what it stored. */
export function isScreenSelf(value: unknown): value is ScreenSelf {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof ScreenSelf, unknown>>;
  return (
    typeof v.id === 'string' &&
    typeof v.name === 'string' &&
    typeof v.board === 'string' &&
    (v.groups === null || (Array.isArray(v.groups) && v.groups.every((g) => typeof g === 'string')))
  );
}

/** A paired screen as `GET /api/screens` lists it. */
export interface ScreenInfo extends ScreenSelf {
  createdAt: number;
  createdBy: string;
  /** Display token expiry, ms since the epoch. */
  expiresAt: number;
  /** At least one `/live` socket open with its token. */
  connected: boolean;
  /** Transport of its (first) open socket, null when not connected. */
  transport: 'websocket' | 'polling' | null;
  /** Last connect, disconnect or request seen, ms since the epoch; null before the first. */
  lastSeen: number | null;
  /** `lagged` events sent to it since the gateway started (it fell behind). */
  lagEvents: number;
}

/** `GET /api/screens`. */
export interface ScreenListResponse {
  screens: ScreenInfo[];
}

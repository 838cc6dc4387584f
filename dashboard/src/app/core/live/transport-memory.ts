import type { TransportName } from './live-socket';

/*
 * Which transports the next live connection tries, in what order, and what this browser remembers
 * about WebSocket per gateway origin (issue 12, decision 0020). Pure functions over a Storage the
 * caller hands in (localStorage, or null where the browser refuses it): no Angular, no socket.io,
 * no timers. It must not decide when to connect or fall back (transport-choice.ts does) nor talk
 * to the network.
 */

/** localStorage key of the per-origin records. */
export const TRANSPORT_MEMORY_KEY = 'pulse.transport';
/** Origins kept; the least recently written goes first (a browser that saw many gateways). */
export const MAX_REMEMBERED_ORIGINS = 16;
/**
 * How long a WebSocket-first attempt may go without a connection before long-polling takes over.
 * A WebSocket that works connects in a few round trips; a proxy that holds the upgrade never
 * answers, and socket.io would wait out its 10 s connect timeout. Giving up early is cheap (the
 * polling-first socket that follows probes the upgrade and still ends on the WebSocket) but not
 * free: its first subscriptions wait for the upgrade. On the shared 2-core machine at load 12–17
 * WebSocket connects took up to 0.8 s through the benchmark's proxy; 0.5 s gave up on one in five.
 */
export const WEBSOCKET_GUARD_MS = 1000;

/** What the last connection to an origin learnt about its WebSocket. */
export type WebSocketVerdict = 'worked' | 'blocked';

export interface TransportRecord {
  websocket: WebSocketVerdict;
  /** Client-clock time of the verdict (the oldest record is dropped first). */
  at: number;
}

export interface TransportPlan {
  /** Transports in the order socket.io tries them; the first is the one data flows over first. */
  transports: TransportName[];
  /** Give up on a WebSocket-first attempt after this many ms (null: no guard). */
  guardMs: number | null;
  /** Whether outcomes are written back (not when `?transport=` forces one). */
  remember: boolean;
}

const POLLING_FIRST: TransportName[] = ['polling', 'websocket'];

/**
 * The plan for a page load. `?transport=polling|websocket` forces one transport and learns
 * nothing. A WebSocket blocked last time: long-polling first, which any HTTP path carries, with
 * socket.io probing the upgrade in the background — a blocked origin is tried again on every
 * load without anyone waiting for it. Otherwise (it worked, or a first visit) WebSocket first,
 * guarded: where it works that is the fastest start (long-polling first holds the first
 * subscriptions while it upgrades), and where it is refused socket.io falls back at once.
 */
export function planTransports(
  forced: string | null,
  record: TransportRecord | null,
): TransportPlan {
  if (forced === 'polling' || forced === 'websocket')
    return { transports: [forced], guardMs: null, remember: false };
  if (record?.websocket === 'blocked')
    return { transports: [...POLLING_FIRST], guardMs: null, remember: true };
  return { transports: ['websocket', 'polling'], guardMs: WEBSOCKET_GUARD_MS, remember: true };
}

/** The plan after a WebSocket-first attempt gave up: long-polling now, the upgrade in the background. */
export function fallbackPlan(plan: TransportPlan): TransportPlan {
  return { ...plan, transports: [...POLLING_FIRST], guardMs: null };
}

type Records = Record<string, TransportRecord>;

/** The stored records, or none when storage is missing, refuses, or holds something else. */
function readAll(storage: Storage | null): Records {
  let text: string | null = null;
  try {
    text = storage?.getItem(TRANSPORT_MEMORY_KEY) ?? null;
  } catch {
    return {};
  }
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const records: Records = {};
  for (const [origin, value] of Object.entries(parsed as Record<string, unknown>)) {
    const r = value as Partial<TransportRecord> | null;
    const verdictOk = r?.websocket === 'worked' || r?.websocket === 'blocked';
    if (verdictOk && typeof r?.at === 'number' && Number.isFinite(r.at))
      records[origin] = { websocket: r.websocket as WebSocketVerdict, at: r.at };
  }
  return records;
}

/** What this browser remembers about `origin`'s WebSocket, or null. */
export function readTransportRecord(
  storage: Storage | null,
  origin: string,
): TransportRecord | null {
  return readAll(storage)[origin] ?? null;
}

/**
 * Remember `verdict` for `origin` at `now`, keeping at most MAX_REMEMBERED_ORIGINS origins. A full
 * or refused storage only means nothing is remembered: the next load starts with long-polling.
 */
export function writeTransportRecord(
  storage: Storage | null,
  origin: string,
  verdict: WebSocketVerdict,
  now: number,
): void {
  if (!storage) return;
  const records = readAll(storage);
  records[origin] = { websocket: verdict, at: now };
  const kept = Object.entries(records)
    .sort((a, b) => b[1].at - a[1].at)
    .slice(0, MAX_REMEMBERED_ORIGINS);
  try {
    storage.setItem(TRANSPORT_MEMORY_KEY, JSON.stringify(Object.fromEntries(kept)));
  } catch {
    /* quota or private mode: stay unremembered */
  }
}

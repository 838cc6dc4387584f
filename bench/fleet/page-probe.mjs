// What the browser fleet benchmark measures inside the page, injected before the app
// (playwright addInitScript): socket frames (WebSocket messages and XHR long-polling responses:
// count, bytes, largest, and the arrival time of an expected probe value), a MutationObserver
// that times when an expected value first shows in the DOM text and when tiles first show a
// value and then a changed one (first live tile), and a steady scroller. Owns `window.__fleetBench`
// and the in-page definitions of "arrived", "on screen" and "live"; must not decide goals or
// talk to the backend (stack.mjs, report.mjs do). Everything here runs in the browser.

/**
 * The init script: playwright serialises the function and calls it with `{ probeId }` (the probe
 * device, whose tile alone counts for probe values when the page shows several devices).
 */
export function fleetBenchInit({ probeId }) {
  const now = () => performance.now();
  const fb = (window.__fleetBench = {
    frames: 0,
    bytes: 0,
    maxFrame: 0,
    /** When the largest frame so far arrived (a screen's history comes in its largest). */
    maxFrameMs: null,
    /**
     * The largest frame with points in its history (a subscribe's answer whose `history` is not
     * empty: a window asked in the subscribe; a rooms-only answer, with its device records, is
     * not one), and when it arrived.
     */
    maxHistoryFrame: 0,
    maxHistoryFrameMs: null,
    /** value text → { socketMs, domMs, paintMs } (performance.now(), ms since navigation). */
    probes: new Map(),
    pending: 0,
    firstValueMs: null,
    firstLiveMs: null,
    shown: new Map(),
    live: new Set(),
    observer: null,
  });

  // A frame "arrives" when the browser hands it to the page: our listener is registered in the
  // constructor / open(), before socket.io sets its own handler, so it runs first.
  const onFrame = (data) => {
    const size = typeof data === 'string' ? data.length : (data?.byteLength ?? data?.size ?? 0);
    fb.frames++;
    fb.bytes += size;
    if (size > fb.maxFrame) {
      fb.maxFrame = size;
      fb.maxFrameMs = now();
    }
    if (size > fb.maxHistoryFrame && typeof data === 'string' && data.includes('"history":[{')) {
      fb.maxHistoryFrame = size;
      fb.maxHistoryFrameMs = now();
    }
    if (fb.pending === 0 || typeof data !== 'string') return;
    const t = now();
    for (const [v, e] of fb.probes) if (e.socketMs === null && data.includes(v)) e.socketMs = t;
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => onFrame(e.data));
    }
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (...args) {
    this.addEventListener('readystatechange', () => {
      if (this.readyState === 4 && this.status === 200) onFrame(this.responseText);
    });
    return open.apply(this, args);
  };

  /** Expect `value` (its display text): its socket arrival and DOM appearance are recorded. */
  fb.expect = (value) => {
    fb.probes.set(value, { socketMs: null, domMs: null, paintMs: null });
    fb.pending++;
  };
  fb.results = () => Object.fromEntries(fb.probes);

  const tileKey = (tile) =>
    tile.getAttribute('data-device-id') ?? `metric:${tile.getAttribute('data-metric')}`;
  const placeholder = (text) => !/\d/.test(text);
  const otherDevice = (el) => {
    const tile = el?.closest?.('[data-device-id]');
    return tile ? tile.getAttribute('data-device-id') !== probeId : false;
  };
  const seeProbe = (text, el, t) => {
    for (const [v, e] of fb.probes) {
      if (e.domMs !== null || !text.includes(v) || otherDevice(el)) continue;
      e.domMs = t;
      fb.pending--;
      requestAnimationFrame(() => (e.paintMs = now())); // the frame that paints it
    }
  };
  // A tile's metric value: `.metric-value` on the overview, `.wall-value` on the wall; on the
  // device page each metric's card (`.chart-card`) counts as a tile, its `.latest` the value.
  const VALUE = '.metric-value, .wall-value, .chart-card .latest';
  const tileValue = (valueEl, text, t) => {
    const tile = valueEl.closest('[data-device-id], .chart-card[data-metric]');
    if (!tile) return;
    const id = tileKey(tile);
    const name = valueEl.parentElement?.querySelector('.metric-name')?.textContent ?? '';
    const key = `${id}|${name}`;
    if (placeholder(text)) return;
    const before = fb.shown.get(key);
    fb.shown.set(key, text);
    if (before === undefined) fb.firstValueMs ??= t;
    else if (before !== text) {
      fb.live.add(id);
      fb.firstLiveMs ??= t;
    }
  };
  const onMutations = (records) => {
    const t = now();
    for (const r of records) {
      if (r.type === 'characterData') {
        const el = r.target.parentElement;
        if (fb.pending > 0) seeProbe(r.target.data, el, t);
        const valueEl = el?.closest(VALUE);
        if (valueEl) tileValue(valueEl, valueEl.textContent, t);
        continue;
      }
      for (const n of r.addedNodes) {
        const el = n.nodeType === 1 ? n : n.parentElement;
        if (fb.pending > 0 && n.textContent) seeProbe(n.textContent, el, t);
        if (n.nodeType !== 1) {
          const valueEl = el?.closest(VALUE);
          if (valueEl) tileValue(valueEl, valueEl.textContent, t);
          continue;
        }
        const own = n.matches(VALUE) ? [n] : [];
        for (const v of [...own, ...n.querySelectorAll(VALUE)]) tileValue(v, v.textContent, t);
      }
    }
  };
  const start = () => {
    fb.observer = new MutationObserver(onMutations);
    fb.observer.observe(document, { subtree: true, childList: true, characterData: true });
  };
  start();
  /** Stop observing (the idle and scroll windows are measured without this page-side cost). */
  fb.stop = () => fb.observer?.disconnect();
}

/**
 * In the page: tiles whose box intersects the viewport, how many of them have gone live, and the
 * times so far. Polled by Node until every visible tile is live.
 */
export function readTiles() {
  const fb = window.__fleetBench;
  let visible = 0;
  let live = 0;
  // Tiles, or on the device page its metrics' cards (keyed as fleetBenchInit keys them).
  for (const t of document.querySelectorAll('[data-device-id], .chart-card[data-metric]')) {
    const r = t.getBoundingClientRect();
    if (r.bottom <= 0 || r.top >= innerHeight || r.right <= 0 || r.left >= innerWidth) continue;
    if (r.width === 0 || r.height === 0) continue;
    visible++;
    const key = t.getAttribute('data-device-id') ?? `metric:${t.getAttribute('data-metric')}`;
    if (fb.live.has(key)) live++;
  }
  return {
    visible,
    live,
    firstValueMs: fb.firstValueMs,
    firstLiveMs: fb.firstLiveMs,
    nowMs: performance.now(),
    frames: fb.frames,
    bytes: fb.bytes,
    maxFrame: fb.maxFrame,
    maxFrameMs: fb.maxFrameMs,
  };
}

/**
 * In the page: scroll the page's scroll container at `pxPerS`, time-based so the speed does not
 * depend on the frame rate, wrapping to the top at the end. The container: the CDK viewport if
 * there is one, else the document if it scrolls, else the tallest scrollable element.
 */
export function startScroll(pxPerS) {
  const scrolls = (e) =>
    e.scrollHeight > e.clientHeight + 50 && /(auto|scroll)/.test(getComputedStyle(e).overflowY);
  const doc = document.scrollingElement;
  let el = document.querySelector('cdk-virtual-scroll-viewport');
  if (!el || !scrolls(el)) el = doc.scrollHeight > innerHeight + 50 ? doc : null;
  if (!el)
    el = [...document.querySelectorAll('*')]
      .filter(scrolls)
      .sort((a, b) => b.clientHeight - a.clientHeight)[0];
  const s = (window.__fleetScroll = { on: true, px: 0, wraps: 0, scroller: el?.localName ?? null });
  if (!el) return s.scroller;
  let t0 = performance.now();
  let from = el.scrollTop;
  const step = (t) => {
    if (!s.on) return;
    const max = el.scrollHeight - el.clientHeight;
    let pos = from + (pxPerS * (t - t0)) / 1000;
    if (pos >= max) {
      s.px += max - from;
      s.wraps++;
      from = 0;
      t0 = t;
      pos = 0;
    }
    el.scrollTop = pos;
    s.at = pos - from;
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
  return s.scroller;
}

/** In the page: stop the scroller; the distance travelled in px. */
export function stopScroll() {
  const s = window.__fleetScroll;
  if (!s) return 0;
  s.on = false;
  return s.px + (s.at ?? 0);
}

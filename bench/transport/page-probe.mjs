// What the transport benchmark reads inside the page, injected before the app on every navigation
// (playwright addInitScript, so a reload is observed afresh): when live data is first on screen,
// that is a value in a tile (a `.metric-value` / `.wall-value` holding digits) while the
// connection indicator says connected (the overview's first values come over HTTP with the page
// of the fleet, before the live connection is up: a value alone is not live data), and the
// indicator's phase and transport over time (`.conn` data-phase / data-transport). Owns
// `window.__transportBench` and the in-page definition of "first live data on screen"; must not
// judge, nor talk to the backend. Runs in the browser.

/** The init script (serialised by playwright). Times are the page's performance.now(): ms since navigation start. */
export function transportBenchInit() {
  const tb = (window.__transportBench = { firstValueMs: null, timeline: [], observer: null });
  const VALUE = '.metric-value, .wall-value';
  let phase = null;
  let transport = null;
  const look = () => {
    const t = performance.now();
    const conn = document.querySelector('.conn');
    if (conn) {
      const p = conn.getAttribute('data-phase');
      const tr = conn.getAttribute('data-transport');
      if (p !== phase || tr !== transport) {
        phase = p;
        transport = tr;
        tb.timeline.push({ t, phase, transport });
      }
    }
    if (tb.firstValueMs !== null || phase !== 'connected') return;
    for (const el of document.querySelectorAll(VALUE))
      if (/\d/.test(el.textContent ?? '')) {
        tb.firstValueMs = t;
        tb.transportAtFirstValue = transport;
        return;
      }
  };
  tb.observer = new MutationObserver(look);
  tb.observer.observe(document, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ['data-phase', 'data-transport'],
  });
}

/** In the page: what has been seen so far, and the transport the indicator shows now. */
export function readTransportBench() {
  const tb = window.__transportBench;
  const conn = document.querySelector('.conn');
  return {
    firstValueMs: tb?.firstValueMs ?? null,
    transportAtFirstValue: tb?.transportAtFirstValue ?? null,
    timeline: tb?.timeline ?? [],
    phase: conn?.getAttribute('data-phase') ?? null,
    transport: conn?.getAttribute('data-transport') ?? null,
    nowMs: performance.now(),
  };
}

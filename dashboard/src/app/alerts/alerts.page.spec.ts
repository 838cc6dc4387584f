import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { By } from '@angular/platform-browser';
import { CdkVirtualScrollViewport } from '@angular/cdk/scrolling';
import { AlertRulesService } from '../core/http/alert-rules.service';
import { FETCH } from '../core/http/alerts-api';
import type { DeviceInfo } from '@pulse/protocol/core';
import type { FakeLiveSocket } from '../testing/fake-live-socket';
import { alertEvent } from '../testing/alerts';
import {
  T0,
  connectLive,
  provideFakeLive,
  renderWithFakeTime,
  routeWithQuery,
  useFakeClock,
} from '../testing/testbed';
import { AlertsPage, HISTORY_TYPING_MS, NAMED_DEVICES } from './alerts.page';

function setup(
  answer: (url: string) => { status: number; body: unknown },
  query?: Record<string, string>,
) {
  const urls: string[] = [];
  const fetchFake = jest.fn(async (input: RequestInfo | URL) => {
    const url = String(input);
    urls.push(url);
    const { status, body } = answer(url);
    return { ok: status < 400, status, json: async () => body } as Response;
  });
  const socket = provideFakeLive([
    provideRouter([]),
    ...(query ? [routeWithQuery(query)] : []),
    { provide: FETCH, useValue: fetchFake },
  ]);
  connectLive(socket);
  return { urls, socket };
}

/** A device record as the gateway acknowledges a subscribe with it. */
const info = (deviceId: string, name: string): DeviceInfo => ({
  deviceId,
  status: 'online',
  lastSeen: T0,
  lastTs: T0,
  meta: { name },
  metrics: [],
});

/** Play the gateway answering every subscribe not answered yet with the records of `devices`. */
function answerSubscribes(socket: () => FakeLiveSocket, devices: DeviceInfo[]): void {
  for (const s of socket().subscribes.splice(0))
    s.reply({
      ok: true,
      serverTime: Date.now(),
      devices: devices.filter((d) => s.request.devices?.includes(d.deviceId)),
      history: [],
      rooms: [],
    });
}

/** Four alerts of four devices; two of them named "Env …". */
const NAMED = [
  info('sim-001', 'Env sensor'),
  info('sim-002', 'Hall B'),
  info('sim-003', 'Env probe'),
  info('sim-004', 'Pump 7'),
];
const NAMED_ALERTS = NAMED.map((d, i) => alertEvent({ id: `n${i + 1}`, deviceId: d.deviceId }));

describe('AlertsPage', () => {
  useFakeClock();
  // jsdom has no layout: give the window (the scroller the alerts page uses) a screen's height.
  beforeAll(() =>
    Object.defineProperty(document.documentElement, 'clientHeight', {
      configurable: true,
      value: 900,
    }),
  );
  afterAll(() => delete (document.documentElement as { clientHeight?: number }).clientHeight);

  async function render() {
    const { fixture, el, settle: pass } = renderWithFakeTime(AlertsPage, 3);
    const settle = async (ms = 0) => {
      await pass(ms);
      // The viewport measures the window once rendered; ask again now that rows exist.
      for (const v of fixture.debugElement.queryAll(By.directive(CdkVirtualScrollViewport)))
        (v.componentInstance as CdkVirtualScrollViewport).checkViewportSize();
      await pass();
    };
    await settle();
    const rowIds = () =>
      [...el.querySelectorAll('[data-alert-id]')].map((r) => r.getAttribute('data-alert-id'));
    const click = async (selector: string) => {
      (el.querySelector(selector) as HTMLElement).click();
      await settle();
    };
    const type = async (testid: string, value: string) => {
      const input = el.querySelector(`[data-testid=${testid}]`) as HTMLInputElement;
      input.value = value;
      input.dispatchEvent(new Event(input.tagName === 'SELECT' ? 'change' : 'input'));
      await settle();
    };
    return { fixture, el, settle, rowIds, click, type };
  }

  it('lists the active alerts, and watches the devices on screen (no history) for display names', async () => {
    const { socket } = setup(() => ({ status: 200, body: { events: [] } }));
    const { el, settle, rowIds } = await render();
    expect(el.textContent).toContain('Waiting for the gateway');
    socket().server.alerts([
      alertEvent({ id: 'a', deviceId: 'd2' }),
      alertEvent({ id: 'b', deviceId: 'd1', severity: 'minor' }),
    ]);
    await settle(500);
    expect(rowIds()).toEqual(['a', 'b']);
    expect(socket().subscribes.at(-1)?.request).toMatchObject({
      devices: ['d1', 'd2'],
      history: false,
    });
  });

  it('filters by part of a device name opened from a link, though no row was on screen to name it', async () => {
    const { socket } = setup(() => ({ status: 200, body: { events: [] } }), { device: 'env' });
    const { el, settle, rowIds } = await render();
    socket().server.alerts(NAMED_ALERTS);
    await settle(500);
    expect(rowIds()).toEqual([]); // names not known yet: ids do not match "env"
    answerSubscribes(socket, NAMED);
    await settle(500);
    expect(rowIds().sort()).toEqual(['n1', 'n3']);
    expect(el.querySelector('[data-testid=alert-shown]')?.textContent).toContain('2 / 4');
  });

  it('counts a cleared alert nobody acknowledged apart from its severity, lists it after the alerts on, muted, to acknowledge', async () => {
    const { socket } = setup(() => ({ status: 200, body: { events: [] } }));
    const { el, settle, rowIds, click } = await render();
    socket().server.alerts([
      alertEvent({ id: 'gone', deviceId: 'd1', state: 'cleared', clearedAt: T0 }),
      alertEvent({ id: 'on', deviceId: 'd2', severity: 'minor' }),
    ]);
    await settle(500);
    const strip = el.querySelector('[data-testid=strip-critical]') as HTMLElement;
    expect(strip.dataset).toMatchObject({ count: '0', cleared: '1' });
    expect(strip.textContent?.replace(/\s+/g, ' ').trim()).toBe('0 critical +1 cleared');
    expect(strip.classList).toContain('cleared-only'); // no severity colour, not dimmed away
    expect(strip.classList).not.toContain('zero');
    expect(el.querySelector('[data-testid=active-total]')?.textContent).toBe('2');
    expect(rowIds()).toEqual(['on', 'gone']);
    const row = el.querySelector('[data-alert-id=gone]') as HTMLElement;
    expect(row.classList).toContain('cleared');
    expect(row.querySelector('.sev-pill')?.classList).toContain('sev-cleared');
    expect(row.querySelector('[data-testid=ack-sign-in]')).not.toBeNull(); // still to acknowledge
    // The severity's toggle shows it, with the severity's alerts on (none here).
    await click('[data-testid=strip-critical]');
    expect(rowIds()).toEqual(['gone']);
    await click('[data-testid=strip-critical]');
    await click('[data-testid=group-by-rule]');
    const pill = el.querySelector('[data-testid=rule-heading] .sev-pill');
    expect(pill?.textContent).toBe('minor'); // one rule, its alert on gives the severity
  });

  it('keeps a storm of 5,000 usable: counts per severity, rows on screen only, grouping, filter and sort over all', async () => {
    const { socket } = setup(() => ({ status: 200, body: { events: [] } }));
    const { el, settle, rowIds, click, type } = await render();
    const severities = ['critical', 'major', 'warning'] as const;
    socket().server.alerts(
      Array.from({ length: 5000 }, (_, i) =>
        alertEvent({
          id: `s${String(i).padStart(4, '0')}`,
          deviceId: `sim-${String(i).padStart(4, '0')}`,
          ruleId: i < 4000 ? 'hot' : 'volt',
          ruleName: i < 4000 ? 'Overheating' : 'Voltage low',
          severity: severities[i % 3],
          raisedAt: T0 - 60_000 + i,
        }),
      ),
    );
    await settle();
    const count = (testid: string) =>
      el.querySelector(`[data-testid=${testid}]`)?.getAttribute('data-count');
    expect(el.querySelector('[data-testid=active-total]')?.textContent).toBe('5000');
    expect([count('strip-critical'), count('strip-major'), count('strip-minor')]).toEqual([
      '1667',
      '1667',
      '0',
    ]);
    expect(count('strip-unacknowledged')).toBe('5000');
    // 900 px of window at 64 px a row, plus CDK's buffer: a few dozen rows, never 5,000.
    const rendered = rowIds().length;
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(40);
    expect(rowIds()[0]).toBe('s4998'); // most severe, newest first
    // Names: the devices of the rows on screen first, then of the rest of the list, bounded:
    // not the storm's 5,000 in one subscribe.
    await settle(500);
    const watched = socket().subscribes.at(-1)?.request.devices ?? [];
    expect(watched.slice(0, rendered)).toContain('sim-4998');
    expect(watched.length).toBe(NAMED_DEVICES);

    await type('alert-sort', 'device');
    expect(rowIds()[0]).toBe('s0000');

    await type('filter-device', 'sim-012');
    expect(el.querySelector('[data-testid=alert-shown]')?.textContent).toContain('10 / 5000');
    expect(rowIds()).toEqual(Array.from({ length: 10 }, (_, i) => `s012${i}`));
    await type('filter-device', '');

    // A click on a count filters by it; the strip keeps counting the whole list.
    await click('[data-testid=strip-warning]');
    expect(el.querySelector('[data-testid=alert-shown]')?.textContent).toContain('1666 / 5000');
    expect(count('strip-critical')).toBe('1667');
    await click('[data-testid=strip-warning]');

    await click('[data-testid=group-by-rule]');
    const headings = () =>
      [...el.querySelectorAll('[data-testid=rule-heading]')].map(
        (h) => `${h.getAttribute('data-rule-id')}:${h.getAttribute('data-count')}`,
      );
    expect(headings()).toEqual(['hot:4000', 'volt:1000']);
    expect(rowIds()).toEqual([]);
    await click('[data-testid=rule-heading][data-rule-id=volt]');
    expect(headings()).toEqual(['hot:4000', 'volt:1000']);
    expect(rowIds().length).toBeGreaterThan(10);
    expect(rowIds().length).toBeLessThan(40);
    expect(rowIds().every((id) => Number(id?.slice(1)) >= 4000)).toBe(true);
  }, 20_000);

  it('pages the history as the user scrolls near the end, and shows HTTP errors', async () => {
    let fail = false;
    const page = (to: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        alertEvent({ id: `h${to - i}`, state: 'cleared', updatedAt: to - i }),
      );
    const { urls } = setup((url) => {
      if (fail) return { status: 400, body: { message: ['severity: Invalid option'] } };
      const to = Number(new URL(url, 'http://x').searchParams.get('to') ?? T0);
      // 500 a page, 700 in all: the second page is short (the end of what the gateway keeps).
      return { status: 200, body: { events: page(to, to === T0 ? 500 : 201) } };
    });
    const historyUrls = () => urls.filter((u) => u.startsWith('/api/alerts/history'));
    const { el, settle, rowIds, type } = await render();
    (el.querySelector('[data-testid=tab-history]') as HTMLButtonElement).click();
    await settle();
    expect(historyUrls().at(-1)).toBe('/api/alerts/history?limit=500');
    expect(el.querySelector('[data-alert-id=h' + T0 + ']')?.getAttribute('data-state')).toBe(
      'cleared',
    );
    expect(el.querySelector('[data-testid=ack]')).toBeNull();
    expect(rowIds().length).toBeLessThan(40);
    expect(el.querySelector('[data-testid=history-status]')?.textContent).toContain(
      '500 events so far',
    );

    // Scroll the window to row 460 of 500: the next page is asked for, older than the last.
    const root = document.documentElement;
    Object.defineProperty(root, 'scrollTop', { configurable: true, value: 460 * 64 });
    document.dispatchEvent(new Event('scroll'));
    await settle(50);
    await settle(50);
    delete (root as { scrollTop?: number }).scrollTop;
    expect(historyUrls().at(-1)).toBe(`/api/alerts/history?to=${T0 - 499}&limit=500`);
    // The page boundary repeats the event at \`to\`: kept once.
    expect(el.querySelector('[data-testid=history-status]')?.textContent).toContain(
      '700 events: the whole history',
    );

    await type('filter-severity', 'critical');
    await type('filter-state', 'raised');
    await type('filter-device', 'sim-001');
    await settle(HISTORY_TYPING_MS);
    expect(historyUrls().at(-1)).toBe(
      '/api/alerts/history?device=sim-001&severity=critical&state=raised&limit=500',
    );

    fail = true;
    (el.querySelector('[data-testid=history-reload]') as HTMLButtonElement).click();
    await settle();
    expect(el.querySelector('.alert-error')?.textContent).toContain(
      'HTTP 400 — severity: Invalid option',
    );
  });

  it.each([
    ['a page between good ones', 3],
    ['the first page', 2],
  ])(
    'pages on past %s the dashboard dropped whole (every event malformed): the gateway said there was more',
    async (_, pages) => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      // Newest first, 500 a page: [500 good,] 500 malformed (a severity of a newer gateway's, say),
      // then 100 good, the end. Each page starts at the last one's oldest event (the gateway's `to`).
      const starts = pages === 3 ? [T0, T0 - 499, T0 - 998] : [T0, T0 - 499];
      const { urls } = setup((url) => {
        const to = Number(new URL(url, 'http://x').searchParams.get('to') ?? T0);
        const n = starts.indexOf(to);
        const count = n === pages - 1 ? 100 : 500;
        const malformed = n === pages - 2;
        const events = Array.from({ length: count }, (_, i) =>
          alertEvent({
            id: `h${to - i}`,
            state: 'cleared',
            updatedAt: to - i,
            ...(malformed ? { severity: 'dire' as never } : {}),
          }),
        );
        return { status: 200, body: { events } };
      });
      const historyUrls = () => urls.filter((u) => u.startsWith('/api/alerts/history'));
      const { el, settle } = await render();
      const status = () =>
        el.querySelector('[data-testid=history-status]')?.textContent?.replace(/\s+/g, ' ');
      (el.querySelector('[data-testid=tab-history]') as HTMLButtonElement).click();
      await settle();
      const root = document.documentElement;
      try {
        if (pages === 3) {
          Object.defineProperty(root, 'scrollTop', { configurable: true, value: 460 * 64 });
          document.dispatchEvent(new Event('scroll'));
        }
        for (let i = 0; i < 4; i++) await settle(50);
      } finally {
        delete (root as { scrollTop?: number }).scrollTop;
        warn.mockRestore();
      }
      expect(historyUrls()).toEqual(
        starts.map((to) => `/api/alerts/history?${to === T0 ? '' : `to=${to}&`}limit=500`),
      );
      const shown = pages === 3 ? 600 : 100;
      expect(status()).toContain(`${shown} events: the whole history the gateway keeps`);
      expect(status()).toContain('500 unreadable events left out');
    },
  );

  it('History reads every device the filter names, matched by the gateway, and one device by its exact id', async () => {
    const { urls, socket } = setup(
      () => ({ status: 200, body: { events: [alertEvent({ id: 'h1', deviceId: 'sim-001' })] } }),
      { tab: 'history', device: 'Env sensor' },
    );
    const historyUrls = () => urls.filter((u) => u.startsWith('/api/alerts/history'));
    const { el, settle, rowIds, type } = await render();
    const note = () => el.querySelector('[data-testid=history-device]')?.textContent ?? '';
    socket().server.alerts(NAMED_ALERTS);
    await settle(500);
    // Asked at once, before the browser knows any device by that name: the gateway does.
    expect(historyUrls()).toEqual(['/api/alerts/history?device=Env+sensor&limit=500']);
    expect(note()).toContain('the devices whose id or name contains “Env sensor”');
    expect(rowIds()).toEqual(['h1']);
    answerSubscribes(socket, NAMED);
    await settle(500);
    // A name arriving changes nothing asked.
    expect(historyUrls()).toHaveLength(1);

    // Typed letter by letter: one read, after the pause.
    for (const text of ['e', 'en', 'env']) await type('filter-device', text);
    expect(historyUrls()).toHaveLength(1);
    await settle(HISTORY_TYPING_MS);
    expect(historyUrls()).toEqual([
      '/api/alerts/history?device=Env+sensor&limit=500',
      '/api/alerts/history?device=env&limit=500',
    ]);
    // An exact id is sent as text too: the gateway reads it as that device alone (0055).
    await type('filter-device', 'sim-001');
    await settle(HISTORY_TYPING_MS);
    expect(historyUrls().at(-1)).toBe('/api/alerts/history?device=sim-001&limit=500');
    expect(note()).toContain('History of Env sensor (sim-001).');
  });

  it('History shows a refused read', async () => {
    const { urls, socket } = setup(() => ({
      status: 400,
      body: { message: ['device: Too long'] },
    }));
    const historyUrls = () => urls.filter((u) => u.startsWith('/api/alerts/history'));
    const { el, settle, rowIds, click, type } = await render();
    socket().server.alerts(NAMED_ALERTS);
    await settle(500);
    await click('[data-testid=tab-history]');
    await type('filter-device', 'pump-7');
    await settle(HISTORY_TYPING_MS);
    expect(historyUrls().at(-1)).toBe('/api/alerts/history?device=pump-7&limit=500');
    expect(rowIds()).toEqual([]);
    expect(el.querySelector('.alert-error')?.textContent).toContain('device: Too long');
  });

  it('History names the devices of its events when opened directly, with no active alert of theirs', async () => {
    const { socket } = setup(
      () => ({ status: 200, body: { events: [alertEvent({ id: 'h1', deviceId: 'sim-011' })] } }),
      { tab: 'history' },
    );
    const { el, settle } = await render();
    socket().server.alerts([]);
    await settle(500);
    const device = () => el.querySelector('[data-alert-id=h1] .alert-device')?.textContent?.trim();
    expect(device()).toBe('sim-011');
    answerSubscribes(socket, [info('sim-011', 'Boiler room')]);
    await settle(500);
    expect(device()).toBe('Boiler room');
  });

  it('says why the history is empty when its read failed, not that no events match', async () => {
    setup(() => ({ status: 429, body: { message: 'too many history reads' } }));
    const { el, settle } = await render();
    (el.querySelector('[data-testid=tab-history]') as HTMLButtonElement).click();
    await settle();
    expect(el.querySelector('.alert-error')?.textContent).toContain('too many history reads');
    expect(el.querySelector('[data-testid=history-status]')?.textContent).not.toContain(
      'No events match',
    );
  });

  it('does not ask for the next page on every scroll event after a refused read', async () => {
    let fail = false;
    const { urls } = setup(() => {
      if (fail) return { status: 429, body: { message: 'too many history reads' } };
      return {
        status: 200,
        body: {
          events: Array.from({ length: 500 }, (_, i) =>
            alertEvent({ id: `h${i}`, state: 'cleared', updatedAt: T0 - i }),
          ),
        },
      };
    });
    const historyUrls = () => urls.filter((u) => u.startsWith('/api/alerts/history'));
    const { el, settle } = await render();
    (el.querySelector('[data-testid=tab-history]') as HTMLButtonElement).click();
    await settle();
    expect(historyUrls()).toHaveLength(1);
    fail = true;
    const root = document.documentElement;
    const scrollTo = async (row: number) => {
      Object.defineProperty(root, 'scrollTop', { configurable: true, value: row * 64 });
      document.dispatchEvent(new Event('scroll'));
      await settle(50);
      await settle(50);
    };
    try {
      await scrollTo(460);
      expect(historyUrls()).toHaveLength(2); // refused
      await scrollTo(462);
      await scrollTo(465);
      expect(historyUrls()).toHaveLength(2); // not asked again at once
    } finally {
      delete (root as { scrollTop?: number }).scrollTop;
    }
  });
});

describe('AlertRulesService', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('fetches the rules once, again after a reconnect, and when an alert names an unknown rule', async () => {
    jest.useFakeTimers({ now: T0 });
    try {
      const { urls, socket } = setup(() => ({
        status: 200,
        body: {
          rules: [
            {
              id: 'known',
              kind: 'offline',
              severity: 'critical',
              scope: { all: true },
              enabled: true,
              forMs: 0,
            },
          ],
        },
      }));
      const sut = TestBed.inject(AlertRulesService);
      sut.ensureLoaded();
      sut.ensureLoaded();
      await jest.advanceTimersByTimeAsync(0);
      TestBed.tick();
      await jest.advanceTimersByTimeAsync(0);
      const rulesCalls = () => urls.filter((u) => u === '/api/alert-rules').length;
      const first = rulesCalls();
      expect(first).toBeGreaterThanOrEqual(1);
      expect(sut.rules().map((r) => r.id)).toEqual(['known']);

      socket().server.alert(alertEvent({ ruleId: 'known' }));
      TestBed.tick();
      await jest.advanceTimersByTimeAsync(0);
      expect(rulesCalls()).toBe(first);

      await jest.advanceTimersByTimeAsync(10_000);
      socket().server.alert(alertEvent({ ruleId: 'created-over-http' }));
      TestBed.tick();
      await jest.advanceTimersByTimeAsync(0);
      expect(rulesCalls()).toBe(first + 1);

      socket().server.disconnected('transport close');
      TestBed.tick();
      await jest.advanceTimersByTimeAsync(750);
      socket().server.connected('websocket');
      TestBed.tick();
      await jest.advanceTimersByTimeAsync(0);
      expect(rulesCalls()).toBe(first + 2);
    } finally {
      jest.useRealTimers();
    }
  });
});

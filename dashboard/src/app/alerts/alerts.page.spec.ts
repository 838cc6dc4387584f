import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { AlertRulesService } from '../core/http/alert-rules.service';
import { FETCH } from '../core/http/alerts-api';
import { alertEvent } from '../testing/alerts';
import {
  T0,
  connectLive,
  provideFakeLive,
  renderWithFakeTime,
  useFakeClock,
} from '../testing/testbed';
import { AlertsPage } from './alerts.page';

function setup(answer: (url: string) => { status: number; body: unknown }) {
  const urls: string[] = [];
  const fetchFake = jest.fn(async (input: RequestInfo | URL) => {
    const url = String(input);
    urls.push(url);
    const { status, body } = answer(url);
    return { ok: status < 400, status, json: async () => body } as Response;
  });
  const socket = provideFakeLive([provideRouter([]), { provide: FETCH, useValue: fetchFake }]);
  connectLive(socket);
  return { urls, socket };
}

describe('AlertsPage', () => {
  useFakeClock();

  async function render() {
    const { el, settle } = renderWithFakeTime(AlertsPage, 3);
    await settle();
    return { el, settle };
  }

  it('lists the active alerts, and watches their devices (no history) for display names', async () => {
    const { socket } = setup(() => ({ status: 200, body: { events: [] } }));
    const { el, settle } = await render();
    expect(el.textContent).toContain('Waiting for the gateway');
    socket().server.alerts([
      alertEvent({ id: 'a', deviceId: 'd2' }),
      alertEvent({ id: 'b', deviceId: 'd1', severity: 'minor' }),
    ]);
    await settle();
    expect(
      [...el.querySelectorAll('[data-alert-id]')].map((r) => r.getAttribute('data-alert-id')),
    ).toEqual(['a', 'b']);
    expect(socket().subscribes.at(-1)?.request).toMatchObject({
      devices: ['d1', 'd2'],
      history: false,
    });
  });

  it('loads the history with the filters and shows HTTP errors', async () => {
    let fail = false;
    const { urls } = setup(() =>
      fail
        ? { status: 400, body: { message: ['severity: Invalid option'] } }
        : { status: 200, body: { events: [alertEvent({ id: 'h1', state: 'cleared' })] } },
    );
    const { el, settle } = await render();
    (el.querySelector('[data-testid=tab-history]') as HTMLButtonElement).click();
    await settle();
    expect(urls.at(-1)).toBe('/api/alerts/history?limit=200');
    expect(el.querySelector('[data-alert-id=h1]')?.getAttribute('data-state')).toBe('cleared');
    expect(el.querySelector('[data-alert-id=h1] [data-testid=ack]')).toBeNull();

    const select = (testid: string, value: string) => {
      const input = el.querySelector(`[data-testid=${testid}]`) as HTMLSelectElement;
      input.value = value;
      input.dispatchEvent(new Event('change'));
    };
    select('filter-severity', 'critical');
    await settle();
    select('filter-state', 'raised');
    await settle();
    expect(urls.at(-1)).toBe('/api/alerts/history?severity=critical&state=raised&limit=200');

    fail = true;
    (el.querySelector('.alerts-toolbar button.btn') as HTMLButtonElement).click();
    await settle();
    expect(el.querySelector('.alert-error')?.textContent).toContain(
      'HTTP 400 — severity: Invalid option',
    );
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

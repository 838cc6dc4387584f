import { CdkVirtualScrollViewport } from '@angular/cdk/scrolling';
import { TestBed } from '@angular/core/testing';
import { By } from '@angular/platform-browser';
import { Router, provideRouter, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { FETCH } from '../core/http/alerts-api';
import { alertEvent } from '../testing/alerts';
import { connectLive, provideFakeLive, useFakeClock } from '../testing/testbed';
import { AlertsPage } from './alerts.page';

describe('AlertsPage URL (tab, filters, sort and grouping in the query parameters)', () => {
  useFakeClock();

  async function open(url: string) {
    /** The gateway's URLs asked for, in order. */
    const asked: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => {
      asked.push(String(input));
      return { ok: true, status: 200, json: async () => ({ events: [], rules: [] }) };
    }) as unknown as typeof globalThis.fetch;
    const socket = provideFakeLive([
      provideRouter([{ path: 'alerts', component: AlertsPage }], withComponentInputBinding()),
      { provide: FETCH, useValue: fetch },
    ]);
    connectLive(socket);
    const harness = await RouterTestingHarness.create(url);
    const router = TestBed.inject(Router);
    const el = harness.routeNativeElement as HTMLElement;
    const settle = async () => {
      await jest.advanceTimersByTimeAsync(10);
      harness.detectChanges();
    };
    const tab = () =>
      el.querySelector('[role=tab][aria-selected=true]')?.getAttribute('data-testid');
    const click = async (testid: string) => {
      (el.querySelector(`[data-testid=${testid}]`) as HTMLElement).click();
      await settle();
    };
    /** The control `testid`, or null while the page does not show it. */
    const find = <T extends HTMLElement>(testid: string) =>
      el.querySelector<T>(`[data-testid=${testid}]`);
    /** The control `testid`, which the page shows. */
    const control = <T extends HTMLElement>(testid: string) => {
      const found = find<T>(testid);
      if (!found) throw new Error(`no [data-testid=${testid}] on the page`);
      return found;
    };
    /** Type into the device filter, choose in a menu, tick the grouping, as a user does. */
    const set = async (testid: string, value: string | boolean) => {
      const input = control<HTMLInputElement>(testid);
      if (typeof value === 'boolean') input.checked = value;
      else input.value = value;
      input.dispatchEvent(new Event(input.type === 'search' ? 'input' : 'change'));
      await settle();
    };
    /** What the filters, sort and grouping show (the ack filter: the strip's pressed toggle). */
    const controls = () => ({
      device: control<HTMLInputElement>('filter-device').value,
      severity: control<HTMLSelectElement>('filter-severity').value,
      state: control<HTMLSelectElement>('filter-state').value,
      ack:
        el
          .querySelector('[data-testid^=strip-][aria-pressed=true][class*=ack-]')
          ?.getAttribute('data-testid')
          ?.slice('strip-'.length) ?? '',
      sort: find<HTMLSelectElement>('alert-sort')?.value,
      grouped: find<HTMLInputElement>('group-by-rule')?.checked,
    });
    /** The URL's query parameters. */
    const query = () => Object.fromEntries(new URL(router.url, 'http://pulse.test').searchParams);
    return { harness, router, el, socket, asked, settle, tab, click, set, controls, query };
  }

  /** Three active alerts: one matches device d1, critical, raised and unacknowledged. */
  const ALERTS = [
    alertEvent({ id: 'a', deviceId: 'd1', severity: 'critical' }),
    alertEvent({ id: 'b', deviceId: 'd1', severity: 'major' }),
    alertEvent({ id: 'c', deviceId: 'd2', severity: 'critical' }),
  ];
  const shown = (el: HTMLElement) =>
    el.querySelector('[data-testid=alert-shown]')?.textContent?.trim();

  it('puts the History tab into the URL, the Active one (the default) out, keeping the other parameters', async () => {
    const { router, tab, click } = await open('/alerts?device=d1');
    const entries = window.history.length;
    expect(tab()).toBe('tab-active');
    await click('tab-history');
    expect(tab()).toBe('tab-history');
    expect(router.url).toBe('/alerts?device=d1&tab=history');
    await click('tab-active');
    expect(tab()).toBe('tab-active');
    expect(router.url).toBe('/alerts?device=d1');
    expect(window.history.length).toBe(entries);
  });

  it('opens on the tab of its URL', async () => {
    const { tab, el } = await open('/alerts?tab=history');
    expect(tab()).toBe('tab-history');
    expect(el.querySelector('app-alert-history')).not.toBeNull();
  });

  it('opens on the Active tab where its URL names none it has', async () => {
    const { tab, router } = await open('/alerts?tab=archive');
    expect(tab()).toBe('tab-active');
    expect(router.url).toBe('/alerts?tab=archive');
  });

  it('keeps the device filter typed when the tab changes (not the one of the URL)', async () => {
    const { el, settle, click } = await open('/alerts?device=d1');
    const device = el.querySelector('[data-testid=filter-device]') as HTMLInputElement;
    expect(device.value).toBe('d1');
    device.value = 'd2';
    device.dispatchEvent(new Event('input'));
    await settle();
    await click('tab-history');
    await click('tab-active');
    expect(device.value).toBe('d2');
  });

  it('follows a link to the alerts page (the header’s: the Active tab)', async () => {
    const { router, tab, settle } = await open('/alerts?tab=history');
    await router.navigateByUrl('/alerts');
    await settle();
    expect(tab()).toBe('tab-active');
  });

  it('puts the device typed, severity, state, acknowledgement, sort and grouping into the URL, replacing the entry', async () => {
    const page = await open('/alerts?device=d1&transport=polling');
    const entries = window.history.length;
    // Typing in the device filter replaces the device of the link (a reload keeps what was typed).
    await page.set('filter-device', 'Boiler 3');
    expect(page.query()).toEqual({ device: 'Boiler 3', transport: 'polling' });
    await page.set('filter-severity', 'critical');
    await page.set('filter-state', 'flapping');
    await page.click('strip-unacknowledged');
    await page.set('alert-sort', 'newest');
    await page.set('group-by-rule', true);
    expect(page.query()).toEqual({
      device: 'Boiler 3',
      transport: 'polling',
      severity: 'critical',
      state: 'flapping',
      ack: 'unacknowledged',
      sort: 'newest',
      grouped: 'true',
    });

    // Back to the defaults: only the other parameters are left.
    await page.set('filter-device', '');
    await page.set('filter-severity', '');
    await page.set('filter-state', '');
    await page.click('strip-unacknowledged');
    await page.set('alert-sort', 'severity');
    await page.set('group-by-rule', false);
    expect(page.router.url).toBe('/alerts?transport=polling');
    expect(window.history.length).toBe(entries);
  });

  it('opens on the filters, sort and grouping of its URL (a reload, a shared link)', async () => {
    const url =
      '/alerts?device=d1&severity=critical&state=raised&ack=unacknowledged&sort=device&grouped=true';
    const page = await open(url);
    page.socket().server.alerts(ALERTS);
    await page.settle();
    expect(page.controls()).toEqual({
      device: 'd1',
      severity: 'critical',
      state: 'raised',
      ack: 'unacknowledged',
      sort: 'device',
      grouped: true,
    });
    expect(shown(page.el)).toBe('1 / 3 alerts');
    expect(page.el.querySelectorAll('[data-testid=rule-heading]')).toHaveLength(1);
    expect(page.router.url).toBe(url);
  });

  describe('rule headings opened', () => {
    const alerts = [
      ...ALERTS,
      alertEvent({ id: 'd', deviceId: 'd3', ruleId: 'co2-high', severity: 'warning' }),
    ];
    // jsdom has no layout: the window (the list's scroller) gets a screen's height, and the list
    // measures it again once it has rows.
    beforeAll(() =>
      Object.defineProperty(document.documentElement, 'clientHeight', {
        configurable: true,
        value: 900,
      }),
    );
    afterAll(() => delete (document.documentElement as { clientHeight?: number }).clientHeight);
    const measured = async (p: Awaited<ReturnType<typeof open>>) => {
      await p.settle();
      for (const v of p.harness.fixture.debugElement.queryAll(
        By.directive(CdkVirtualScrollViewport),
      ))
        (v.componentInstance as CdkVirtualScrollViewport).checkViewportSize();
      await p.settle();
    };
    const headings = (el: HTMLElement) =>
      Array.from(el.querySelectorAll('[data-testid=rule-heading]')).map((h) => [
        h.getAttribute('data-rule-id'),
        h.getAttribute('aria-expanded'),
      ]);

    it('are kept in the URL while grouped', async () => {
      const page = await open('/alerts?grouped=true');
      page.socket().server.alerts(alerts);
      await measured(page);
      const heading = (ruleId: string) =>
        page.el.querySelector(
          `[data-testid=rule-heading][data-rule-id="${ruleId}"]`,
        ) as HTMLElement;
      expect(page.el.querySelectorAll('app-alert-row')).toHaveLength(0);
      heading('co2-high').click();
      await measured(page);
      heading('temp-high').click();
      await measured(page);
      expect(page.el.querySelectorAll('app-alert-row')).toHaveLength(4);
      expect(page.query()).toEqual({ grouped: 'true', open: 'co2-high,temp-high' });

      heading('co2-high').click();
      await measured(page);
      expect(page.query()).toEqual({ grouped: 'true', open: 'temp-high' });
      // Not grouped: no headings to keep open.
      await page.set('group-by-rule', false);
      expect(page.query()).toEqual({});
    });

    it('open again from the URL (a reload, a shared link)', async () => {
      const url = '/alerts?grouped=true&open=co2-high,temp-high';
      const page = await open(url);
      page.socket().server.alerts(alerts);
      await measured(page);
      expect(headings(page.el)).toEqual([
        ['temp-high', 'true'],
        ['co2-high', 'true'],
      ]);
      expect(page.el.querySelectorAll('app-alert-row')).toHaveLength(4);
      expect(page.router.url).toBe(url);
    });
  });

  it('opens the History tab asking for the history of the filters in its URL', async () => {
    const page = await open('/alerts?tab=history&device=d1&severity=major&state=cleared');
    expect(page.tab()).toBe('tab-history');
    expect(page.controls()).toMatchObject({ device: 'd1', severity: 'major', state: 'cleared' });
    const history = page.asked.filter((u) => u.includes('/api/alerts/history'));
    expect(history).toHaveLength(1);
    expect(Object.fromEntries(new URL(history[0], 'http://pulse.test').searchParams)).toMatchObject(
      { device: 'd1', severity: 'major', state: 'cleared' },
    );
  });

  it('opens on the defaults where its URL holds values it cannot take, and leaves the URL be', async () => {
    const url = `/alerts?severity=loud&state=open&ack=yes&sort=oldest&grouped=1&device=${'d'.repeat(200)}`;
    const page = await open(url);
    page.socket().server.alerts(ALERTS);
    await page.settle();
    expect(page.controls()).toEqual({
      device: '',
      severity: '',
      state: '',
      ack: '',
      sort: 'severity',
      grouped: false,
    });
    expect(shown(page.el)).toBe('3 / 3 alerts');
    expect(page.router.url).toBe(url);
  });

  it('follows a link with other filters, and the header’s to /alerts (the default view)', async () => {
    const page = await open('/alerts?device=d1&severity=critical&sort=newest');
    page.socket().server.alerts(ALERTS);
    await page.settle();
    expect(shown(page.el)).toBe('1 / 3 alerts');
    await page.router.navigateByUrl('/alerts?state=raised&grouped=true');
    await page.settle();
    expect(page.controls()).toEqual({
      device: '',
      severity: '',
      state: 'raised',
      ack: '',
      sort: 'severity',
      grouped: true,
    });
    await page.router.navigateByUrl('/alerts');
    await page.settle();
    expect(page.controls()).toMatchObject({ state: '', grouped: false });
    expect(shown(page.el)).toBe('3 / 3 alerts');
    expect(page.router.url).toBe('/alerts');
  });
});

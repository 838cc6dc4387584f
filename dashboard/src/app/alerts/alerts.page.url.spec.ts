import { TestBed } from '@angular/core/testing';
import { Router, provideRouter, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { FETCH } from '../core/http/alerts-api';
import { connectLive, provideFakeLive, useFakeClock } from '../testing/testbed';
import { AlertsPage } from './alerts.page';

describe('AlertsPage URL (the tab in the query parameters)', () => {
  useFakeClock();

  async function open(url: string) {
    const fetch = (async () => ({
      ok: true,
      status: 200,
      json: async () => ({ events: [], rules: [] }),
    })) as unknown as typeof globalThis.fetch;
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
    return { harness, router, el, settle, tab, click };
  }

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
});

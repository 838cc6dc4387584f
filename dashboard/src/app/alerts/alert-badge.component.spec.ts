import { TestBed } from '@angular/core/testing';
import { acknowledged, alertEvent } from '../testing/alerts';
import { AlertStore } from '../core/stores/alert.store';
import { AlertBadgeComponent } from './alert-badge.component';

const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);
const cleared = { state: 'cleared' as const, clearedAt: T0 + 5, updatedAt: T0 + 5 };

describe('AlertBadgeComponent (a device’s alerts on its tile and page)', () => {
  afterEach(() => TestBed.resetTestingModule());

  async function badge(deviceId: string) {
    const fixture = TestBed.createComponent(AlertBadgeComponent);
    fixture.componentRef.setInput('deviceId', deviceId);
    await fixture.whenStable();
    return (fixture.nativeElement as HTMLElement).querySelector(
      '[data-testid=alert-badge]',
    ) as HTMLElement | null;
  }

  it('shows the severity of the alerts whose condition is on, a muted "cleared" when every one has cleared, nothing without alerts', async () => {
    const store = TestBed.inject(AlertStore);
    const hot = alertEvent({ id: 'hot', deviceId: 'd1', severity: 'critical' });
    const warm = alertEvent({ id: 'warm', deviceId: 'd1', severity: 'warning' });
    const fine = alertEvent({ id: 'fine', deviceId: 'd2', severity: 'critical' });
    store.replaceAll([
      { ...hot, ...cleared },
      acknowledged(warm, 'ana', T0),
      { ...fine, ...cleared },
    ]);

    const on = (await badge('d1')) as HTMLElement;
    expect(on.textContent).toBe('warning');
    expect([...on.classList].sort()).toEqual(['acked', 'sev-pill', 'sev-warning']);
    expect(on.dataset).toMatchObject({ severity: 'warning', count: '1', cleared: '1' });
    expect(on.title).toBe('1 active alert, 0 not acknowledged; 1 cleared, not acknowledged yet');

    const off = (await badge('d2')) as HTMLElement;
    expect(off.textContent).toBe('cleared');
    expect([...off.classList].sort()).toEqual(['sev-cleared', 'sev-pill']);
    expect(off.dataset['severity']).toBeUndefined();
    expect(off.dataset).toMatchObject({ count: '0', cleared: '1' });
    expect(off.title).toBe('1 cleared, not acknowledged yet');

    expect(await badge('d3')).toBeNull();
  });
});

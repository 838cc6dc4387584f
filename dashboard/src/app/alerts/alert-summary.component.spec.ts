import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { connectLive, provideFakeLive } from '../testing/testbed';
import { alertEvent } from '../testing/alerts';
import { AlertSummaryComponent } from './alert-summary.component';

describe('AlertSummaryComponent (the header drawer)', () => {
  it('watches the devices of its rows while open, for their names, and lets them go when closed', async () => {
    const socket = provideFakeLive([provideRouter([])]);
    connectLive(socket);
    socket().server.alerts([
      alertEvent({ id: 'a', deviceId: 'pump-7', severity: 'critical' }),
      alertEvent({ id: 'b', deviceId: 'fan-2', severity: 'warning' }),
    ]);
    const fixture = TestBed.createComponent(AlertSummaryComponent);
    await fixture.whenStable();
    const watched = () =>
      socket()
        .subscribes.filter((s) => s.request.devices?.length)
        .map((s) => [...(s.request.devices ?? [])].sort());
    expect(watched()).toEqual([]);
    const button = (fixture.nativeElement as HTMLElement).querySelector('button') as HTMLElement;
    button.click();
    await fixture.whenStable();
    expect(watched()).toEqual([['fan-2', 'pump-7']]);
    button.click();
    await fixture.whenStable();
    expect(
      socket()
        .unsubscribes.flatMap((u) => u.devices ?? [])
        .sort(),
    ).toEqual(['fan-2', 'pump-7']);
  });

  it('does not count a cleared alert nobody acknowledged as an active critical: it shows apart, to acknowledge', async () => {
    const socket = provideFakeLive([provideRouter([])]);
    connectLive(socket);
    const raised = alertEvent({ id: 'a', deviceId: 'pump-7', severity: 'critical' });
    socket().server.alerts([
      raised,
      alertEvent({ id: 'b', deviceId: 'fan-2', severity: 'warning' }),
    ]);
    socket().server.alert({
      ...raised,
      state: 'cleared',
      clearedAt: raised.raisedAt + 5000,
      updatedAt: raised.raisedAt + 5000,
    });
    const fixture = TestBed.createComponent(AlertSummaryComponent);
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    const pills = [...el.querySelectorAll('[data-testid=alert-summary] .sev-pill')].map((p) => [
      p.getAttribute('data-severity') ?? p.getAttribute('data-testid'),
      p.textContent?.trim(),
    ]);
    expect(pills).toEqual([
      ['warning', '1'],
      ['to-acknowledge', '✓ 1'],
    ]);
    const toAck = el.querySelector('[data-testid=to-acknowledge]') as HTMLElement;
    expect(toAck.title).toBe('1 cleared, not acknowledged yet');
    expect(toAck.classList).toContain('sev-cleared');
    const summary = el.querySelector('[data-testid=alert-summary]') as HTMLElement;
    expect(summary.getAttribute('data-total')).toBe('2');
    expect(summary.getAttribute('data-on')).toBe('1');
    // Read aloud in words, not as numbers and a check mark.
    expect(summary.getAttribute('aria-label')).toBe('Alerts: 1 warning, 1 cleared, to acknowledge');
    // Still in the drawer, to be acknowledged there.
    summary.click();
    await fixture.whenStable();
    const rows = [...el.querySelectorAll('[data-testid=alert-drawer] [data-alert-id]')];
    expect(
      rows.map((r) => [r.getAttribute('data-alert-id'), r.getAttribute('data-state')]),
    ).toEqual([
      ['b', 'raised'],
      ['a', 'cleared'],
    ]);
  });
});

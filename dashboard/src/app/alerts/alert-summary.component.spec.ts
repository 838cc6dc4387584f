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
});

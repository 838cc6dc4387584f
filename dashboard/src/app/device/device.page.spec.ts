import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { T0, provideFakeLive, useFakeClock } from '../testing/testbed';
import { DevicePage } from './device.page';

describe('DevicePage', () => {
  useFakeClock();

  function render(id: string) {
    const socket = provideFakeLive([provideRouter([])]);
    const fixture = TestBed.createComponent(DevicePage);
    fixture.componentRef.setInput('id', id);
    fixture.detectChanges();
    const el = fixture.nativeElement as HTMLElement;
    return { fixture, el, socket };
  }

  it("shows each reading's value at the next change detection, none skipped at 1/s", () => {
    const { fixture, el, socket } = render('d1');
    socket().server.connected('websocket');
    expect(socket().subscribes[0].request).toMatchObject({ devices: ['d1'] });
    const latest = () => el.querySelector('[data-metric=temperature] .latest')?.textContent?.trim();
    for (let i = 1; i <= 3; i++) {
      const value = 20 + i / 4;
      socket().server.readings([
        { deviceId: 'd1', ts: T0 + i * 1000, values: { temperature: value } },
      ]);
      // No timer is advanced: the device's own change signal is all the view waits for.
      fixture.detectChanges();
      expect(latest()).toBe(value.toFixed(2));
    }
  });
});

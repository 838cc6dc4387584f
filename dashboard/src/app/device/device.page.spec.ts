import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { FETCH } from '../core/http/alerts-api';
import { T0, provideFakeLive, useFakeClock } from '../testing/testbed';
import { LiveService } from '../core/live/live.service';
import { DevicePage } from './device.page';

describe('DevicePage', () => {
  useFakeClock();

  /** HTTP as the gateway answers it: a device's origin; anything else 404. */
  const answer = (origin: unknown) =>
    (async (url: string) =>
      String(url).endsWith('/origin')
        ? { ok: true, status: 200, json: async () => origin }
        : { ok: false, status: 404, json: async () => ({}) }) as unknown as typeof globalThis.fetch;

  /** The fake fetch's promise chain (a few microtasks) resolved. */
  const settled = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  function render(id: string, fetch = answer({ deviceId: id, source: null, skipped: [] })) {
    const socket = provideFakeLive([provideRouter([]), { provide: FETCH, useValue: fetch }]);
    const fixture = TestBed.createComponent(DevicePage);
    fixture.componentRef.setInput('id', id);
    fixture.detectChanges();
    const el = fixture.nativeElement as HTMLElement;
    return { fixture, el, socket };
  }

  it('says an id that cannot name a device is not one, and asks the gateway nothing', async () => {
    const asked: string[] = [];
    const fetch = (async (url: string) => {
      asked.push(String(url));
      return { ok: false, status: 404, json: async () => ({}) };
    }) as unknown as typeof globalThis.fetch;
    const { fixture, el, socket } = render('bad id/..', fetch);
    TestBed.inject(LiveService).start(); // connected, whoever else watches
    socket().server.connected('websocket');
    await settled();
    fixture.detectChanges();
    expect(el.querySelector('[data-testid=invalid-id]')?.textContent).toContain(
      '“bad id/..” is not a device id',
    );
    expect(socket().subscribes).toEqual([]);
    expect(asked.filter((url) => url.includes('/devices/'))).toEqual([]);
  });

  it('says the gateway knows no such device, and fills in once it publishes', async () => {
    let known = false;
    const fetch = (async (url: string) =>
      String(url).endsWith('/origin') && known
        ? {
            ok: true,
            status: 200,
            json: async () => ({ deviceId: 'nope', source: null, skipped: [] }),
          }
        : { ok: false, status: 404, json: async () => ({}) }) as unknown as typeof globalThis.fetch;
    const { fixture, el, socket } = render('nope', fetch);
    socket().server.connected('websocket');
    await settled();
    fixture.detectChanges();
    expect(el.querySelector('[data-testid=unknown-device]')?.textContent).toContain(
      'The gateway knows no device “nope”',
    );
    // It starts publishing: its readings fill the page.
    known = true;
    socket().server.readings([{ deviceId: 'nope', ts: T0, values: { temperature: 20 } }]);
    fixture.detectChanges();
    expect(el.querySelector('[data-testid=unknown-device]')).toBeNull();
    expect(el.querySelector('[data-metric=temperature]')).not.toBeNull();
  });

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

  it('says where the device comes from and which of its fields its format left out', async () => {
    const { fixture, el } = render(
      'plug-7',
      answer({
        deviceId: 'plug-7',
        source: 'tasmota',
        skipped: [
          { field: 'Time', reason: 'string', at: T0 },
          { field: 'ENERGY.Log', reason: 'array', at: T0 },
        ],
      }),
    );
    await settled();
    fixture.detectChanges();
    expect(el.querySelector('[data-testid=device-source]')?.textContent?.trim()).toBe('tasmota');
    expect(
      el.querySelector('[data-testid=skipped-fields]')?.textContent?.replace(/\s+/g, ' '),
    ).toContain('Time (text), ENERGY.Log (list)');
  });

  it('names the contract for a device of Pulse’s own topics, with nothing left out', async () => {
    const { fixture, el } = render('d1');
    await settled();
    fixture.detectChanges();
    expect(el.querySelector('[data-testid=device-source]')?.textContent?.trim()).toBe(
      'Pulse contract',
    );
    expect(el.querySelector('[data-testid=skipped-fields]')).toBeNull();
  });
});

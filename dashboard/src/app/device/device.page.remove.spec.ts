import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import type { Role } from '@pulse/protocol/core';
import { AuthService } from '../core/auth/auth.service';
import { FETCH } from '../core/http/alerts-api';
import { DeviceStore } from '../core/stores/device.store';
import { fakeAuthServer } from '../testing/fake-auth-server';
import { T0, connectLive, provideFakeLive, useFakeClock } from '../testing/testbed';
import { DevicePage } from './device.page';

/**
 * The device page as `role` sees it (anonymous viewer when null), on a device the gateway knows;
 * `removal` is the gateway's answer to `DELETE /api/devices/:id`.
 */
async function render(
  role: Role | null,
  removal: { status: number; body: unknown } = { status: 204, body: null },
) {
  const deletes: string[] = [];
  let held: Promise<void> | null = null;
  let release: () => void = () => undefined;
  const server = fakeAuthServer({
    user: role ? { username: `a-${role}`, role } : null,
    other: (url, init) => {
      if (init?.method === 'DELETE') {
        deletes.push(url);
        return removal;
      }
      if (url.endsWith('/origin'))
        return { status: 200, body: { deviceId: 'pump-1', source: null, skipped: [] } };
      return { status: 404, body: { message: `no route ${url}` } };
    },
  });
  // With `hold()`, the answer to the DELETE waits for `release()`.
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const answer = server.fetch(input, init);
    if (init?.method === 'DELETE' && held) await held;
    return answer;
  };
  const socket = provideFakeLive([
    provideRouter([{ path: '**', children: [] }]),
    { provide: FETCH, useValue: fetch },
  ]);
  await TestBed.inject(AuthService).ready();
  connectLive(socket);
  const navigate = jest.spyOn(TestBed.inject(Router), 'navigate');
  const fixture = TestBed.createComponent(DevicePage);
  fixture.componentRef.setInput('id', 'pump-1');
  fixture.detectChanges();
  socket().server.readings([{ deviceId: 'pump-1', ts: T0, values: { temperature: 20 } }]);
  const el = fixture.nativeElement as HTMLElement;
  const settle = async () => {
    await jest.advanceTimersByTimeAsync(0);
    fixture.detectChanges();
  };
  await settle();
  const find = (testId: string) => el.querySelector<HTMLButtonElement>(`[data-testid=${testId}]`);
  return {
    el,
    find,
    settle,
    deletes,
    navigate,
    hold: () => (held = new Promise<void>((resolve) => (release = resolve))),
    release: () => release(),
  };
}

describe('DevicePage: removing a device', () => {
  useFakeClock();

  it.each([
    ['an anonymous viewer', null],
    ['a viewer', 'viewer'],
    ['an operator', 'operator'],
  ] as const)('offers no removal to %s', async (_who, role) => {
    const { find } = await render(role);
    expect(find('device-remove')).toBeNull();
    expect(find('remove-device')).toBeNull();
  });

  it('asks an admin first, and Keep (first, focused) leaves everything as it was', async () => {
    const { find, settle, deletes, navigate } = await render('admin');
    expect(find('remove-device')?.textContent?.trim()).toBe('Remove device…');
    find('remove-device')?.click();
    await settle();
    const question = find('device-remove')?.querySelector('[role=group]');
    const named = (attribute: string) =>
      document.getElementById(question?.getAttribute(attribute) ?? '')?.textContent?.trim();
    // Unnamed, its id once (it read "Remove pump-1 (pump-1) from Pulse?").
    expect(named('aria-labelledby')).toBe('Remove pump-1 from Pulse?');
    expect(named('aria-describedby')).toBe(
      'It leaves the fleet and its open alerts end. Its stored readings stay until retention ' +
        'removes them; if it reports again, it comes back as a new device.',
    );
    expect(document.activeElement).toBe(find('remove-device-keep'));
    expect(
      find('remove-device-keep')?.compareDocumentPosition(find('remove-device-confirm') as Node),
    ).toBe(Node.DOCUMENT_POSITION_FOLLOWING);
    find('remove-device-keep')?.click();
    await settle();
    expect(find('remove-device-confirm')).toBeNull();
    expect(find('remove-device')).not.toBeNull();
    expect(document.activeElement).toBe(find('remove-device'));
    expect(deletes).toEqual([]);
    expect(navigate).not.toHaveBeenCalled();
  });

  it('while the removal is under way its button says "Removing…" and neither answer can be clicked', async () => {
    const { find, settle, deletes, navigate, hold, release } = await render('admin');
    hold();
    find('remove-device')?.click();
    await settle();
    find('remove-device-confirm')?.click();
    await settle();
    expect(deletes).toEqual(['/api/devices/pump-1']);
    expect(find('remove-device-confirm')?.textContent?.trim()).toBe('Removing…');
    expect(find('remove-device-confirm')?.disabled).toBe(true);
    expect(find('remove-device-keep')?.disabled).toBe(true);
    release();
    await settle();
    expect(navigate).toHaveBeenCalledWith(['/']);
  });

  it('removes on confirmation, drops the device here and goes to the overview', async () => {
    const { find, settle, deletes, navigate } = await render('admin');
    find('remove-device')?.click();
    await settle();
    find('remove-device-confirm')?.click();
    await settle();
    expect(deletes).toEqual(['/api/devices/pump-1']);
    expect(TestBed.inject(DeviceStore).get('pump-1')).toBeUndefined();
    expect(navigate).toHaveBeenCalledWith(['/']);
  });

  it('says why the gateway refused, and stays on the device', async () => {
    const { find, settle, navigate } = await render('admin', {
      status: 403,
      body: { statusCode: 403, error: 'Forbidden', message: 'this needs the admin role' },
    });
    find('remove-device')?.click();
    await settle();
    find('remove-device-confirm')?.click();
    await settle();
    expect(find('remove-error')?.textContent).toContain('Not allowed: this needs the admin role.');
    expect(find('remove-error')?.getAttribute('role')).toBe('alert');
    expect(TestBed.inject(DeviceStore).get('pump-1')).toBeDefined();
    expect(navigate).not.toHaveBeenCalled();
  });
});

describe('DevicePage: the device removed elsewhere', () => {
  useFakeClock();

  /**
   * pump-1's page open for a viewer, the gateway knowing it until `remove()`; with `hold()` its
   * answers about the device wait for `release()`.
   */
  async function open() {
    let known = true;
    let held: Promise<void> | null = null;
    let release: () => void = () => undefined;
    const server = fakeAuthServer({
      user: { username: 'vera', role: 'viewer' },
      other: (url) =>
        url === '/api/devices/pump-1/origin' && known
          ? { status: 200, body: { deviceId: 'pump-1', source: null, skipped: [] } }
          : { status: 404, body: { message: `no route ${url}` } },
    });
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      if (held && String(input).startsWith('/api/devices/pump-1')) {
        const answer = server.fetch(input, init); // answered now, read later
        await held;
        return answer;
      }
      return server.fetch(input, init);
    };
    const socket = provideFakeLive([
      provideRouter([{ path: '**', children: [] }]),
      { provide: FETCH, useValue: fetch },
    ]);
    await TestBed.inject(AuthService).ready();
    connectLive(socket);
    const fixture = TestBed.createComponent(DevicePage);
    fixture.componentRef.setInput('id', 'pump-1');
    fixture.detectChanges();
    const el = fixture.nativeElement as HTMLElement;
    const settle = async (ms = 0) => {
      await jest.advanceTimersByTimeAsync(ms);
      fixture.detectChanges();
    };
    const publish = (temperature: number) =>
      socket().server.readings([{ deviceId: 'pump-1', ts: Date.now(), values: { temperature } }]);
    publish(20);
    await settle();
    const find = (testId: string) => el.querySelector<HTMLElement>(`[data-testid=${testId}]`);
    return {
      el,
      find,
      settle,
      publish,
      remove: () => (known = false),
      hold: () => (held = new Promise<void>((resolve) => (release = resolve))),
      release: () => release(),
    };
  }

  it('says so plainly instead of its last values, with the way back; shows it again once it publishes', async () => {
    const { el, find, settle, publish, remove } = await open();
    expect(el.querySelector('[data-metric=temperature]')).not.toBeNull();
    // An admin removes it on another screen; this page reads the device's origin every 30 s.
    remove();
    await settle(30_000);
    expect(find('device-removed')?.textContent).toContain('pump-1 was removed');
    expect(find('device-removed')?.querySelector('a')?.getAttribute('href')).toBe('/');
    expect(el.querySelector('[data-metric=temperature]')).toBeNull();
    expect(find('device-health')).toBeNull();
    expect(TestBed.inject(DeviceStore).get('pump-1')).toBeUndefined();
    // It speaks again: a new device with that id, shown as such.
    publish(21);
    await settle();
    expect(find('device-removed')).toBeNull();
    expect(el.querySelector('[data-metric=temperature] .latest')?.textContent).toContain('21');
  });

  it('keeps a device whose reading arrived after the gateway was asked: the answer is older', async () => {
    const { el, find, settle, publish, remove, hold, release } = await open();
    remove();
    hold();
    await settle(30_000); // asked, not answered yet
    publish(22);
    release();
    await settle();
    expect(find('device-removed')).toBeNull();
    expect(el.querySelector('[data-metric=temperature] .latest')?.textContent).toContain('22');
    expect(TestBed.inject(DeviceStore).get('pump-1')).toBeDefined();
  });
});

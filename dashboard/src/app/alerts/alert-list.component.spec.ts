import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { AlertStore } from '../core/stores/alert.store';
import { AuthUser } from '../core/auth/auth-api';
import { AuthService } from '../core/auth/auth.service';
import { FETCH } from '../core/http/alerts-api';
import { fakeAuthServer } from '../testing/fake-auth-server';
import { acknowledged, alertEvent } from '../testing/alerts';
import { T0, connectLive, provideFakeLive, useFakeClock } from '../testing/testbed';
import { AlertListComponent } from './alert-list.component';

/** The list as `user` sees it (anonymous when null). */
async function render(user: AuthUser | null = { username: 'ana', role: 'operator' }) {
  const server = fakeAuthServer({
    user,
    // The rows read nothing over HTTP: an alert says what its figures are (AlertEvent.kind).
    other: (url) => ({ status: 404, body: { message: `no route ${url}` } }),
  });
  const socket = provideFakeLive([
    provideRouter([{ path: '**', children: [] }]),
    { provide: FETCH, useValue: server.fetch },
  ]);
  await TestBed.inject(AuthService).ready();
  connectLive(socket);
  await TestBed.inject(Router).navigateByUrl('/alerts?tab=active');
  const store = TestBed.inject(AlertStore);
  const fixture = TestBed.createComponent(AlertListComponent);
  fixture.componentRef.setInput('alerts', store.active());
  const el = fixture.nativeElement as HTMLElement;
  const settle = async () => {
    await jest.advanceTimersByTimeAsync(0);
    fixture.componentRef.setInput('alerts', store.active());
    fixture.detectChanges();
  };
  return { el, socket, store, settle };
}

describe('AlertListComponent', () => {
  useFakeClock();

  it('shows severity, device, metric, message, value, threshold, age, state and count', async () => {
    const { el, socket, settle } = await render();
    socket().server.alerts([
      alertEvent({ id: 'a', raisedAt: T0 - 65_000, count: 3, value: 81.25, threshold: 50 }),
    ]);
    await settle();
    const row = el.querySelector('[data-alert-id=a]') as HTMLElement;
    const text = row.textContent?.replace(/\s+/g, ' ') ?? '';
    expect(row.getAttribute('data-severity')).toBe('critical');
    expect(row.getAttribute('data-state')).toBe('raised');
    for (const part of [
      'critical',
      'd1',
      'temperature',
      'temperature 80 > 50',
      'value 81.25',
      'threshold 50.00',
      'raised 65 s ago',
      '×3',
    ]) {
      expect(text).toContain(part);
    }
  });

  it("shows a no-data alert's silence and threshold as durations, not as milliseconds", async () => {
    // A no-data rule on one metric and the built-in one without a metric.
    const { el, socket, settle } = await render();
    const silent = {
      kind: 'nodata' as const,
      severity: 'minor' as const,
      state: 'raised' as const,
      raisedAt: T0 - 5000,
    };
    socket().server.alerts([
      alertEvent({
        ...silent,
        id: 'metric',
        ruleId: 'temp-silent',
        metric: 'temperature',
        message: 'Temperature silent: no temperature for 75 s',
        value: 75_000,
        threshold: 60_000,
      }),
      alertEvent({
        ...silent,
        id: 'device',
        ruleId: 'no-data',
        metric: null,
        message: 'No data: no data for 185 s',
        value: 185_000,
        threshold: 10_000,
      }),
    ]);
    await settle();
    const facts = (id: string) =>
      el.querySelector(`[data-alert-id=${id}] .alert-facts`)?.textContent?.replace(/\s+/g, ' ');
    expect(facts('metric')).toContain('silent for 1 min 15 s · threshold 1 min ·');
    expect(facts('device')).toContain('silent for 3 min 5 s · threshold 10 s ·');
  });

  it("shows a no-data alert's silence as durations by its kind, whatever its message says", async () => {
    const { el, socket, settle } = await render();
    socket().server.alerts([
      // Not the gateway's no-data wording: the kind alone says what the figures are.
      alertEvent({
        id: 'metric',
        ruleId: 'temp-silent',
        kind: 'nodata',
        ruleName: 'Temperature silent',
        metric: 'temperature',
        message: 'Temperature sensor went quiet',
        value: 75_000,
        threshold: 60_000,
      }),
      // A threshold alert on the same metric keeps its value.
      alertEvent({
        id: 'hot',
        kind: 'threshold',
        ruleName: 'Hot',
        metric: 'temperature',
        message: 'Hot: temperature 80 above 50 for 75 s',
        value: 80,
        threshold: 50,
      }),
    ]);
    const facts = (id: string) =>
      el.querySelector(`[data-alert-id=${id}] .alert-facts`)?.textContent?.replace(/\s+/g, ' ');
    await settle();
    expect(facts('metric')).toContain('silent for 1 min 15 s · threshold 1 min ·');
    expect(facts('hot')).toContain('value 80.00 · threshold 50.00 ·');
  });

  it('shows no empty figures for an alert that has none (offline: no value, no threshold)', async () => {
    const { el, socket, settle } = await render();
    socket().server.alerts([
      alertEvent({
        id: 'gone',
        kind: 'offline',
        ruleId: 'offline',
        metric: null,
        message: 'Offline: device offline',
        value: null,
        threshold: null,
      }),
    ]);
    await settle();
    const facts = el
      .querySelector('[data-alert-id=gone] .alert-facts')
      ?.textContent?.replace(/\s+/g, ' ');
    expect(facts).toContain('raised');
    // It read "· value – · threshold – · raised …" (a QA pass).
    expect(facts).not.toContain('value');
    expect(facts).not.toContain('threshold');
  });

  it('acknowledges as the signed-in operator; the broadcast turns the row acknowledged', async () => {
    const { el, socket, settle } = await render();
    const a = alertEvent({ id: 'a' });
    socket().server.alerts([a]);
    await settle();
    (el.querySelector('[data-testid=ack]') as HTMLButtonElement).click();
    await settle();
    expect(socket().acks[0].request).toEqual({ id: 'a' });
    expect(el.querySelector('[data-testid=ack]')?.textContent?.trim()).toBe('Acknowledging…');
    socket().server.alert(acknowledged(a, 'ana', T0 + 10));
    socket().acks[0].reply({ ok: true, alert: acknowledged(a, 'ana', T0 + 10) });
    await settle();
    expect(el.querySelector('[data-alert-id=a]')?.getAttribute('data-state')).toBe('acknowledged');
    expect(el.querySelector('[data-testid=ack]')).toBeNull();
    expect(el.textContent).toContain('acknowledged by ana');
  });

  it('shows the refusal on the row', async () => {
    const { el, socket, settle } = await render();
    socket().server.alerts([alertEvent({ id: 'a' })]);
    await settle();
    (el.querySelector('[data-testid=ack]') as HTMLButtonElement).click();
    await settle();
    socket().acks[0].reply({ ok: false, error: 'not_found', message: 'no active alert a' });
    await settle();
    expect(el.querySelector('[data-testid=ack-error]')?.textContent).toBe(
      'Not acknowledged: no active alert a',
    );
    expect((el.querySelector('[data-testid=ack]') as HTMLButtonElement).disabled).toBe(false);
  });

  it("shows the gateway's role refusal, readable even when its message is empty", async () => {
    const { el, socket, settle } = await render();
    socket().server.alerts([alertEvent({ id: 'a' })]);
    await settle();
    (el.querySelector('[data-testid=ack]') as HTMLButtonElement).click();
    await settle();
    socket().acks[0].reply({ ok: false, error: 'forbidden', message: '' });
    await settle();
    expect(el.querySelector('[data-testid=ack-error]')?.textContent).toBe(
      'Not acknowledged: your role may not acknowledge alerts',
    );
  });
});

describe('AlertListComponent without the acknowledge role', () => {
  useFakeClock();

  async function renderWithAlert(user: AuthUser | null) {
    const view = await render(user);
    view.socket().server.alerts([alertEvent({ id: 'a' })]);
    await view.settle();
    return view;
  }

  it('offers an anonymous visitor "Sign in to acknowledge", back to this page afterwards', async () => {
    const { el, socket } = await renderWithAlert(null);
    expect(el.querySelector('[data-testid=ack]')).toBeNull();
    const link = el.querySelector('[data-testid=ack-sign-in]') as HTMLAnchorElement;
    expect(link.textContent?.trim()).toBe('Sign in to acknowledge');
    link.click();
    await jest.advanceTimersByTimeAsync(0);
    expect(TestBed.inject(Router).url).toBe('/login?returnUrl=%2Falerts%3Ftab%3Dactive');
    expect(socket().acks).toEqual([]);
  });

  it('shows a viewer a disabled button that says why', async () => {
    const { el } = await renderWithAlert({ username: 'vi', role: 'viewer' });
    const button = el.querySelector('[data-testid=ack]') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.parentElement?.getAttribute('title')).toBe(
      'Signed in as viewer: only operators and admins acknowledge',
    );
  });
});

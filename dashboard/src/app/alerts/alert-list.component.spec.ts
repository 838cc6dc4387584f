import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { AlertStore } from '../core/stores/alert.store';
import { OperatorService } from '../core/stores/operator.service';
import { acknowledged, alertEvent } from '../testing/alerts';
import { T0, connectLive, provideFakeLive, useFakeClock } from '../testing/testbed';
import { AlertListComponent } from './alert-list.component';

describe('AlertListComponent', () => {
  useFakeClock();
  beforeEach(() => localStorage.clear());

  async function render() {
    const socket = provideFakeLive([provideRouter([])]);
    connectLive(socket);
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

  it('acknowledges as the stored operator name; the broadcast turns the row acknowledged', async () => {
    const { el, socket, settle } = await render();
    TestBed.inject(OperatorService).set('ana');
    const a = alertEvent({ id: 'a' });
    socket().server.alerts([a]);
    await settle();
    (el.querySelector('[data-testid=ack]') as HTMLButtonElement).click();
    await settle();
    expect(socket().acks[0].request).toEqual({ id: 'a', by: 'ana' });
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
});

describe('OperatorService', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => TestBed.resetTestingModule());

  it("defaults to 'operator' and remembers the name in localStorage", () => {
    expect(TestBed.inject(OperatorService).name()).toBe('operator');
    TestBed.inject(OperatorService).set('  Ana  ');
    expect(localStorage.getItem('pulse.operator')).toBe('Ana');
    TestBed.resetTestingModule();
    expect(TestBed.inject(OperatorService).name()).toBe('Ana');
    TestBed.inject(OperatorService).set('   ');
    expect(TestBed.inject(OperatorService).name()).toBe('operator');
  });
});

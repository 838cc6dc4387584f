import { TestBed } from '@angular/core/testing';
import {
  Drawable,
  FRAME_BUDGET_MS,
  FrameScheduler,
  IDLE_FRAME_MS,
} from './frame-scheduler.service';
import { SeriesStore } from '../stores/series.store';

describe('FrameScheduler', () => {
  let hidden = false;

  beforeEach(() => {
    jest.useFakeTimers();
    hidden = false;
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  });
  afterEach(() => {
    TestBed.resetTestingModule();
    jest.useRealTimers();
  });

  const drawable = (): Drawable & { calls: number } => {
    const d = { calls: 0, frame: () => void d.calls++ };
    return d;
  };

  /** The scheduler with one counting drawable, registered and drawn once. */
  const drawnOnce = () => {
    const sut = TestBed.inject(FrameScheduler);
    const a = drawable();
    const unregister = sut.register(a);
    jest.advanceTimersByTime(16);
    return { sut, a, unregister };
  };

  it('draws every registered drawable at most once per animation frame', () => {
    const sut = TestBed.inject(FrameScheduler);
    const a = drawable();
    const b = drawable();
    sut.register(a);
    sut.register(b);
    sut.request();
    sut.request();
    jest.advanceTimersByTime(16);
    expect([a.calls, b.calls]).toEqual([1, 1]);
  });

  it('keeps polling drawables about once a second so time axes move', () => {
    const { a } = drawnOnce();
    const first = a.calls;
    jest.advanceTimersByTime(IDLE_FRAME_MS * 3);
    expect(a.calls - first).toBe(3);
  });

  it('draws nothing while the page is hidden and catches up when it is shown', () => {
    const sut = TestBed.inject(FrameScheduler);
    const a = drawable();
    hidden = true;
    sut.register(a);
    jest.advanceTimersByTime(IDLE_FRAME_MS * 5);
    expect(a.calls).toBe(0);
    hidden = false;
    document.dispatchEvent(new Event('visibilitychange'));
    jest.advanceTimersByTime(16);
    expect(a.calls).toBe(1);
  });

  it('stops its timers when the last drawable leaves', () => {
    const { a, unregister } = drawnOnce();
    unregister();
    const calls = a.calls;
    jest.advanceTimersByTime(IDLE_FRAME_MS * 5);
    expect(a.calls).toBe(calls);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('asks for a frame when points arrive, not only on the idle poll', () => {
    const { a } = drawnOnce();
    const calls = a.calls;
    TestBed.inject(SeriesStore).push('d1', 'm', 1000, 1);
    jest.advanceTimersByTime(16);
    expect(a.calls).toBe(calls + 1);
  });

  it('spreads drawing over frames once the frame budget is spent (round robin)', () => {
    const sut = TestBed.inject(FrameScheduler);
    let t = 0;
    sut.clock = () => t;
    const order: string[] = [];
    const slow = (name: string): Drawable => ({
      frame: () => void (order.push(name), (t += FRAME_BUDGET_MS)),
    });
    sut.register(slow('a'));
    sut.register(slow('b'));
    sut.register(slow('c'));
    jest.advanceTimersByTime(16);
    expect(order).toEqual(['a']);
    jest.advanceTimersByTime(16);
    expect(order).toEqual(['a', 'b']);
    jest.advanceTimersByTime(16);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('comes back when a rate-limited drawable says it is due', () => {
    const sut = TestBed.inject(FrameScheduler);
    let calls = 0;
    sut.register({ frame: () => (++calls === 1 ? 300 : undefined) });
    jest.advanceTimersByTime(16);
    expect(calls).toBe(1);
    jest.advanceTimersByTime(200);
    expect(calls).toBe(1);
    jest.advanceTimersByTime(150);
    expect(calls).toBe(2);
  });
});

import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { By } from '@angular/platform-browser';
import { SeriesStore } from '../core/stores/series.store';
import { provideFakeLive } from '../testing/testbed';
import { SparklineDirective } from './sparkline.directive';

@Component({
  imports: [SparklineDirective],
  template: `<canvas appSparkline [deviceId]="deviceId()" metric="temperature"></canvas>`,
})
class HostComponent {
  readonly deviceId = signal('a');
}

/** A layout of 72 × 20 px, reported the moment a canvas is observed (jsdom has no layout). */
class SizedResizeObserver {
  constructor(private readonly callback: (entries: unknown[]) => void) {}
  observe(): void {
    this.callback([{ contentRect: { width: 72, height: 20 } }]);
  }
  disconnect(): void {
    // nothing to stop
  }
}

describe('SparklineDirective', () => {
  const original = globalThis.ResizeObserver;
  beforeEach(() => (globalThis.ResizeObserver = SizedResizeObserver as never));
  afterEach(() => {
    globalThis.ResizeObserver = original;
    TestBed.resetTestingModule();
  });

  it("draws another device's line at once when its canvas is reused (a recycled tile)", async () => {
    provideFakeLive();
    const series = TestBed.inject(SeriesStore);
    const now = Date.now();
    series.merge({ deviceId: 'a', metric: 'temperature', t: [now - 2000, now - 1000], v: [1, 2] });
    series.merge({ deviceId: 'b', metric: 'temperature', t: [now - 2000, now - 1000], v: [5, 3] });
    const fixture = TestBed.createComponent(HostComponent);
    await fixture.whenStable();
    const el = fixture.debugElement.query(By.directive(SparklineDirective));
    const canvas = el.nativeElement as HTMLCanvasElement;
    // jsdom draws nothing: count the lines stroked.
    let strokes = 0;
    const ctx = {
      clearRect: () => undefined,
      beginPath: () => undefined,
      moveTo: () => undefined,
      lineTo: () => undefined,
      stroke: () => strokes++,
    };
    canvas.getContext = (() => ctx) as unknown as typeof canvas.getContext;
    const sparkline = el.injector.get(SparklineDirective);

    expect(sparkline.frame()).toBeUndefined();
    expect(strokes).toBe(1);
    // Same device, nothing new: nothing drawn (and a newer point would wait out the interval).
    sparkline.frame();
    expect(strokes).toBe(1);

    fixture.componentInstance.deviceId.set('b');
    await fixture.whenStable();
    expect(sparkline.frame()).toBeUndefined();
    expect(strokes).toBe(2);
  });
});

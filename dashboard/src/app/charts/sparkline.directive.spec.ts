import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { By } from '@angular/platform-browser';
import { SeriesStore } from '../core/stores/series.store';
import { provideFakeLive } from '../testing/testbed';
import { SparklineDirective } from './sparkline.directive';

@Component({
  imports: [SparklineDirective],
  template: `<svg appSparkline [deviceId]="deviceId()" metric="temperature"></svg>`,
})
class HostComponent {
  readonly deviceId = signal('a');
}

/** A layout of 72 × 20 px, reported the moment an element is observed (jsdom has no layout). */
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

  async function render() {
    provideFakeLive();
    const series = TestBed.inject(SeriesStore);
    const fixture = TestBed.createComponent(HostComponent);
    await fixture.whenStable();
    const el = fixture.debugElement.query(By.directive(SparklineDirective));
    const svg = el.nativeElement as SVGSVGElement;
    const sparkline = el.injector.get(SparklineDirective);
    const path = () => svg.querySelector('path')?.getAttribute('d') ?? null;
    return { fixture, series, svg, sparkline, path };
  }

  it('draws the window as one path in its own pixels, no canvas', async () => {
    const { series, svg, sparkline, path } = await render();
    const now = Date.now();
    series.merge({ deviceId: 'a', metric: 'temperature', t: [now - 2000, now - 1000], v: [1, 2] });
    expect(sparkline.frame()).toBeUndefined();
    expect(svg.querySelector('canvas')).toBeNull();
    expect(svg.getAttribute('viewBox')).toBe('0 0 72 20');
    // Two points: a move to the lowest at the left edge, a line up to the highest (2 px padding).
    const d = path() ?? '';
    expect(d).toMatch(/^M0\.0 18\.0L\d+(\.\d)? 2\.0$/);
  });

  it('breaks the line where readings are missing', async () => {
    const { series, sparkline, path } = await render();
    const now = Date.now();
    // One a second, then nothing for 60 s, then one a second again.
    const t = [now - 64_000, now - 63_000, now - 62_000, now - 2000, now - 1000];
    series.merge({ deviceId: 'a', metric: 'temperature', t, v: [1, 2, 3, 2, 1] });
    sparkline.frame();
    expect((path() ?? '').match(/M/g)).toHaveLength(2);
    expect((path() ?? '').match(/L/g)).toHaveLength(3);
  });

  it("draws another device's line at once when its element is reused (a recycled tile)", async () => {
    const { fixture, series, sparkline, path } = await render();
    const now = Date.now();
    series.merge({ deviceId: 'a', metric: 'temperature', t: [now - 2000, now - 1000], v: [1, 2] });
    series.merge({ deviceId: 'b', metric: 'temperature', t: [now - 2000, now - 1000], v: [5, 3] });

    expect(sparkline.frame()).toBeUndefined();
    const drawnA = path();
    expect(drawnA).toMatch(/^M/);
    // Same device, nothing new: nothing drawn (and a newer point would wait out the interval).
    const d = Object.getOwnPropertyDescriptor(Element.prototype, 'setAttribute');
    let writes = 0;
    const pathEl = fixture.nativeElement.querySelector('path') as SVGPathElement;
    pathEl.setAttribute = function (this: Element, name: string, value: string) {
      if (name === 'd') writes++;
      return d?.value.call(this, name, value);
    } as typeof pathEl.setAttribute;
    sparkline.frame();
    expect(writes).toBe(0);

    fixture.componentInstance.deviceId.set('b');
    await fixture.whenStable();
    expect(sparkline.frame()).toBeUndefined();
    expect(writes).toBe(1);
    // b falls from 5 to 3 where a rose from 1 to 2: the same two points, drawn the other way up.
    expect(path()).not.toBe(drawnA);
    expect(path()).toMatch(/^M0\.0 2\.0L/);
  });
});

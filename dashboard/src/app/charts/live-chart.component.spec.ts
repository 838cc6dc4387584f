import { TestBed } from '@angular/core/testing';
import { Chart } from 'chart.js';
import { LIVE_SOCKET_FACTORY } from '../core/live-socket';
import { SeriesStore } from '../core/series.store';
import { DeviceStore } from '../core/device.store';
import { fakeSocketFactory } from '../testing/fake-live-socket';
import { LiveChartComponent } from './live-chart.component';

describe('LiveChartComponent', () => {
  const now = Date.now();

  async function render() {
    TestBed.configureTestingModule({ providers: [{ provide: LIVE_SOCKET_FACTORY, useValue: fakeSocketFactory().factory }] });
    const series = TestBed.inject(SeriesStore);
    const devices = TestBed.inject(DeviceStore);
    // 30 readings, one a second, ending now.
    devices.ingest(
      Array.from({ length: 30 }, (_, i) => ({ deviceId: 'd1', ts: now - (29 - i) * 1000, values: { temperature: 20 + i } })),
      now,
    );
    const fixture = TestBed.createComponent(LiveChartComponent);
    fixture.componentRef.setInput('deviceId', 'd1');
    fixture.componentRef.setInput('metric', 'temperature');
    fixture.componentRef.setInput('windowMs', 60_000);
    await fixture.whenStable();
    const host = fixture.nativeElement as HTMLElement;
    const canvas = host.querySelector('canvas') as HTMLCanvasElement;
    return { fixture, host, canvas, series, devices, sut: fixture.componentInstance };
  }

  it('creates one Chart.js instance and mutates its data in place', async () => {
    const { host, canvas, series, sut } = await render();
    const chart = Chart.getChart(canvas);
    expect(chart).toBeDefined();
    const data = chart?.data.datasets[0].data;
    sut.frame();
    expect(host.getAttribute('data-points')).toBe('30');
    expect(host.getAttribute('data-gaps')).toBe('0');

    series.push('d1', 'temperature', now + 500, 99);
    sut.frame();
    expect(Chart.getChart(canvas)).toBe(chart);
    expect(chart?.data.datasets[0].data).toBe(data);
    expect(host.getAttribute('data-points')).toBe('31');
    expect(chart?.options.animation).toBe(false);
    expect(chart?.options.parsing).toBe(false);
  });

  it('breaks the line where data is missing', async () => {
    const { host, series, sut } = await render();
    series.push('d1', 'temperature', now + 20_000, 1);
    sut.frame();
    expect(host.getAttribute('data-gaps')).toBe('1');
    expect(host.getAttribute('data-last-gap-end')).toBe(String(now + 20_000));
  });

  it('reports min, max and avg of the visible window', async () => {
    const { sut } = await render();
    const seen: unknown[] = [];
    sut.stats.subscribe((s) => seen.push(s));
    sut.frame();
    expect(seen[0]).toEqual({ count: 30, min: 20, max: 49, avg: 34.5, gaps: 0 });
  });

  it('destroys the chart on teardown', async () => {
    const { fixture, canvas } = await render();
    expect(Chart.getChart(canvas)).toBeDefined();
    fixture.destroy();
    expect(Chart.getChart(canvas)).toBeUndefined();
  });
});

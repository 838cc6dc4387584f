import { TestBed } from '@angular/core/testing';
import { Chart } from 'chart.js';
import { LIVE_SOCKET_FACTORY } from '../core/live/live-socket';
import { LiveService } from '../core/live/live.service';
import { SeriesStore } from '../core/stores/series.store';
import { DeviceStore } from '../core/stores/device.store';
import { fakeSocketFactory } from '../testing/fake-live-socket';
import { LiveChartComponent, MIN_REDRAW_MS, redrawIntervalMs } from './live-chart.component';

describe('LiveChartComponent', () => {
  const now = Date.now();
  let clock = now;
  const realNow = Date.now;
  beforeEach(() => {
    clock = now;
    Date.now = () => clock;
  });
  afterEach(() => {
    Date.now = realNow;
  });
  /** Let the chart's redraw interval pass (1 min window: at most 1 s per pixel column). */
  const later = () => (clock += 1100);

  async function render() {
    const sockets = fakeSocketFactory();
    TestBed.configureTestingModule({
      providers: [{ provide: LIVE_SOCKET_FACTORY, useValue: sockets.factory }],
    });
    const series = TestBed.inject(SeriesStore);
    const devices = TestBed.inject(DeviceStore);
    // 30 readings, one a second, ending now, through the live service (the writer of series).
    TestBed.inject(LiveService).start();
    sockets.last().server.connected('websocket');
    sockets.last().server.readings(
      Array.from({ length: 30 }, (_, i) => ({
        deviceId: 'd1',
        ts: now - (29 - i) * 1000,
        values: { temperature: 20 + i },
      })),
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
    later();
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
    clock = now + 20_000;
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

  it('redraws at most once per pixel column of the window, and says when it is due', async () => {
    const { host, series, sut } = await render();
    sut.frame();
    series.push('d1', 'temperature', now + 100, 5);
    const wait = sut.frame();
    expect(typeof wait).toBe('number');
    expect(wait as number).toBeGreaterThan(0);
    expect(host.getAttribute('data-points')).toBe('30'); // not drawn yet
    clock += wait as number;
    expect(sut.frame()).toBeUndefined();
    expect(host.getAttribute('data-points')).toBe('31');
  });

  it('hands Chart.js at most two points per pixel column however dense the data', async () => {
    const { host, canvas, series, sut } = await render();
    // 20 Hz for the whole minute: 1200 points.
    series.pinCapacity('d1', 3600);
    for (let i = 0; i < 1200; i++)
      series.push('d1', 'temperature', now - 60_000 + i * 50 + 25, i % 7);
    sut.frame();
    const chart = Chart.getChart(canvas);
    const width = Math.max(
      50,
      (chart?.chartArea.right ?? 0) - (chart?.chartArea.left ?? 0) || chart?.width || 300,
    );
    expect(Number(host.getAttribute('data-points'))).toBeGreaterThan(1200);
    expect(chart?.data.datasets[0].data.length).toBeLessThanOrEqual(2 * width + 4);
    expect(host.getAttribute('data-gaps')).toBe('0');
  });

  it('keeps the value axis of a metric that never goes below zero at zero or above', async () => {
    // A power meter between idle (20 W) and full load: the 5 % grace below 20 W made the axis
    // start a whole tick step below zero (−5000 W on a small chart).
    const { canvas, series, sut } = await render();
    for (let i = 0; i < 60; i++)
      series.push('d1', 'temperature', now - 60_000 + i * 1000 + 500, i % 2 ? 7700 : 20);
    sut.frame();
    const y = Chart.getChart(canvas)?.scales['y'];
    expect(y?.min).toBe(0);
    expect(y?.max).toBeGreaterThanOrEqual(7700);
    // Readings below zero keep their room below it.
    series.push('d1', 'temperature', now + 200, -300);
    clock += 1100;
    sut.frame();
    expect(Chart.getChart(canvas)?.scales['y'].min).toBeLessThan(-300);
  });

  it('keeps the value axis of a metric that reads zero throughout at zero', async () => {
    // An idle counter, a meter switched off: Chart.js widens an empty range to −1…1 first.
    const { canvas, host, series, sut } = await render();
    // Two minutes on: the first readings are out of the minute shown, zeros in it.
    clock += 120_000;
    for (let i = 0; i < 60; i++) series.push('d1', 'temperature', clock - 59_500 + i * 1000, 0);
    sut.frame();
    expect(host.getAttribute('data-points')).toBe('60');
    expect(Chart.getChart(canvas)?.scales['y'].min).toBe(0);
  });

  it('destroys the chart on teardown', async () => {
    const { fixture, canvas } = await render();
    expect(Chart.getChart(canvas)).toBeDefined();
    fixture.destroy();
    expect(Chart.getChart(canvas)).toBeUndefined();
  });
});

describe('redrawIntervalMs', () => {
  it('is one pixel of the window, never below the floor', () => {
    expect(redrawIntervalMs(300_000, 300)).toBe(1000);
    expect(redrawIntervalMs(60_000, 600)).toBe(100);
    expect(redrawIntervalMs(10_000, 800)).toBe(MIN_REDRAW_MS);
  });
});

import { Chart, LineController, LineElement, LinearScale, PointElement } from 'chart.js';

let registered = false;

/**
 * Register only what the live charts use (keeps Chart.js tree-shaken). No
 * decimation plugin: the chart reduces points to its pixel columns itself, and
 * every registered plugin costs on every update. The one value import of Chart.js
 * (elsewhere type-only): owns the registration, must not build or configure a
 * chart (LiveChartComponent does).
 */
export function registerChartParts(): void {
  if (registered) return;
  Chart.register(LineController, LineElement, PointElement, LinearScale);
  registered = true;
}

export { Chart };

import { Chart, Decimation, LineController, LineElement, LinearScale, PointElement } from 'chart.js';

let registered = false;

/** Register only what the live charts use (keeps Chart.js tree-shaken). */
export function registerChartParts(): void {
  if (registered) return;
  Chart.register(LineController, LineElement, PointElement, LinearScale, Decimation);
  registered = true;
}

export { Chart };

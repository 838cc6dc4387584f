import type { Chart, Plugin } from 'chart.js';

/*
 * The min/max band of a bucketed chart: a Chart.js plugin (no Filler registration, which would
 * cost every chart on every update) that fills between two datasets' drawn points, broken at
 * gaps. Owns this drawing only; the points are the chart's (laid out by Chart.js, so the band
 * and the line share one scale), which datasets to join its caller's choice.
 */

export interface BandOptions {
  /** Dataset indexes of the upper and lower edge (index-aligned points). */
  upper: number;
  lower: number;
  color: () => string;
  /** Spacing in data units above which two neighbouring points are a gap (the band breaks). */
  gapMs: () => number;
}

export function bandPlugin(options: BandOptions): Plugin<'line'> {
  return {
    id: 'pulseBand',
    beforeDatasetsDraw(chart: Chart<'line'>) {
      const upper = chart.getDatasetMeta(options.upper).data;
      const lower = chart.getDatasetMeta(options.lower).data;
      const hiData = chart.data.datasets[options.upper]?.data as { x: number }[] | undefined;
      const n = Math.min(upper.length, lower.length, hiData?.length ?? 0);
      if (n === 0 || !hiData) return;
      const gapMs = options.gapMs();
      const area = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.beginPath();
      ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      ctx.clip();
      ctx.fillStyle = options.color();
      let start = 0;
      for (let i = 1; i <= n; i++) {
        if (i < n && hiData[i].x - hiData[i - 1].x <= gapMs) continue;
        // One closed shape per run without a gap: along the top, back along the bottom.
        ctx.beginPath();
        ctx.moveTo(upper[start].x, upper[start].y);
        for (let j = start + 1; j < i; j++) ctx.lineTo(upper[j].x, upper[j].y);
        for (let j = i - 1; j >= start; j--) ctx.lineTo(lower[j].x, lower[j].y);
        ctx.closePath();
        ctx.fill();
        start = i;
      }
      ctx.restore();
    },
  };
}

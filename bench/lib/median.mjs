// Repeated runs folded into one row each: every target is judged on the median of its runs, with
// the spread beside it. Owns the folding (which rows are the same measurement, the median of every
// figure, the spread of the ones the table shows); must not measure, judge or print.

/** Median of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The median of each numeric figure found at the same place in every value; other leaves (text,
 * flags, arrays, figures missing from a run) are the first run's. Medians are taken figure by
 * figure: a p99 and a CPU % of the median row may come from different runs, which is what
 * "median of 3 runs" means for each figure on its own.
 */
export function medianOf(values) {
  const first = values[0];
  if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) return median(values);
  if (first === null || typeof first !== 'object' || Array.isArray(first)) return first;
  const out = {};
  for (const key of Object.keys(first)) out[key] = medianOf(values.map((v) => v?.[key]));
  return out;
}

/** The figures whose min–max the table prints beside the median (getter per name). */
export const SPREAD_FIGURES = {
  deliveredPct: (r) => r.deliveredPct,
  p50: (r) => r.latency?.p50,
  p99: (r) => r.latency?.p99,
  serverCpuPct: (r) => r.usage?.server?.cpuPct,
  brokerCpuPct: (r) => r.usage?.broker?.cpuPct,
  serverRssMb: (r) => r.peakRssMb?.server ?? r.usage?.server?.rssMb,
  kbPerConnection: (r) => r.kbPerConnection,
  historyWritePerSec: (r) => r.history?.writePerSec,
  historyDayP99: (r) => r.history?.day?.p99,
  historyWeekP99: (r) => r.history?.week?.p99,
  usPerDelivered: (r) => r.usPerDelivered,
};

/**
 * Rows of `runs` (one array of rows per run) folded by scenario, label and target, in the first
 * run's order: each the median row, with `runs` (how many), `spread` ({ figure: [min, max] }) and
 * `perRun` (every run's own row, for the JSON). A measurement missing from a run is folded over
 * the runs that have it.
 */
export function foldRuns(runs) {
  const groups = new Map();
  for (const rows of runs)
    for (const row of rows) {
      const key = `${row.scenario}|${row.label}|${row.target}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(row);
    }
  return [...groups.values()].map((rows) => {
    const spread = {};
    for (const [name, get] of Object.entries(SPREAD_FIGURES)) {
      const values = rows.map(get).filter((v) => typeof v === 'number' && Number.isFinite(v));
      if (values.length) spread[name] = [Math.min(...values), Math.max(...values)];
    }
    return { ...medianOf(rows), runs: rows.length, spread, perRun: rows };
  });
}

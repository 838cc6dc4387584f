// Number formatting shared by the report and the scenarios' pass lines: one way to print a figure
// that may be missing. Pure; must not grow into a report of its own (report.mjs is that).

/** `v` with `d` decimals, or an em dash when there is no figure. */
export const fmt = (v, d = 0) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(d);

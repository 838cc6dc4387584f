// The wall long-run's progress line: time-stamped, on stdout beside the report. Owns that one
// format; must not hold state.
export const log = (line) =>
  console.log(`[wall ${new Date().toISOString().slice(11, 19)}] ${line}`);

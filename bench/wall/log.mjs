// The long-run's progress line: time-stamped, on stdout beside the report. Owns that one
// format and its prefix (`wall` unless an entry point names itself); must not hold other state.
let prefix = 'wall';

/** The prefix of every line from here on (the browser fleet benchmark uses `fleet`). */
export const setLogPrefix = (name) => (prefix = name);

export const log = (line) =>
  console.log(`[${prefix} ${new Date().toISOString().slice(11, 19)}] ${line}`);

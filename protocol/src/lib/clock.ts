/*
 * Where code reads the time: one shape for every project, so time-driven logic (simulated
 * devices, alert rules, dashboard ages) takes a fake in tests. Owns the type and the system
 * clock only; ticking, scheduling and signals belong to the callers.
 */

/** Current time in ms since epoch; tests inject a fake one. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

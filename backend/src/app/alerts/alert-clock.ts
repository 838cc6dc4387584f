/**
 * The server clock the alert engine reads: owns this one definition and nothing else. Tests
 * hand the engine a clock they drive by hand; production uses {@link systemClock}. Must not
 * grow time logic: what the time means is the evaluators' and the lifecycle's business.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

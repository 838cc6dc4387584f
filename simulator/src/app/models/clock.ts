/** Where the simulator reads the time; tests inject a fake one. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

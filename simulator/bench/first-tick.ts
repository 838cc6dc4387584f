/*
 * Micro-benchmark of the simulator's models: what the first sample of a 10,000-device fleet
 * costs (every generator fresh: the clock-read walks and occupancy rebuild their state, see
 * metrics.ts), and what a later tick costs, in one process, 5 fleets of 5 seeds; median (min–max).
 * Owns nothing else; not part of the build or the tests.
 *
 *   cd simulator && npx ts-node -T -O '{"module":"commonjs"}' bench/first-tick.ts
 */
import { createFleet } from '../src/app/models/fleet';

const DEVICES = 10_000;
const RUNS = 5;
const first: number[] = [];
const later: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const fleet = createFleet({ count: DEVICES, prefix: 'sim', seed: 42 + r });
  const t = Date.now();
  let start = process.hrtime.bigint();
  for (const device of fleet) device.sample(t);
  first.push(Number(process.hrtime.bigint() - start) / 1e6);
  start = process.hrtime.bigint();
  for (let s = 1; s <= 5; s++) for (const device of fleet) device.sample(t + s * 1000);
  later.push(Number(process.hrtime.bigint() - start) / 1e6 / 5);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[]) =>
  `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
console.log(`${DEVICES} devices: first tick ${spread(first)}; a later tick ${spread(later)}`);

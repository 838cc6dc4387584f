/*
 * Micro-benchmark of what the fleet summary adds to the hot path: ns per reading through the
 * live hub's publishReadings with and without the summary, side by side in one process
 * (alternating rounds, medians), at 10,000 devices × 4 metrics with nobody watching their rooms
 * (the common case: the hub itself then does almost nothing). One pass is one second of that
 * fleet at 1 reading/s per device, followed by a push (not timed in the ns per reading; its own
 * cost, takeDelta with every device changed, is reported apart). Owns nothing else; not part of the build or the tests.
 *
 *   npx ts-node -T -r tsconfig-paths/register -P backend/tsconfig.app.json \
 *     backend/bench/fleet-summary-hot-path.ts
 */
import 'reflect-metadata';
import type { Reading } from '@pulse/protocol';
import { DeviceRegistryService } from '../src/app/devices/device-registry.service';
import { FleetSummaryService } from '../src/app/fleet/fleet-summary.service';
import { LiveEvents, LiveHubService } from '../src/app/live/live-hub.service';
import type { ReadingsFanOut } from '../src/app/live/readings-fan-out';

const DEVICES = 10_000;
const ROUNDS = 7;
const PASSES = 20; // readings per device per round

const config = { FLUSH_MS: 50 };
const nobodyWatches: ReadingsFanOut = { hasMembers: () => false, send: () => undefined };
const noEvents: LiveEvents = {
  emitDevices: () => undefined,
  emitAlert: () => undefined,
  emitGateway: () => undefined,
};

const registry = new DeviceRegistryService({ MAX_DEVICES: DEVICES });
const messages: { id: string; readings: Reading[] }[][] = [];
for (let p = 0; p < PASSES; p++) {
  const pass: { id: string; readings: Reading[] }[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const id = `sim-env-${d}`;
    const readings = [
      {
        deviceId: id,
        ts: 1_700_000_000_000 + p,
        values: { temperature: 20 + p / 10, humidity: 40, pressure: 1013.2, co2: 400 + p },
      },
    ];
    if (p === 0) registry.applyReadings(id, readings, Date.now());
    pass.push({ id, readings });
  }
  messages.push(pass);
}

const summary = new FleetSummaryService(registry);
const without = new LiveHubService(config, nobodyWatches, noEvents);
const withSummary = new LiveHubService(config, nobodyWatches, noEvents, undefined, summary);

/** Each pass is one second of the fleet (one reading per device), then a push, not timed. */
function nsPerReading(hub: LiveHubService, push: () => void): number {
  let ns = 0;
  for (const pass of messages) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < pass.length; i++)
      hub.publishReadings(pass[i].id, undefined, pass[i].readings);
    ns += Number(process.hrtime.bigint() - start);
    push();
  }
  return ns / (PASSES * DEVICES);
}
const pushMsList: number[] = [];
const push = () => {
  const start = process.hrtime.bigint();
  summary.takeDelta();
  pushMsList.push(Number(process.hrtime.bigint() - start) / 1e6);
};
const noPush = () => undefined;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const before: number[] = [];
const after: number[] = [];
nsPerReading(without, noPush); // warm-up both
nsPerReading(withSummary, push);
for (let r = 0; r < ROUNDS; r++) {
  before.push(nsPerReading(without, noPush));
  after.push(nsPerReading(withSummary, push));
}
const pushMs = median(pushMsList);
for (const { id, readings } of messages[0]) withSummary.publishReadings(id, undefined, readings);
const delta = summary.takeDelta();
const encodeStart = process.hrtime.bigint();
const bytes = Buffer.byteLength(JSON.stringify(delta?.changed));
const encodeMs = Number(process.hrtime.bigint() - encodeStart) / 1e6;

console.log(
  `devices ${DEVICES}, 4 metrics, ${PASSES * DEVICES} readings per round, ${ROUNDS} rounds`,
);
console.log(
  `hub.publishReadings without summary: ${median(before).toFixed(1)} ns/reading (median)`,
);
console.log(`hub.publishReadings with summary:    ${median(after).toFixed(1)} ns/reading (median)`);
console.log(`added by the summary: ${(median(after) - median(before)).toFixed(1)} ns/reading`);
console.log(
  `one push with all ${delta?.changed.length} devices changed (median): takeDelta ${pushMs.toFixed(1)} ms, JSON ${encodeMs.toFixed(1)} ms, ${bytes} bytes`,
);

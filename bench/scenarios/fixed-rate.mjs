// The fixed-rate measurement every fan-out scenario shares: publisher -> broker -> target ->
// clients at a set rate, warm-up, quiet gap, counters reset, the measured window, the drain; one
// result row with delivery, latency, CPU and RSS per role and Pulse's counters. A scenario may
// hook into the window (stall.mjs pauses clients in it). Owns the window's timing and the row's
// figures; must not judge them (each scenario's check does) nor print (report.mjs does).
import { histogramFromSparse } from '../lib/histogram.mjs';
import { broadcast, gather, quiet, startLoad } from '../lib/load.mjs';
import { forkQuiet, once, sample, stopChild, usageBetween, watch } from '../lib/procs.mjs';
import {
  DEVICES,
  PREFIX,
  pulseDelta,
  pulseStats,
  startMosquitto,
  startTarget,
} from '../lib/servers.mjs';
import { sleep } from '../lib/util.mjs';

const sumOrNull = (xs) =>
  xs.some((x) => typeof x === 'number') ? xs.reduce((a, x) => a + (x ?? 0), 0) : null;

/** p50/p99/max of the merged sparse histograms of several workers. */
export const latencyOf = (sparseList) => histogramFromSparse(sparseList).toJSON();

/** Wall-clock budget of a fixed-rate run: its window plus two minutes for start-up and drain. */
const rateBudgetS = (s) => (s.seconds ?? 0) + 120;

/**
 * After the warm-up, waits (at most `maxMs`) until Pulse's overload floor is down again and no
 * client is throttled: a throttle raised by the cold start (JIT, first-seen devices, a connection
 * storm) would otherwise hold into the window, which measures the rate, not the start. Raises
 * inside the window still count. Returns how long it waited (0 for peers and when none was up).
 */
async function floorDown(target, maxMs) {
  const start = Date.now();
  while (Date.now() - start < maxMs) {
    const stats = await pulseStats(target);
    const c = stats?.live?.conflation;
    if (!c || (!(c.floorMs > 0) && !(c.throttled > 0))) break;
    await sleep(250);
  }
  return Date.now() - start;
}

/** Quiet means no readings frame for 1 s (quick: 0.4 s), waited for at most 10 s (quick: 3 s). */
const quietOptions = (ctx) =>
  ctx.quick ? { maxMs: 3000, quietMs: 400 } : { maxMs: 10000, quietMs: 1000 };

/** Pulse's row of a scenario (the first whose label starts with `label`, when given). */
export const pulseRow = (rows, scenario, label) =>
  rows.find(
    (r) => r.scenario === scenario && r.target === 'pulse' && (!label || r.label.startsWith(label)),
  );

/** Every reading reached every client and the p99 is under `limitMs` (inclusive when `orEqual`). */
export const deliveredWithin = (r, limitMs, orEqual = false) =>
  r.deliveredPct === 100 &&
  r.latency.p99 !== null &&
  (orEqual ? r.latency.p99 <= limitMs : r.latency.p99 < limitMs);

/**
 * A fan-out scenario measured by runRate: `def` gives its sizes and `judge(r, ctx, items)` its
 * pass line from Pulse's row `r` (not called when Pulse did not run); `def.check` replaces that
 * when the verdict needs other rows.
 */
export function fixedRateScenario({ judge, ...def }) {
  return {
    run: runRate,
    budgetS: rateBudgetS,
    check(rows, s, ctx, items) {
      const r = pulseRow(rows, s.id);
      return r ? judge(r, ctx, items) : { pass: null, figure: 'not run' };
    },
    ...def,
  };
}

/**
 * One fixed-rate run of scenario `s` against `targetName`. Delivered % is readings received by
 * all clients / (published × clients requested). `hooks` (stall.mjs): `seconds(s)` the publish
 * window, `stalled(s)` clients left out of the expected count, `during(env)` runs inside the
 * window and returns its phases, `afterPublish(env)` before the drain, `extend(row, env)` last.
 */
export async function runRate(
  s,
  targetName,
  ctx,
  {
    broker: brokerKind = 'mosquitto',
    rate = s.rate,
    label,
    arrivals = s.arrivals ?? 'paced',
    format = 'pulse',
    env: targetEnv,
  } = {},
  hooks = {},
) {
  const broker = brokerKind === 'embedded' ? null : await startMosquitto();
  const target = await startTarget(
    targetName,
    broker,
    targetEnv ? { ...ctx, env: targetEnv } : ctx,
  );
  const brokerChild = broker?.child ?? null;
  const load = await startLoad(target, {
    clients: s.clients,
    transport: s.transport,
    stallFraction: s.stallFraction,
    refillMaxPoints: s.refillMaxPoints,
  });
  const mqttUrl = broker ? broker.url : target.mqttUrl;
  const tap = broker && ctx.tap ? forkQuiet('drain.mjs', [mqttUrl, 'count']) : null;
  if (tap) await once(tap, 'ready');
  // Warm-up at the same rate (JIT, first-seen devices, socket buffers), then a quiet gap so
  // nothing from it is in flight when the counters are reset for the measured window.
  const warmupS = s.warmup ?? (ctx.quick ? 0.5 : 2);
  const warm = forkQuiet('publisher.mjs', [
    mqttUrl,
    String(DEVICES),
    String(rate),
    String(warmupS),
    PREFIX,
    arrivals,
    format,
  ]);
  await once(warm, 'ready');
  const warmDone = once(warm, 'done', (warmupS + 30) * 1000);
  warm.send({ type: 'go' });
  await warmDone;
  await quiet(load.workers, quietOptions(ctx));
  const floorWaitMs = await floorDown(target, ctx.quick ? 3000 : 15000);
  const seconds = hooks.seconds ? hooks.seconds(s) : s.seconds;
  const publisher = forkQuiet('publisher.mjs', [
    mqttUrl,
    String(DEVICES),
    String(rate),
    String(seconds),
    PREFIX,
    arrivals,
    format,
  ]);
  await once(publisher, 'ready');
  await sleep(300);
  const procs = {
    server: target.child,
    broker: target.sameAsBroker ? null : brokerChild,
    load: load.workers,
    publisher,
    tap,
  };
  const statsBefore = await pulseStats(target);
  const tapBefore = tap ? (await gather([tap], 'count'))[0] : null;
  broadcast(load.workers, { type: 'reset' });
  const before = sample(procs);
  const watcher = watch(target, { server: target.child });
  const done = once(publisher, 'done', (seconds + 30) * 1000);
  publisher.send({ type: 'go' });
  const env = { s, target, load };
  env.phases = hooks.during ? await hooks.during(env) : {};
  const pub = await done;
  env.pubEndedAt = Date.now();
  const after = sample(procs);
  if (hooks.afterPublish) await hooks.afterPublish(env);
  // Drain: wait until every reading is in, or nothing has arrived for 1 s (at most 10 s, quick 3 s).
  // What never arrives is lost; what arrives late shows in the latency figures.
  const drainStart = Date.now();
  const expectedAll = pub.published * (s.clients - (hooks.stalled ? hooks.stalled(s) : 0));
  await quiet(load.workers, { ...quietOptions(ctx), expected: expectedAll });
  const drainMs = Date.now() - drainStart;
  const afterDrain = sample(procs);
  watcher.stop();
  const statsAfter = await pulseStats(target);
  const tapAfter = tap ? (await gather([tap], 'count'))[0] : null;
  const tapCount = tap ? { readings: tapAfter.readings - tapBefore.readings } : null;
  const reports = await gather(load.workers, 'report');
  // Denominator: what the publisher wrote (exact). The tap (a subscriber of the same broker)
  // cross-checks that the broker carried it; an overloaded broker delays the tap too.
  const published = pub.published;
  const received = reports.flatMap((r) => r.received);
  const expected = published * (s.clients - reports.reduce((a, r) => a + r.stalled.length, 0));
  const sum = received.reduce((a, b) => a + b, 0);
  const row = {
    scenario: s.id,
    label: label ?? s.id,
    target: targetName,
    broker: broker ? broker.kind : 'embedded aedes',
    transport: s.transport ?? 'websocket',
    clients: s.clients,
    clientsConnected: load.ok,
    connectErrors: load.errors,
    firstError: load.firstError,
    rateAsked: rate,
    arrivals,
    format,
    published: pub.published,
    tapped: tapCount?.readings ?? null,
    publishedPerSec: Math.round(pub.published / pub.seconds),
    publisherMaxLateMs: pub.maxLateMs,
    drainMs,
    publisherSkipped: pub.skipped,
    publisherUnflushedBytes: pub.unflushedBytes,
    received: sum,
    // Probe clients only (null: not told apart): never counted in `received` / delivered %.
    duplicates: sumOrNull(reports.map((r) => r.duplicates)),
    outOfOrder: sumOrNull(reports.map((r) => r.outOfOrder)),
    deliveredPct: expected ? (100 * sum) / expected : null,
    clientsComplete: received.filter((r) => r === published).length,
    minPerClient: received.length ? Math.min(...received) : 0,
    latency: latencyOf(reports.map((r) => r.latency)),
    // Healthy probes' newest-value age over the window (sampled every 250 ms).
    age: latencyOf(reports.map((r) => r.age)),
    usage: usageBetween(before, after),
    usageWithDrain: usageBetween(before, afterDrain),
    peakRssMb: watcher.peaks(),
    killed: watcher.killed(),
    pulse: pulseDelta(statsBefore, statsAfter),
    floorWaitMs,
    pulseBuild: target.builtAt ?? null,
  };
  if (hooks.extend) hooks.extend(row, { ...env, reports });
  await Promise.all([...load.workers, publisher, tap].filter(Boolean).map(stopChild));
  if (!target.sameAsBroker) await stopChild(target.child);
  if (brokerChild) await stopChild(brokerChild);
  return row;
}

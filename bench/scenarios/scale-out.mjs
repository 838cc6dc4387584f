// Scenario `scale-out` (issue 15, report only): the same devices and the same screens on one
// gateway, on two gateways + Redis (screens split between them) and on the relay (every delivery
// crosses Redis), one after another inside each run, for two screen shapes: the overview (fleet
// room, ~100 readings per batch) and device pages (every device's own room, ~1 reading per
// batch: one Redis message per reading, as with 1M devices at 1 reading/10 s). Owns its sizes,
// its measured window over several gateways and the figures the sizing (decision 0030) reads:
// CPU per delivered reading summed over gateways, brokers and redis-server, the Redis hop's cost.
// Not fixed-rate.mjs's window: that one measures one target; here every gateway, broker and Redis
// is a role of its own. It must not start processes itself (lib/scale-out.mjs does).
import os from 'node:os';
import { fmt } from '../lib/format.mjs';
import { broadcast, gather, quiet, startLoad } from '../lib/load.mjs';
import { median } from '../lib/median.mjs';
import { forkQuiet, once, sample, stopChild, usageBetween } from '../lib/procs.mjs';
import { stopTopology, TOPOLOGIES } from '../lib/scale-out.mjs';
import { DEVICE_IDS, DEVICES, PREFIX, pulseDelta, pulseStats } from '../lib/servers.mjs';
import { sleep } from '../lib/util.mjs';
import { latencyOf } from './fixed-rate.mjs';

/** The screens: what each subscribes (with history in the ack, as the dashboard asks). */
const SHAPES = {
  fleet: { clients: 300, rate: 1000, subscribe: { fleet: true, maxPoints: 60, timeDeltas: true } },
  devices: {
    clients: 20,
    rate: 1000,
    subscribe: { devices: DEVICE_IDS, maxPoints: 60, timeDeltas: true },
  },
};
const ROWS = [
  ['one', '1 gateway'],
  ['two', '2 gateways + Redis'],
  ['relay', 'relay: all via Redis'],
  ['bystander', 'relay + a gateway without screens'],
];
/** The rows each shape runs: the bystander (the one channel's cost to a gateway that needs none of it) where a message is a reading. */
const ROWS_OF = { fleet: ['one', 'two', 'relay'], devices: ['one', 'two', 'relay', 'bystander'] };
const rowsOf = (shape) => ROWS.filter(([topology]) => ROWS_OF[shape].includes(topology));

/** A gateway's CPU role: gatewayA, gatewayB, gatewayC. */
const roleOf = (i) => `gateway${'ABC'[i]}`;

const sum = (xs) => xs.reduce((a, x) => a + (x ?? 0), 0);

/** Every numeric counter of several gateways' /api/stats deltas added up (disconnects merged). */
function sumDeltas(deltas) {
  const present = deltas.filter(Boolean);
  if (!present.length) return null;
  const out = {};
  for (const d of present)
    for (const [k, v] of Object.entries(d)) {
      if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
      else if (k === 'disconnects') {
        out.disconnects ??= {};
        for (const [why, n] of Object.entries(v))
          out.disconnects[why] = (out.disconnects[why] ?? 0) + n;
      }
    }
  return out;
}

/** Cross-gateway batches over the window: published to / received from Redis, per gateway. */
const crossDelta = (before, after) =>
  after.map((s, i) => ({
    published:
      (s?.live.crossGateway?.published ?? 0) - (before[i]?.live.crossGateway?.published ?? 0),
    received: (s?.live.crossGateway?.received ?? 0) - (before[i]?.live.crossGateway?.received ?? 0),
  }));

/** The gateways' sum as `server`, the role the table and the other scenarios' rows show. */
function withServer(usage, gateways) {
  const roles = gateways.map((_, i) => usage[roleOf(i)]);
  return {
    ...usage,
    server: { cpuPct: sum(roles.map((u) => u.cpuPct)), rssMb: sum(roles.map((u) => u.rssMb)) },
  };
}

async function publisher(mqttUrl, rate, seconds) {
  const child = forkQuiet('publisher.mjs', [
    mqttUrl,
    String(DEVICES),
    String(rate),
    String(seconds),
    PREFIX,
    'paced',
    'pulse',
  ]);
  await once(child, 'ready');
  return child;
}

/** One row: `topology` with `shape`'s screens, warm-up, quiet gap, window, drain. */
async function runRow(s, ctx, shapeName, topologyName, label) {
  const shape = { ...SHAPES[shapeName], ...s.shapes[shapeName] };
  const stack = await TOPOLOGIES[topologyName](ctx);
  const loads = [];
  for (const [gateway, n] of stack.screens(shape.clients))
    loads.push(await startLoad({ ...gateway, subscribe: shape.subscribe }, { clients: n }));
  const workers = loads.flatMap((l) => l.workers);
  const quietOpts = ctx.quick ? { maxMs: 3000, quietMs: 400 } : { maxMs: 10000, quietMs: 1000 };
  // Warm-up at the same rate: JIT, first-seen devices, and the peers' room interest over Redis.
  const warmupS = ctx.quick ? 0.5 : 2;
  const warm = await publisher(stack.mqttUrl, shape.rate, warmupS);
  const warmDone = once(warm, 'done', (warmupS + 30) * 1000);
  warm.send({ type: 'go' });
  await warmDone;
  await quiet(workers, quietOpts);
  const pub = await publisher(stack.mqttUrl, shape.rate, s.seconds);
  await sleep(300);
  // Each gateway a role of its own; `server` (the table's column) is their sum, added after.
  const procs = {
    ...Object.fromEntries(stack.gateways.map((g, i) => [roleOf(i), g.child])),
    broker: stack.brokers,
    redis: stack.redis,
    load: workers,
    publisher: pub,
  };
  const statsBefore = await Promise.all(stack.gateways.map(pulseStats));
  broadcast(workers, { type: 'reset' });
  const before = sample(procs);
  const done = once(pub, 'done', (s.seconds + 30) * 1000);
  pub.send({ type: 'go' });
  const published = (await done).published;
  const after = sample(procs);
  await quiet(workers, { ...quietOpts, expected: published * shape.clients });
  const afterDrain = sample(procs);
  const statsAfter = await Promise.all(stack.gateways.map(pulseStats));
  const reports = await gather(workers, 'report');
  const received = sum(reports.flatMap((r) => r.received));
  const usage = withServer(usageBetween(before, after), stack.gateways);
  const withDrain = withServer(usageBetween(before, afterDrain), stack.gateways);
  // Every process of the system under test (not the load clients, not the publisher).
  const systemCpuS =
    ((withDrain.server.cpuPct + withDrain.broker.cpuPct + (withDrain.redis?.cpuPct ?? 0)) / 100) *
    withDrain.seconds;
  const deltas = stack.gateways.map((g, i) => pulseDelta(statsBefore[i], statsAfter[i]));
  const row = {
    scenario: s.id,
    label: `${shapeName}: ${label}`,
    target: 'pulse',
    shape: shapeName,
    topology: topologyName,
    broker: 'mosquitto',
    transport: 'websocket',
    clients: shape.clients,
    clientsConnected: sum(loads.map((l) => l.ok)),
    connectErrors: sum(loads.map((l) => l.errors)),
    rateAsked: shape.rate,
    published,
    publishedPerSec: Math.round(published / s.seconds),
    received,
    duplicates: sum(reports.map((r) => r.duplicates)),
    outOfOrder: sum(reports.map((r) => r.outOfOrder)),
    deliveredPct: (100 * received) / (published * shape.clients),
    latency: latencyOf(reports.map((r) => r.latency)),
    usage,
    usageWithDrain: withDrain,
    systemCpuPct: usage.server.cpuPct + usage.broker.cpuPct + (usage.redis?.cpuPct ?? 0),
    // CPU µs of gateways + brokers + redis-server per reading delivered to a screen / published.
    usPerDelivered: received ? (systemCpuS * 1e6) / received : null,
    usPerReading: published ? (systemCpuS * 1e6) / published : null,
    gatewayUsPerReading: stack.gateways.map(
      (_, i) => ((withDrain[roleOf(i)].cpuPct / 100) * withDrain.seconds * 1e6) / published,
    ),
    ingested: deltas.map((d) => d?.accepted ?? null),
    crossGateway: crossDelta(statsBefore, statsAfter),
    pulse: sumDeltas(deltas),
    // The bystander (gateway C): its CPU µs per message on the channel, every one read and dropped.
    bystanderUsPerMessage:
      stack.gateways.length > 2
        ? ((withDrain.gatewayC.cpuPct / 100) * withDrain.seconds * 1e6) /
          Math.max(1, sum(crossDelta(statsBefore, statsAfter).map((g) => g.published)))
        : null,
    loadAvg: null,
  };
  await Promise.all(workers.map(stopChild));
  await stopChild(pub);
  await stopTopology(stack);
  return row;
}

/** The Redis hop per run: relay minus one gateway (CPU µs per reading, p50/p99 ms), per shape. */
export function hopCost(rows, shapeName) {
  const one = rows.find((r) => r.scenario === 'scale-out' && r.label === `${shapeName}: 1 gateway`);
  const relay = rows.find(
    (r) => r.scenario === 'scale-out' && r.label.startsWith(`${shapeName}: relay`),
  );
  if (!one || !relay) return null;
  const runs = Math.min(one.perRun?.length ?? 1, relay.perRun?.length ?? 1);
  const per = Array.from({ length: runs }, (_, i) => {
    const [o, r] = [one.perRun?.[i] ?? one, relay.perRun?.[i] ?? relay];
    return {
      us: r.usPerReading - o.usPerReading,
      p50: r.latency.p50 - o.latency.p50,
      p99: r.latency.p99 - o.latency.p99,
      batches: r.crossGateway.reduce((n, g) => n + g.published, 0) / r.published,
    };
  });
  const fold = (k) => ({
    median: median(per.map((p) => p[k])),
    min: Math.min(...per.map((p) => p[k])),
    max: Math.max(...per.map((p) => p[k])),
  });
  return { us: fold('us'), p50: fold('p50'), p99: fold('p99'), batchesPerReading: fold('batches') };
}

export default {
  id: 'scale-out',
  target: 15,
  item: '15 (scale-out, report only)',
  targets: ['pulse'],
  seconds: 15,
  shapes: { fleet: {}, devices: {} },
  what: 'one gateway vs two gateways + Redis vs relay (all via Redis), fleet and device-page screens, 1k readings/s: delivered %, p99, CPU per delivered reading (gateways + brokers + redis), Redis hop cost (report only)',
  quick: { seconds: 1, shapes: { fleet: { clients: 100 } } },
  budgetS: (s) =>
    Object.keys(s.shapes).reduce((n, shape) => n + rowsOf(shape).length, 0) * (s.seconds + 120),
  async run(s, _target, ctx) {
    const rows = [];
    for (const shapeName of Object.keys(s.shapes))
      for (const [topology, label] of rowsOf(shapeName)) {
        const row = await runRow(s, ctx, shapeName, topology, label);
        row.loadAvg = os.loadavg().map((x) => Math.round(x * 100) / 100);
        rows.push(row);
      }
    return rows;
  },
  // Issue 15 gives no limit for these rows: they are reported, never judged.
  check(rows) {
    const parts = [];
    for (const shape of ['fleet', 'devices']) {
      const mine = rows.filter((r) => r.scenario === 'scale-out' && r.shape === shape);
      if (!mine.length) continue;
      const cells = mine.map(
        (r) =>
          `${r.label.split(': ')[1]} ${fmt(r.deliveredPct, 2)}% p99 ${r.latency.p99} ms ${fmt(r.usPerDelivered, 2)} µs/delivered${r.duplicates ? ` ${r.duplicates} dup` : ''}`,
      );
      const hop = hopCost(rows, shape);
      if (hop)
        cells.push(
          `Redis hop +${fmt(hop.us.median, 1)} µs CPU/reading (${fmt(hop.us.min, 1)}–${fmt(hop.us.max, 1)}), p99 ${hop.p99.median >= 0 ? '+' : ''}${fmt(hop.p99.median)} ms, ${fmt(hop.batchesPerReading.median, 2)} Redis messages/reading`,
        );
      parts.push(`${shape}: ${cells.join('; ')}`);
    }
    return { pass: null, figure: `report only (no limit in issue 15) — ${parts.join(' | ')}` };
  },
};

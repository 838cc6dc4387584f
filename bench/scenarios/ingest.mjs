// Scenario `ingest` (target 5): the raw drain ceilings (simulator --load -> Mosquitto or Aedes ->
// one mqtt.js JSON.parse subscriber), Pulse's accepted rate under the same --load, and Pulse
// driven losslessly at 70% / 90% of those drains, the 70% run also with devices in the generic
// `json` format through an ingest source (issue 14) under the same limit. Owns the drain and probe
// measurements, its rows and pass line; the lossless runs are fixed-rate.mjs's, and it must not
// print.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_TARGETS } from '../lib/args.mjs';
import { fmt } from '../lib/format.mjs';
import { gather, broadcast, startLoad } from '../lib/load.mjs';
import { forkQuiet, once, root, sample, stopChild, track, usageBetween } from '../lib/procs.mjs';
import {
  DEVICES,
  PREFIX,
  getJson,
  startAedes,
  startMosquitto,
  startPulse,
} from '../lib/servers.mjs';
import { sleep } from '../lib/util.mjs';
import { startPostgres } from '../lib/postgres.mjs';
import { latencyOf, pulseRow, runRate } from './fixed-rate.mjs';

/** Raw drain: simulator --load -> broker -> one mqtt.js subscriber doing JSON.parse; readings/s in the steady window. */
async function rawDrain(s, brokerKind) {
  const broker = brokerKind === 'aedes' ? await startAedes() : await startMosquitto();
  const drain = forkQuiet('drain.mjs', [broker.url, 'parse']);
  await once(drain, 'ready');
  const result = await loadRun(
    s,
    broker.url,
    async () => (await gather([drain], 'count'))[0].readings,
    { server: drain, broker: broker.child },
  );
  await stopChild(drain);
  await stopChild(broker.child);
  return {
    scenario: s.id,
    label: `raw drain ${brokerKind} -> mqtt.js (server = the subscriber)`,
    target: `raw ${brokerKind}`,
    broker: brokerKind,
    ...result,
  };
}

/** Pulse under the simulator's --load: accepted readings/s in the steady window (a probe of the ceiling). */
async function pulseProbe(s, brokerKind, ctx) {
  const broker = brokerKind === 'embedded' ? null : await startMosquitto();
  const target = await startPulse(broker, ctx);
  const load = await startLoad(target, { clients: s.clients });
  broadcast(load.workers, { type: 'reset' });
  const result = await loadRun(
    s,
    broker ? broker.url : target.mqttUrl,
    async () => (await getJson(`${target.url}/api/stats`, target.token)).readings.accepted,
    { server: target.child, broker: broker?.child, load: load.workers },
  );
  const reports = await gather(load.workers, 'report');
  await Promise.all(load.workers.map(stopChild));
  await stopChild(target.child);
  if (broker) await stopChild(broker.child);
  return {
    scenario: s.id,
    label: `pulse ceiling probe (${broker ? 'mosquitto' : 'embedded aedes'}, simulator --load)`,
    target: 'pulse',
    broker: broker ? 'mosquitto' : 'embedded aedes',
    clients: s.clients,
    latency: latencyOf(reports.map((r) => r.latency)),
    ...result,
  };
}

/** Runs `simulator --load` for s.seconds and measures counter() growth between 1 s in and the end. */
async function loadRun(s, mqttUrl, counter, procs) {
  // --duration is only a safety bound: the simulator is stopped right after the window.
  const simArgs = [
    '--url',
    mqttUrl,
    '--devices',
    String(DEVICES),
    '--seed',
    '7',
    '--duration',
    String(s.seconds + 30),
    '--load',
    '--quiet',
    '--prefix',
    PREFIX,
  ];
  const sim = track(
    spawn(process.execPath, [path.join(root, 'dist/simulator/main.js'), ...simArgs], {
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const all = { ...procs, simulator: sim };
  await sleep(1000); // ramp-up: connections, retained status/meta
  const c0 = await counter();
  const before = sample(all);
  await sleep(s.seconds * 1000 - 500);
  const c1 = await counter();
  const after = sample(all);
  await stopChild(sim);
  const secs = (after.t - before.t) / 1000;
  return { ratePerSec: Math.round((c1 - c0) / secs), usage: usageBetween(before, after) };
}

/**
 * The ingest source the `json` row's devices publish to (publisher.mjs's `json` format): the
 * device from the topic, the reading's time from `ts`, nested fields flattened, `Time` skipped.
 */
function jsonSourcesFile() {
  const file = path.join(os.tmpdir(), `pulse-bench-json-sources-${process.pid}.json`);
  const source = {
    name: 'bench-json',
    topic: 'bench-json/+',
    device: { segment: 1 },
    format: 'json',
    timestamp: { field: 'ts', format: 'ms' },
  };
  fs.writeFileSync(file, JSON.stringify({ sources: [source] }));
  return file;
}

/** The drains, then Pulse at a share of each; the Aedes half is skipped in quick mode. */
async function runIngest(s, _targetName, ctx) {
  const rows = [];
  const pulseOn = (ctx.targets ?? ALL_TARGETS).includes('pulse');
  const rawMosq = await rawDrain(s, 'mosquitto');
  rows.push(rawMosq);
  if (pulseOn && !ctx.quick) rows.push(await pulseProbe(s, 'mosquitto', ctx));
  if (pulseOn)
    rows.push(
      await runRate(s, 'pulse', ctx, {
        rate: Math.ceil(rawMosq.ratePerSec * 0.7),
        label: 'pulse lossless @70% of raw mosquitto drain',
      }),
    );
  if (pulseOn)
    rows.push(
      await runRate(s, 'pulse', ctx, {
        rate: Math.ceil(rawMosq.ratePerSec * 0.7),
        label: 'pulse lossless json format @70% of raw mosquitto drain',
        format: 'json',
        env: { INGEST_SOURCES_FILE: jsonSourcesFile() },
      }),
    );
  if (pulseOn && s.postgres !== false) {
    // The whole pipeline with the production store: at half the lossless rate asked above
    // (issue 13: PostgreSQL keeps up with at least half of target 5's rate).
    const cluster = await startPostgres();
    try {
      rows.push(
        await runRate(s, 'pulse', ctx, {
          rate: Math.ceil(rawMosq.ratePerSec * 0.35),
          label: 'pulse lossless @35% of raw mosquitto drain, PostgreSQL store',
          env: { DATABASE_URL: cluster.createDatabase('pulse_ingest') },
        }),
      );
    } finally {
      await cluster.stop();
    }
  }
  if (s.embedded === false) return rows; // quick: the Mosquitto half only
  const rawAedes = await rawDrain(s, 'aedes');
  rows.push(rawAedes);
  if (pulseOn) rows.push(await pulseProbe(s, 'embedded', ctx));
  if (pulseOn)
    rows.push(
      await runRate(s, 'pulse', ctx, {
        broker: 'embedded',
        rate: Math.ceil(rawAedes.ratePerSec * 0.9),
        label: 'pulse lossless @90% of raw aedes drain (embedded)',
      }),
    );
  return rows;
}

const lossless = (v) => v && v.pulse && v.pulse.accepted === v.published && v.deliveredPct === 100;
/** Probe rate as % of the raw drain it is compared with. */
const shareOf = (probe, raw) =>
  fmt((100 * (probe?.ratePerSec ?? 0)) / Math.max(raw?.ratePerSec ?? 1, 1));

export default {
  id: 'ingest',
  target: 5,
  clients: 10,
  seconds: 8,
  // One run for the whole scenario: it picks its own targets (drains, then Pulse).
  runsOnce: true,
  what: 'ingest with 10 clients: lossless at >= 70% of raw Mosquitto->mqtt.js drain (the contract and the json format) and >= 90% of raw Aedes drain (embedded)',
  quick: { seconds: 2, embedded: false, postgres: false },
  run: runIngest,
  budgetS: (s) => 8 * (s.seconds + 30),
  check(rows, s) {
    const rawM = rows.find((x) => x.target === 'raw mosquitto');
    const rawA = rows.find((x) => x.target === 'raw aedes');
    const vm = pulseRow(rows, s.id, 'pulse lossless @70%');
    const vj = pulseRow(rows, s.id, 'pulse lossless json format @70%');
    const va = pulseRow(rows, s.id, 'pulse lossless @90%');
    const probeM = pulseRow(rows, s.id, 'pulse ceiling probe (mosquitto');
    const probeA = pulseRow(rows, s.id, 'pulse ceiling probe (embedded');
    return {
      // The json row holds to the same line when it ran (results from before it have none).
      pass: vm && va ? Boolean(lossless(vm) && lossless(va) && (!vj || lossless(vj))) : null,
      figure:
        `raw mosquitto drain ${fmt(rawM?.ratePerSec)}/s -> pulse at ${fmt(vm?.publishedPerSec)}/s: accepted ${vm?.pulse?.accepted ?? '—'}/${vm?.published ?? '—'}, delivered ${fmt(vm?.deliveredPct, 2)}%; ` +
        (vj
          ? `json format at ${fmt(vj.publishedPerSec)}/s: accepted ${vj.pulse?.accepted ?? '—'}/${vj.published}, delivered ${fmt(vj.deliveredPct, 2)}%; `
          : '') +
        `raw aedes drain ${fmt(rawA?.ratePerSec)}/s -> pulse embedded at ${fmt(va?.publishedPerSec)}/s: accepted ${va?.pulse?.accepted ?? '—'}/${va?.published ?? '—'}, delivered ${fmt(va?.deliveredPct, 2)}%; ` +
        `probe under --load: ${fmt(probeM?.ratePerSec)}/s (mosquitto, ${shareOf(probeM, rawM)}% of raw), ${fmt(probeA?.ratePerSec)}/s (embedded, ${shareOf(probeA, rawA)}% of raw)`,
    };
  },
};

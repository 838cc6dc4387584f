// Scenario `reconnect-5k` (target 8): 5,000 dashboards on one gateway when it dies. The gateway is
// killed (SIGKILL) while readings flow and started again on the same port, broker and data; every
// client reconnects with the dashboard's backoff and subscribes again like a dashboard (the fleet,
// 60 points of history). Pass: all of them back, each ack with history, within 20 s of the kill.
// Owns its sizes, the restart and the storm's row; must not print (report.mjs does).
import { fmt } from '../lib/format.mjs';
import { gather, startLoad } from '../lib/load.mjs';
import { forkQuiet, once, procStats, stopChild } from '../lib/procs.mjs';
import { DEVICES, PREFIX, restartPulse, startMosquitto, startPulse } from '../lib/servers.mjs';
import { sleep } from '../lib/util.mjs';

const LIMIT_S = 20;
/** Readings/s while it happens (1 per device per second): history to give back, live to resume. */
const RATE = DEVICES;
/** How long to wait for stragglers after the kill before calling the rest lost. */
const GIVE_UP_S = 60;

const percentile = (sorted, p) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
    : null;

async function runStorm(s, _target, ctx) {
  const broker = await startMosquitto();
  const target = await startPulse(broker, ctx);
  // An external broker outlives the gateway, as in production: devices keep publishing.
  const seconds = GIVE_UP_S + 120;
  const publisher = forkQuiet('publisher.mjs', [
    broker.url,
    String(DEVICES),
    String(RATE),
    String(seconds),
    PREFIX,
    'poisson',
  ]);
  await once(publisher, 'ready');
  publisher.send({ type: 'go' });
  await sleep(3000); // some history before the first subscribe
  const load = await startLoad(target, { clients: s.clients, reconnect: true });
  await sleep(2000);
  const { killedAt, servingAt } = await restartPulse(target);
  let storm;
  let peakRss = 0;
  for (;;) {
    peakRss = Math.max(peakRss, procStats(target.child.pid).rss);
    const replies = await gather(load.workers, 'storm');
    storm = {
      lost: replies.reduce((a, r) => a + r.lost, 0),
      back: replies.flatMap((r) => r.back),
      withHistory: replies.reduce((a, r) => a + r.withHistory, 0),
      attempts: replies.reduce((a, r) => a + r.attempts, 0),
    };
    if (storm.back.length >= load.ok || Date.now() - killedAt > GIVE_UP_S * 1000) break;
    await sleep(250);
  }
  const backS = storm.back.map((t) => (t - killedAt) / 1000).sort((a, b) => a - b);
  await gather(load.workers, 'report');
  await Promise.all([publisher, ...load.workers].map(stopChild));
  await stopChild(target.child);
  await stopChild(broker.child);
  return {
    scenario: s.id,
    label: s.id,
    target: 'pulse',
    broker: broker.kind,
    transport: 'websocket',
    clients: s.clients,
    clientsConnected: load.ok,
    connectErrors: load.errors,
    firstError: load.firstError,
    storm: {
      restartS: (servingAt - killedAt) / 1000,
      lost: storm.lost,
      back: backS.length,
      withHistory: storm.withHistory,
      attempts: storm.attempts,
      p50S: percentile(backS, 50),
      p99S: percentile(backS, 99),
      maxS: backS.at(-1) ?? null,
    },
    peakRssMb: { server: Math.round(peakRss / 1048576) },
    pulseBuild: target.builtAt ?? null,
  };
}

export default {
  id: 'reconnect-5k',
  target: 8,
  clients: 5000,
  targets: ['pulse'],
  what: `5,000 dashboards through a gateway crash and restart: all back with history within ${LIMIT_S} s of the kill`,
  quick: { clients: 300 },
  run: runStorm,
  budgetS: () => GIVE_UP_S + 240,
  check(rows, s) {
    const r = rows.find((x) => x.scenario === s.id && x.target === 'pulse');
    if (!r) return { pass: null, figure: 'not run' };
    const st = r.storm;
    return {
      pass:
        r.clientsConnected === s.clients &&
        st.back === s.clients &&
        st.withHistory === s.clients &&
        st.maxS !== null &&
        st.maxS <= LIMIT_S,
      figure: `${st.back}/${s.clients} back (${st.withHistory} with history) after a SIGKILL: gateway serving again after ${fmt(st.restartS, 1)} s, clients back p50 ${fmt(st.p50S, 1)} s, p99 ${fmt(st.p99S, 1)} s, last ${fmt(st.maxS, 1)} s (limit ${LIMIT_S}), ${st.attempts} connection attempts`,
    };
  },
};

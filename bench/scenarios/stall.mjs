// Scenario `stall` (target 7b): 1,000 clients at 2,500 readings/s, 10% stop reading for 60 s, then
// resume. The rate is a quarter of the 10k/s that saturated this 2-core machine before any client
// stalled (fixed, not tuned to pass). Pass: healthy clients' newest-value age p99 <= 1 s before,
// during and after the stall (the refill), nobody disconnected by the gateway, RSS + <= 100 MB over
// the stall, every stalled client whole again (refilled from history covering every series, or
// never paused: throttled to merged readings, which hide nothing). Owns its sizes, the hooks that
// pause and resume the stallable clients inside the fixed-rate window and sample RSS and ages at
// its phases, the refill wait, the row's `stall` figures and its pass line; must not start
// processes itself (fixed-rate.mjs runs the window).
import { broadcast, gather } from '../lib/load.mjs';
import { procStats, watch } from '../lib/procs.mjs';
import { DEVICES } from '../lib/servers.mjs';
import { fmt } from '../lib/format.mjs';
import { sleep } from '../lib/util.mjs';
import { latencyOf, pulseRow, runRate } from './fixed-rate.mjs';

const stalledCount = (s) => Math.round(s.clients * s.stallFraction);

const hooks = {
  seconds: (s) => s.baseline + s.stall + s.after,
  stalled: stalledCount,
  async during({ s, target, load }) {
    await sleep(s.baseline * 1000);
    const baseline = {
      snapshot: await gather(load.workers, 'snapshot', { type: 'snapshot', tag: 'baseline' }),
      rss: procStats(target.child.pid).rss,
    };
    broadcast(load.workers, { type: 'stall' });
    const stallWatch = watch(target, { server: target.child });
    await sleep(s.stall * 1000);
    stallWatch.stop();
    const stall = {
      snapshot: await gather(load.workers, 'snapshot', { type: 'snapshot', tag: 'stall' }),
      rss: procStats(target.child.pid).rss,
      peakRssMb: stallWatch.peaks().server,
    };
    broadcast(load.workers, { type: 'resume' });
    await sleep(s.after * 1000);
    const refill = {
      snapshot: await gather(load.workers, 'snapshot', { type: 'snapshot', tag: 'refill' }),
    };
    return { baseline, stall, refill };
  },
  async afterPublish({ load }) {
    // Give the stalled clients' refills (lagged -> subscribe with since -> ack) up to 20 s more.
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      const p = await gather(load.workers, 'progress');
      if (p.every((x) => x.pending === 0)) break;
      await sleep(500);
    }
  },
  extend(row, { phases, reports, pubEndedAt }) {
    const stalled = reports.flatMap((r) => r.stalled);
    row.stall = {
      stalledClients: stalled.length,
      baselineHealthy: latencyOf(phases.baseline.snapshot.map((r) => r.latency)),
      duringStallHealthy: latencyOf(phases.stall.snapshot.map((r) => r.latency)),
      afterStallHealthy: latencyOf(phases.refill.snapshot.map((r) => r.latency)),
      // Newest-value age of healthy clients in each phase: what their screens showed.
      age: {
        baseline: latencyOf(phases.baseline.snapshot.map((r) => r.age)),
        stall: latencyOf(phases.stall.snapshot.map((r) => r.age)),
        refill: latencyOf(phases.refill.snapshot.map((r) => r.age)),
      },
      afterHealthy: row.latency,
      rssAtStallStartMb: phases.baseline.rss / 1048576,
      rssAtStallEndMb: phases.stall.rss / 1048576,
      peakRssDuringStallMb: phases.stall.peakRssMb,
      rssGrowthMb: phases.stall.peakRssMb - phases.baseline.rss / 1048576,
      toldLagged: stalled.filter((c) => c.lagged).length,
      healthyLagged: reports.reduce((a, r) => a + (r.healthyLagged ?? 0), 0),
      healthyLaggedSample: reports.flatMap((r) => r.healthyLaggedSample ?? []).slice(0, 3),
      publishedUntil: pubEndedAt,
      reconnected: stalled.filter((c) => c.reconnected).length,
      // Refilled: the ack came back with history that starts at the gap for every series it holds;
      // complete: and it holds every series of the fleet (4 metrics per bench device).
      refilled: stalled.filter(
        (c) => c.refill?.ok && c.refill.series > 0 && c.refill.covered === c.refill.series,
      ).length,
      refilledComplete: stalled.filter((c) => c.refill?.ok && c.refill.covered >= DEVICES * 4)
        .length,
      // Whole again: refilled with every series from the gap on, or never paused at all.
      whole: stalled.filter(
        (c) => (c.refill?.ok && c.refill.covered >= DEVICES * 4) || (!c.lagged && !c.reconnected),
      ).length,
      refillPoints: stalled.reduce((a, c) => a + (c.refill?.points ?? 0), 0),
      refillSample: stalled.slice(0, 3),
      stalledLatency: latencyOf(reports.map((r) => r.stalledLatency)),
    };
  },
};

const LIMIT_AGE_MS = 1000;
const LIMIT_RSS_MB = 100;

/** The gateway cut nobody off: no lag disconnects, no healthy client closed. */
export const nobodyCut = (r) =>
  (r.pulse?.lagDisconnects ?? 0) === 0 && (r.pulse?.ackDisconnects ?? 0) === 0;

export default {
  id: 'stall',
  target: 7,
  item: '7b',
  clients: 1000,
  rate: 2500,
  stallFraction: 0.1,
  baseline: 15,
  stall: 60,
  after: 15,
  targets: ['pulse'],
  // Warm-up: JIT, history well on its way, sockets' buffers at their working size, so the RSS
  // growth measured over the stall is mostly the stall's.
  warmup: 80,
  /**
   * Points per series a stalled client asks for when it refills: a chart's width, as the
   * dashboard does. The gateway spreads them over the gap (decimated), so the refill covers it
   * whatever its length.
   */
  refillMaxPoints: 600,
  what: `1,000 clients at 2.5k readings/s, 10% stalled 60 s: healthy newest-value age p99 <= ${LIMIT_AGE_MS} ms before, during and after, nobody disconnected, RSS + <= ${LIMIT_RSS_MB} MB, every stalled client whole again`,
  quick: { clients: 50, rate: 1000, baseline: 2, stall: 4, after: 2, warmup: 0.5 },
  run: (s, targetName, ctx) => runRate(s, targetName, ctx, {}, hooks),
  budgetS: (s) => (s.warmup ?? 0) + s.baseline + s.stall + s.after + 120,
  check(rows, s) {
    const r = pulseRow(rows, 'stall');
    const st = r?.stall;
    if (!st) return { pass: null, figure: 'not run' };
    const ages = ['baseline', 'stall', 'refill'].map((phase) => st.age[phase].p99);
    return {
      pass:
        ages.every((a) => a !== null && a <= LIMIT_AGE_MS) &&
        nobodyCut(r) &&
        st.rssGrowthMb <= LIMIT_RSS_MB &&
        st.whole === st.stalledClients,
      figure: `${st.stalledClients}/${r.clients} stalled ${s.stall} s at ${r.publishedPerSec}/s: healthy newest-value age p99 ${ages.map((a) => fmt(a)).join(' / ')} ms before / during / after (limit ${LIMIT_AGE_MS}); RSS +${fmt(st.rssGrowthMb, 1)} MB (limit ${LIMIT_RSS_MB}); disconnected by the gateway ${(r.pulse?.lagDisconnects ?? 0) + (r.pulse?.ackDisconnects ?? 0)}; whole again ${st.whole}/${st.stalledClients} (told lagged ${st.toldLagged}, refilled ${st.refilledComplete} completely, reconnected ${st.reconnected}); healthy latency p99 ${fmt(st.baselineHealthy.p99)} -> ${fmt(st.duringStallHealthy.p99)} -> ${fmt(st.afterStallHealthy.p99)} ms`,
    };
  },
};

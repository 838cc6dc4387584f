// Scenario `stall` (target 7b): 1,000 clients at 10k readings/s, 10% stop reading for 60 s, then
// resume. Owns its sizes, the hooks that pause and resume the stallable clients inside the
// fixed-rate window and sample RSS at its phases, the refill wait, the row's `stall` figures and
// its pass line; must not start processes itself (fixed-rate.mjs runs the window).
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
    return { baseline, stall };
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
      refillPoints: stalled.reduce((a, c) => a + (c.refill?.points ?? 0), 0),
      refillSample: stalled.slice(0, 3),
      stalledLatency: latencyOf(reports.map((r) => r.stalledLatency)),
    };
  },
};

/** Healthy p99 during the stall within max(+20%, +10 ms) of the baseline's. */
function healthyUnchanged(st) {
  const before = st.baselineHealthy.p99;
  const during = st.duringStallHealthy.p99;
  return during !== null && during <= Math.max(before * 1.2, before + 10);
}

export default {
  id: 'stall',
  target: 7,
  item: '7b',
  clients: 1000,
  rate: 10000,
  stallFraction: 0.1,
  baseline: 15,
  stall: 60,
  after: 15,
  targets: ['pulse'],
  // Warm-up long enough for history to reach its cap (HISTORY_MAX_POINTS 7,200 points per
  // series at 100 points/s), as on a gateway that has been running: the RSS growth measured
  // over the stall is then the stall's, not history filling up.
  warmup: 80,
  /**
   * Points per series a stalled client asks for when it refills: a chart's width, as the
   * dashboard does. The gateway spreads them over the gap (decimated), so the refill covers it
   * whatever its length.
   */
  refillMaxPoints: 600,
  what: '1,000 clients at 10k readings/s, 10% stalled 60 s: RSS grows < 50 MB, healthy p99 unchanged, stalled told `lagged` and refilled',
  quick: { clients: 50, rate: 5000, baseline: 2, stall: 4, after: 2, warmup: 0.5 },
  run: (s, targetName, ctx) => runRate(s, targetName, ctx, {}, hooks),
  budgetS: (s) => (s.warmup ?? 0) + s.baseline + s.stall + s.after + 120,
  check(rows, s, ctx) {
    const r = pulseRow(rows, 'stall');
    const st = r?.stall;
    if (ctx.quick && st && r.pulse?.lagPauses === 0)
      return {
        pass: null,
        figure: `smoke only: ${st.stalledClients} clients stalled ${s.stall} s, too short to fill socket buffers and trigger lag detection (run without --quick)`,
      };
    if (!st) return { pass: null, figure: 'not run' };
    return {
      pass:
        st.rssGrowthMb < 50 &&
        healthyUnchanged(st) &&
        st.toldLagged === st.stalledClients &&
        st.refilled === st.stalledClients &&
        r.deliveredPct === 100,
      figure: `${st.stalledClients}/${r.clients} stalled ${s.stall} s at ${r.publishedPerSec}/s: RSS +${fmt(st.rssGrowthMb, 1)} MB (limit < 50); healthy p99 ${st.baselineHealthy.p99} -> ${st.duringStallHealthy.p99} ms (unchanged = within max(+20%, +10 ms)); told lagged ${st.toldLagged}/${st.stalledClients}; refilled ${st.refilled}/${st.stalledClients} (reconnected ${st.reconnected}); healthy delivered ${fmt(r.deliveredPct, 3)}%`,
    };
  },
};

// Scenario `overload` (target 7c): the stall scenario's 1,000 clients at twice its rate (5,000
// readings/s), nobody stalled: more than the 2 cores can fan out reading by reading. Pass: healthy
// clients' newest-value age p99 <= 1 s (the gateway throttles to merged readings rather than
// queueing), nobody disconnected by the gateway, RSS + <= 100 MB over the window. Owns its sizes,
// the RSS sample at the window's start and its pass line; the measurement is fixed-rate.mjs's.
import { procStats } from '../lib/procs.mjs';
import { fmt } from '../lib/format.mjs';
import { pulseRow, runRate } from './fixed-rate.mjs';
import { nobodyCut } from './stall.mjs';

const LIMIT_AGE_MS = 1000;
const LIMIT_RSS_MB = 100;

const hooks = {
  async during({ target }) {
    return { rssStartMb: procStats(target.child.pid).rss / 1048576 };
  },
  extend(row, { phases }) {
    row.overload = { rssGrowthMb: (row.peakRssMb?.server ?? 0) - phases.rssStartMb };
  },
};

export default {
  id: 'overload',
  target: 7,
  item: '7c',
  clients: 1000,
  rate: 5000,
  seconds: 30,
  warmup: 10,
  targets: ['pulse'],
  what: `1,000 clients at 5k readings/s (twice the stall scenario's): healthy newest-value age p99 <= ${LIMIT_AGE_MS} ms, nobody disconnected, RSS + <= ${LIMIT_RSS_MB} MB`,
  quick: { clients: 100, rate: 2000, seconds: 3, warmup: 0.5 },
  run: (s, targetName, ctx) => runRate(s, targetName, ctx, {}, hooks),
  budgetS: (s) => s.warmup + s.seconds + 120,
  check(rows, s) {
    const r = pulseRow(rows, s.id);
    if (!r) return { pass: null, figure: 'not run' };
    const growth = r.overload?.rssGrowthMb ?? null;
    return {
      pass:
        r.age.p99 !== null &&
        r.age.p99 <= LIMIT_AGE_MS &&
        nobodyCut(r) &&
        growth !== null &&
        growth <= LIMIT_RSS_MB,
      figure: `${r.clients} clients at ${r.publishedPerSec}/s: healthy newest-value age p99 ${fmt(r.age.p99)} ms (limit ${LIMIT_AGE_MS}), latency p99 ${fmt(r.latency.p99)} ms, delivered ${fmt(r.deliveredPct, 2)}% (merged readings count once); RSS +${fmt(growth, 1)} MB (limit ${LIMIT_RSS_MB}); throttled ${r.pulse?.throttled ?? '—'} times, gateway overload raises ${r.pulse?.overloadRaises ?? '—'}; disconnected by the gateway ${(r.pulse?.lagDisconnects ?? 0) + (r.pulse?.ackDisconnects ?? 0)}`,
    };
  },
};

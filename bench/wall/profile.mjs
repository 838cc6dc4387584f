// The renderer main thread's CPU profile for the wall long-run: recorded over CDP, written as a
// .cpuprofile, summarised by self time with the minified bundle chunks named (Chart.js, the app)
// and each hot function's first characters of source. Owns recording and summarising; must not
// decide anything from it (the report only prints it).
import fs from 'node:fs';
import { sleep } from '../lib/util.mjs';

/**
 * @param profile  { nodes, startTime, endTime, samples, timeDeltas }
 * @param labelUrl (url) => short label for a script (e.g. "chart.js chunk")
 * @returns { durationMs, categories: {idle, program, gc, js}, top: [{fn, where, selfMs, pct}], byScript: [{script, selfMs, pct}] }
 */
export function summariseProfile(profile, labelUrl = (u) => u, topN = 15) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map(); // node id -> µs
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // The delta *after* a sample is the time it stands for (the next delta); use the next one when present.
    const dt = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  const durationUs = profile.endTime - profile.startTime;
  const fnAgg = new Map();
  const scriptAgg = new Map();
  const categories = { idle: 0, program: 0, gc: 0, js: 0 };
  for (const [id, us] of self) {
    const cf = byId.get(id)?.callFrame ?? {};
    const name = cf.functionName || '(anonymous)';
    if (name === '(idle)') categories.idle += us;
    else if (name === '(program)') categories.program += us;
    else if (name === '(garbage collector)') categories.gc += us;
    else categories.js += us;
    if (
      name === '(idle)' ||
      name === '(program)' ||
      name === '(garbage collector)' ||
      name === '(root)'
    )
      continue;
    const script = cf.url ? labelUrl(cf.url) : '(native)';
    const where = cf.url ? `${script}:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : '(native)';
    const key = `${name}@${where}`;
    const f = fnAgg.get(key) ?? { fn: name, where, selfMs: 0 };
    f.selfMs += us / 1000;
    fnAgg.set(key, f);
    scriptAgg.set(script, (scriptAgg.get(script) ?? 0) + us / 1000);
  }
  const durationMs = durationUs / 1000;
  const pct = (ms) => (100 * ms) / durationMs;
  return {
    durationMs,
    categories: Object.fromEntries(
      Object.entries(categories).map(([k, us]) => [k, { ms: us / 1000, pct: pct(us / 1000) }]),
    ),
    top: [...fnAgg.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topN)
      .map((f) => ({ ...f, pct: pct(f.selfMs) })),
    byScript: [...scriptAgg.entries()]
      .map(([script, selfMs]) => ({ script, selfMs, pct: pct(selfMs) }))
      .sort((a, b) => b.selfMs - a.selfMs),
  };
}

/**
 * Profiles the page's main thread for `seconds` (0.5 ms sampling), writes it to `file` and returns
 * the summary. `sources`: url -> script text of the page, `httpUrl` is cut from script names.
 */
export async function profileMainThread(cdp, { seconds, file, sources, httpUrl }) {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  await sleep(seconds * 1000);
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.send('Profiler.disable');
  fs.writeFileSync(file, JSON.stringify(profile));
  // Name the bundle chunks: the lazily loaded Chart.js one is recognisable by its content.
  const labels = new Map();
  for (const n of profile.nodes) {
    const url = n.callFrame.url;
    if (!url || labels.has(url)) continue;
    let label = url.replace(httpUrl, '');
    const src = sources.get(url);
    if (src && /_drawDataset|getDatasetMeta/.test(src)) label += ' [chart.js]';
    else if (src && /ɵɵdefineComponent|ɵcmp|defineComponent/.test(src)) label += ' [angular/app]';
    labels.set(url, label);
  }
  const summary = summariseProfile(profile, (u) => labels.get(u) ?? u, 20);
  // Minified names say little: add the first characters of each function's source.
  const urlByLabel = new Map([...labels].map(([u, l]) => [l, u]));
  for (const t of summary.top) {
    const m = /^(.*):(\d+):(\d+)$/.exec(t.where);
    const src = m && sources.get(urlByLabel.get(m[1]));
    if (!src) continue;
    const line = src.split('\n')[Number(m[2]) - 1] ?? '';
    t.source = line.slice(Number(m[3]) - 1, Number(m[3]) + 90).replace(/[|`\n]/g, ' ');
  }
  return summary;
}

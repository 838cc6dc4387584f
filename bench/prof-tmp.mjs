import { sleep } from './lib/util.mjs';
import { fleetBenchInit } from './fleet/page-probe.mjs';
import { PROBE_ID, startFleet, stopFleet } from './fleet/stack.mjs';
import { newPage, openBrowser } from './wall/page.mjs';
import { copyDashboard, killAll } from './wall/stack.mjs';
import { profileMainThread } from './wall/profile.mjs';
const devices = Number(process.argv[2] ?? 1000);
const { dashboardDir } = copyDashboard();
const fleet = await startFleet({ devices, dashboardDir, boundS: 300 });
const { browser } = await openBrowser();
try {
  const { page, cdp } = await newPage(browser, { initScripts: [{ script: fleetBenchInit, arg: { probeId: PROBE_ID } }] });
  const httpUrl = fleet.backend.httpUrl;
  await page.goto(`${httpUrl}/`);
  await sleep(8000);
  const sources = new Map();
  for (const s of await page.evaluate(() => [...document.scripts].map((x) => x.src).filter(Boolean))) sources.set(s, await (await fetch(s)).text());
  await page.evaluate(() => window.__fleetBench?.stop?.());
  const idle = await profileMainThread(cdp, { seconds: 6, file: '/tmp/prof/idle10k.cpuprofile', sources, httpUrl });
  console.log('IDLE', JSON.stringify(idle.categories), '\n' + idle.top.map((t) => `${(t.selfMs|0)}ms ${t.fn} ${t.where}`).join('\n'));
} finally {
  await browser.close();
  await stopFleet(fleet);
  killAll();
}
process.exit(0);

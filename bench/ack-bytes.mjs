#!/usr/bin/env node
// What a screen's first history costs on the socket, plain and with time deltas (decision 0048),
// and over HTTP (decisions 0050, 0051): the built backend and simulator at N devices × 1
// reading/s, and once the fleet has run --wait seconds (the overview's 5-minute window full), a
// socket.io-client over WebSocket asks, per round, the overview's tile subscribe (30 devices,
// 5 minutes, 60 points per metric), a wall board's (12 devices, the wall's default 5-minute
// window, up to 3,600 points per metric) and a device page's (1 device, an hour, 3,600 points
// per metric), each plain and then with `timeDeltas`: each acknowledgement's text on the wire,
// its points and the time to answer. Then the same windows as `GET /api/history?…&timeDeltas=true`
// accepting Brotli, then gzip: the bytes of the compressed body, its points and the time to read.
//
//   node bench/ack-bytes.mjs [--devices 1000] [--wait 320] [--rounds 3]
//
// Rounds take the next 30 devices each. Prints every acknowledgement and, per request and form,
// the median (min–max); writes bench/results/ack-bytes-<timestamp>.json. No limit: a measure.
import http from 'node:http';
import zlib from 'node:zlib';
import { io } from 'socket.io-client';
import { parseFlags, printHeaderUsage } from './lib/args.mjs';
import { fmt } from './lib/format.mjs';
import { sleep } from './lib/util.mjs';
import { writeComparison } from './fleet/compare.mjs';
import { spread } from './fleet/report.mjs';
import { startFleet, stopFleet } from './fleet/stack.mjs';
import { copyDashboard, guardRun, killAll } from './wall/stack.mjs';

const entry = new URL(import.meta.url).pathname;
const fail = (msg) => {
  console.error(`ack-bytes: ${msg}`);
  process.exit(2);
};
const { values: opt } = parseFlags(
  process.argv.slice(2),
  {
    '--devices': { key: 'devices', type: 'number', min: 100, max: 20_000, integer: true },
    '--wait': { key: 'wait', type: 'number', min: 0, max: 900, integer: true },
    '--rounds': { key: 'rounds', type: 'number', min: 1, max: 10, integer: true },
  },
  { devices: 1000, wait: 320, rounds: 3 },
  { fail, help: () => printHeaderUsage(entry, 11) },
);
guardRun((opt.wait + 120 + opt.rounds * 20) * 1000, 'ack-bytes');

const TILES = 30;
const BOARD = 12;
const REQUESTS = {
  tiles: (ids, now) => ({ devices: ids, maxPoints: 60, history: true, since: now - 300_000 }),
  board: (ids, now) => ({
    devices: ids.slice(0, BOARD),
    maxPoints: 3600,
    history: true,
    since: now - 300_000,
  }),
  device: (ids, now) => ({
    devices: [ids[0]],
    maxPoints: 3600,
    history: true,
    since: now - 3_600_000,
  }),
};
// The simulator's ids (simulator/src/app/models/fleet.ts): at least 3 digits, as many as the count has.
const simId = (i) => `sim-${String(i).padStart(Math.max(3, String(opt.devices).length), '0')}`;

const { dashboardDir } = copyDashboard();
const fleet = await startFleet({ devices: opt.devices, dashboardDir, boundS: opt.wait + 120 });
const rows = [];
try {
  console.log(`fleet of ${opt.devices} running; asking in ${opt.wait} s`);
  await sleep(opt.wait * 1000);
  const texts = [];
  const socket = io(`${fleet.backend.httpUrl}/live`, { transports: ['websocket'] });
  socket.io.on('open', () =>
    socket.io.engine.on('packet', ({ data }) => {
      if (typeof data === 'string' && data.includes('"history"')) texts.push(data);
    }),
  );
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  for (let round = 0; round < opt.rounds; round++) {
    const ids = Array.from({ length: TILES }, (_, k) => simId(round * TILES + k + 1));
    for (const [request, make] of Object.entries(REQUESTS))
      for (const timeDeltas of [false, true]) {
        const asked = make(ids, Date.now());
        const t0 = performance.now();
        const ack = await socket
          .timeout(10_000)
          .emitWithAck('subscribe', { ...asked, ...(timeDeltas ? { timeDeltas } : {}) });
        const ms = performance.now() - t0;
        if (!ack?.ok) throw new Error(`subscribe refused: ${ack?.error}`);
        const points = ack.history.reduce((n, s) => n + (s.dt ?? s.t).length, 0);
        if (points === 0) throw new Error(`no history for ${asked.devices.join(', ')}`);
        const form = timeDeltas ? 'deltas' : 'plain';
        const row = { round, request, form, bytes: texts.at(-1)?.length ?? 0, points, ms };
        rows.push(row);
        console.log(
          `  round ${round} ${request.padEnd(6)} ${timeDeltas ? 'deltas' : 'plain '} ${fmt(row.bytes / 1000, 1).padStart(7)} kB ${String(points).padStart(6)} points ${fmt(ms, 0).padStart(4)} ms`,
        );
        await socket.timeout(10_000).emitWithAck('unsubscribe', { devices: asked.devices });
        await sleep(200);
      }
    for (const [request, make] of Object.entries(REQUESTS))
      for (const encoding of ['br', 'gzip']) {
        const asked = make(ids, Date.now());
        const query = new URLSearchParams({
          devices: asked.devices.join(','),
          from: String(asked.since),
          maxPoints: String(asked.maxPoints),
          timeDeltas: 'true',
        });
        const { bytes, body, ms } = await readPaced(
          `${fleet.backend.httpUrl}/api/history?${query}`,
          encoding,
        );
        const points = body.series.reduce((n, s) => n + s.dt.length, 0);
        if (points === 0) throw new Error(`no history over HTTP for ${asked.devices.join(', ')}`);
        const row = { round, request, form: `http ${encoding}`, bytes, points, ms };
        rows.push(row);
        console.log(
          `  round ${round} ${request.padEnd(6)} ${row.form.padEnd(9)} ${fmt(bytes / 1000, 1).padStart(7)} kB ${String(points).padStart(6)} points ${fmt(ms, 0).padStart(4)} ms`,
        );
      }
  }
  socket.close();
} finally {
  await stopFleet(fleet);
  killAll();
}

const summary = {};
for (const request of Object.keys(REQUESTS))
  for (const form of ['plain', 'deltas', 'http br', 'http gzip']) {
    const mine = rows.filter((r) => r.request === request && r.form === form);
    summary[`${request} ${form}`] = {
      kB: spread(mine.map((r) => r.bytes / 1000)),
      points: spread(mine.map((r) => r.points)),
      ms: spread(mine.map((r) => r.ms)),
    };
  }
for (const [k, v] of Object.entries(summary))
  console.log(
    `${k.padEnd(16)} ${fmt(v.kB.median, 1)} kB (${fmt(v.kB.min, 1)}–${fmt(v.kB.max, 1)}), ${fmt(v.points.median, 0)} points, answered in ${fmt(v.ms.median, 0)} ms (${fmt(v.ms.min, 0)}–${fmt(v.ms.max, 0)})`,
  );
/**
 * {@link readCompressed}, timed; refused for the gateway's read budget (429: 300 devices'
 * histories per 10 s per client, decision 0053), it waits the Retry-After and asks again, as a
 * well-behaved client does (the wait is not in the time).
 */
async function readPaced(url, encoding) {
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now();
    try {
      const read = await readCompressed(url, encoding);
      return { ...read, ms: performance.now() - t0 };
    } catch (error) {
      if (error.retryAfterS === undefined || attempt >= 3) throw error;
      console.log(`  read budget spent: waiting ${error.retryAfterS} s`);
      await sleep(error.retryAfterS * 1000);
    }
  }
}

/** GET `url` accepting `encoding`: the body's bytes as they came, and the body decoded. */
function readCompressed(url, encoding) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'accept-encoding': encoding } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        if (res.statusCode === 429)
          return reject(
            Object.assign(new Error(`GET ${url}: 429`), {
              retryAfterS: Number(res.headers['retry-after'] ?? 10),
            }),
          );
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: ${res.statusCode}`));
        const got = res.headers['content-encoding'];
        if (got !== encoding) return reject(new Error(`asked ${encoding}, got ${got ?? 'none'}`));
        const text = (encoding === 'br' ? zlib.brotliDecompressSync : zlib.gunzipSync)(raw);
        resolve({ bytes: raw.length, body: JSON.parse(text.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeComparison('ack-bytes', stamp, { opt, startedAt: stamp, summary, rows });
process.exit(0);

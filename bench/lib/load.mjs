// The load side as the orchestrator sees it: forks 1–4 load workers (load-worker.mjs) at a lower
// priority, spreads the clients over them, and talks to them over IPC (broadcast, gather, wait
// until quiet). Owns the client plan (probes, stallable worker); must not speak any wire
// protocol (the workers do) nor start the servers they connect to (servers.mjs).
import os from 'node:os';
import { forkQuiet, once } from './procs.mjs';
import { sleep } from './util.mjs';

function clientKind(target, transport) {
  if (target.name === 'mosquitto') return 'mqtt-ws';
  return transport === 'polling' ? 'sio-polling' : 'sio-ws';
}

/**
 * Clients spread over 1–4 forked load workers (2 cores: more would only fight the server).
 * Stallable clients get a worker of their own: when they resume they read MBs of backlog and a
 * refill each, and healthy clients sharing that process would be delayed by it — a load
 * generator artefact (in real life each client has its own machine).
 */
export async function startLoad(
  target,
  { clients, transport, stallFraction = 0, refillMaxPoints, reconnect = false },
) {
  const stalled = Math.round(clients * stallFraction);
  const healthy = clients - stalled;
  const n = healthy >= 1000 ? 4 : healthy >= 200 ? 2 : 1;
  const plan = [];
  for (let w = 0; w < n; w++)
    plan.push({ count: Math.floor(healthy / n) + (w < healthy % n ? 1 : 0), stallable: 0 });
  if (stalled > 0) plan.push({ count: stalled, stallable: stalled });
  const workers = [];
  for (const { count, stallable } of plan) {
    const worker = forkQuiet('load-worker.mjs');
    // Load runs at nice 10 (the stalled clients' worker at 15): when the 2 cores are short, the
    // server under test gets them first and the load side shows up as saturated instead of
    // starving the server.
    try {
      os.setPriority(worker.pid, stallable ? 15 : 10);
    } catch {
      /* not permitted: run at normal priority */
    }
    // Latency probes: every client up to 200 clients, else 1 in 10 (spread over the join order).
    const probeEvery = clients > 200 ? 10 : 1;
    worker.send({
      type: 'start',
      kind: clientKind(target, transport),
      url: target.url,
      token: target.token,
      count,
      subscribe: target.subscribe,
      stallable,
      refillMaxPoints,
      probeEvery,
      reconnect,
    });
    workers.push(worker);
  }
  const ready = await Promise.all(workers.map((w) => once(w, 'ready', 180000)));
  const ok = ready.reduce((a, r) => a + r.ok, 0);
  const errors = ready.reduce((a, r) => a + r.errors, 0);
  if (errors)
    console.error(
      `  ${errors} of ${clients} client(s) failed to connect/subscribe: ${ready.find((r) => r.firstError)?.firstError}`,
    );
  return { workers, ok, errors, firstError: ready.find((r) => r.firstError)?.firstError ?? null };
}

export const broadcast = (workers, msg) => workers.forEach((w) => w.send(msg));

/** Sends `msg` to every worker and resolves with each one's reply of `type`. */
export async function gather(workers, type, msg = { type }) {
  const replies = Promise.all(workers.map((w) => once(w, type, 60000)));
  broadcast(workers, msg);
  return replies;
}

/**
 * Waits until the load workers have seen no new readings frame for `quietMs` (or, given
 * `expected`, until their healthy clients hold that many readings), at most `maxMs`.
 */
export async function quiet(workers, { maxMs, quietMs, expected = Infinity }) {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const p = await gather(workers, 'progress');
    const frames = p.reduce((a, x) => a + x.frames, 0);
    if (p.reduce((a, x) => a + x.received, 0) >= expected) return;
    if (frames !== last) {
      last = frames;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await sleep(200);
  }
}

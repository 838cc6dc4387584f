// Waiting helpers shared by every bench process and entry point (run.mjs, wall-longrun.mjs and
// their modules): a free loopback port, sleep, poll-until-true, a GET as sent. Plain Node, no dependencies;
// must not spawn, sample or print anything (procs.mjs and the reports do).
import { request } from 'node:http';
import net from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A GET whose body comes back as it crossed the wire (not decoded): its status, its
 * `Content-Encoding` (`identity` when none) and its bytes.
 */
export function getRaw(url, headers = {}) {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          encoding: res.headers['content-encoding'] ?? 'identity',
          bytes: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/**
 * Polls `check` until it returns a truthy value (returned) or `timeoutMs` passes (throws, naming
 * `what` and the last error `check` threw, which is usually why it never came true).
 */
export async function waitFor(
  check,
  { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {},
) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}` +
          (lastError ? ` (last error: ${lastError.message ?? lastError})` : ''),
      );
    await sleep(intervalMs);
  }
}

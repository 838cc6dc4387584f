/**
 * Loopback ports for tests: a free one to hand a server or broker, and waiting until one accepts
 * connections. Owns nothing but short-lived probe sockets; starts no servers of its own.
 */
import { createServer, Socket } from 'node:net';
import { waitFor } from './wait';

/**
 * A free TCP port on 127.0.0.1, found by listening on port 0 and closing again. Another process
 * could take it before the caller binds it: a tiny race, acceptable in tests.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    // A probe must never keep the test process alive.
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once host:port accepts TCP connections; rejects after `timeoutMs`. */
export async function waitForPort(
  port: number,
  host = '127.0.0.1',
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(() => canConnect(port, host), {
    timeoutMs,
    message: `port ${host}:${port} did not open`,
  });
}

function canConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, host);
  });
}

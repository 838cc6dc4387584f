import { createServer, Server } from 'node:net';
import { freePort, waitForPort } from './net';

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('freePort', () => {
  it('gives a loopback port that a server can then bind', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = await listen(port);
    expect(server.address()).toMatchObject({ port });
    await close(server);
  });
});

describe('waitForPort', () => {
  it('resolves once a server listens on the port', async () => {
    const port = await freePort();
    const waiting = waitForPort(port);
    const server = await listen(port);
    await expect(waiting).resolves.toBeUndefined();
    await close(server);
  });

  it('rejects naming the port when nothing listens', async () => {
    const port = await freePort();
    await expect(waitForPort(port, '127.0.0.1', 100)).rejects.toThrow(
      `timed out after 100 ms waiting for port 127.0.0.1:${port} did not open`,
    );
  });
});

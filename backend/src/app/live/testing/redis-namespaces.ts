import { LIVE_NAMESPACE } from '@pulse/protocol';
import { RedisServer, startRedis, waitFor } from '@pulse/test-support';
import { createServer, Server as HttpServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { createLiveIoServer, LiveNamespace } from '../live-io.server';
import { LiveRedis } from '../live-redis.repository';

/**
 * Gateways' `/live` namespaces joined through a real redis-server with the Socket.IO Redis
 * adapter (as LiveIoAdapter installs it), for the specs of what gateways tell each other. Call it
 * in a `describe` after the spec's own `afterEach` (Jest runs a block's hooks in the order they
 * were added, and what uses a namespace goes before its connection): it starts redis-server
 * before all, closes each test's connections and HTTP servers after it, and stops redis-server.
 * Tests only.
 */
export function useRedisNamespaces() {
  let redis: RedisServer;
  const connections: LiveRedis[] = [];
  const servers: HttpServer[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.onApplicationShutdown()));
    servers.splice(0).forEach((server) => {
      server.closeAllConnections();
      server.close();
    });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  return {
    /** The redis-server's URL (for a raw client publishing what a peer might). */
    redisUrl: (): string => redis.url,

    /**
     * A `/live` namespace on an HTTP server of its own, its peers' connection to Redis
     * (`connected`: once its events connection is up, as a gateway's is before it serves).
     */
    async namespace({ connected = true }: { connected?: boolean } = {}): Promise<{
      nsp: LiveNamespace;
      peers: LiveRedis;
      http: HttpServer;
    }> {
      const peers = new LiveRedis({ REDIS_URL: redis.url, REDIS_PASSWORD_FILE: undefined });
      connections.push(peers);
      const http = createServer();
      servers.push(http);
      const io = createLiveIoServer(http);
      peers.installAdapter(io);
      const nsp = io.of(LIVE_NAMESPACE);
      if (connected)
        await waitFor(() => peers.eventsConnected || undefined, { message: 'Redis connected' });
      return { nsp, peers, http };
    },

    /** `http` listening on a free loopback port; its URL. */
    async listen(http: HttpServer): Promise<string> {
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    },

    /** `nsp` sees `servers` gateways subscribed on Redis (a request counts those it waits for). */
    async joined(nsp: LiveNamespace, servers: number): Promise<void> {
      await waitFor(async () => (await nsp.adapter.serverCount()) >= servers || undefined, {
        message: `${servers} gateways on Redis`,
      });
    },
  };
}

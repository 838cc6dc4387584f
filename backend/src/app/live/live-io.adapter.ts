import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { createLiveIoServer, LiveEntry, LiveServer } from './live-io.server';

/**
 * Installs something on the server before any namespace exists: Socket.IO's Redis adapter when
 * REDIS_URL is set (see live-redis.repository.ts), nothing otherwise.
 */
export type IoServerExtension = (io: LiveServer) => void;

/**
 * Nest's WebSocket adapter for Pulse: `@WebSocketGateway` asks it for the server, and it answers
 * with the one Pulse builds (createLiveIoServer: transports, limits, the entry checks) on
 * Nest's own HTTP server, whatever port or options the decorator carries, then lets `extend`
 * install the cross-gateway adapter. Installed with `app.useWebSocketAdapter` in pulse.ts.
 *
 * Owns the server's construction only: it must not attach handlers (LiveGateway), send
 * (LiveEmitter), or close the server — LiveEmitter closes it in the runtime's shutdown order
 * (before the broker), so Nest's own close of it afterwards is a no-op.
 */
export class LiveIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly entry?: LiveEntry,
    private readonly extend?: IoServerExtension,
    private readonly clientAddress?: (req: IncomingMessage) => string,
  ) {
    super(app);
  }

  override createIOServer(): LiveServer {
    const io = createLiveIoServer(this.httpServer as HttpServer, this.entry, this.clientAddress);
    this.extend?.(io);
    return io;
  }

  /**
   * Nest binds a gateway's `@SubscribeMessage` handlers here, once per connection, and with none
   * still builds an RxJS pipeline on the socket's `disconnect` and keeps it in a WeakMap.
   * LiveGateway has no such handlers (it listens with `socket.on`, decision 0027), so with none
   * there is nothing to bind: that pipeline was kept for every open socket, idle ones included.
   */
  override bindMessageHandlers(
    ...args: Parameters<IoAdapter['bindMessageHandlers']>
  ): ReturnType<IoAdapter['bindMessageHandlers']> {
    const [, handlers] = args;
    if (handlers.length > 0) super.bindMessageHandlers(...args);
  }

  /**
   * Nest also puts a `disconnect` listener (a closure) on every socket, for a gateway's
   * `handleDisconnect`. LiveGateway has none: its one shared `disconnect` listener does that work
   * (live.gateway.ts), so the closure is not added (target 7a). live-io.adapter.spec fails if
   * LiveGateway gains a `handleDisconnect`, which this would leave uncalled.
   */
  override bindClientDisconnect(): void {
    // Nothing to bind (see above).
  }

  override async close(): Promise<void> {
    // LiveEmitter.close() did it, in order (see above).
  }
}

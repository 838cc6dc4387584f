import type {
  AckResponse,
  LiveAckRequest,
  SubscribeAck,
  SubscribeRequest,
  UnsubscribeRequest,
} from '@pulse/protocol/core';
import type {
  LiveSocket,
  LiveSocketFactory,
  LiveSocketHandlers,
  LiveSocketOptions,
} from '../core/live/live-socket';

/*
 * The fake of live-socket.ts: records what LiveService sends and lets the spec play the
 * gateway through the real handlers. Test-only (excluded from the app build). It must not
 * reply or time out by itself, nor import socket.io: each spec decides what the server does.
 */

/** A socket that does nothing by itself: the test plays the server through `server`. */
export class FakeLiveSocket implements LiveSocket {
  connects = 0;
  disconnects = 0;
  readonly subscribes: Array<{
    request: SubscribeRequest;
    reply: (ack: SubscribeAck) => void;
    fail: (error: Error) => void;
  }> = [];
  readonly unsubscribes: UnsubscribeRequest[] = [];
  readonly acks: Array<{
    request: LiveAckRequest;
    reply: (response: AckResponse) => void;
    fail: (error: Error) => void;
  }> = [];

  constructor(
    readonly options: LiveSocketOptions,
    readonly server: LiveSocketHandlers,
  ) {}

  connect(): void {
    this.connects++;
  }
  disconnect(): void {
    this.disconnects++;
  }
  subscribe(request: SubscribeRequest): Promise<SubscribeAck> {
    return new Promise((resolve, reject) =>
      this.subscribes.push({ request, reply: resolve, fail: reject }),
    );
  }
  unsubscribe(request: UnsubscribeRequest): void {
    this.unsubscribes.push(request);
  }
  ack(request: LiveAckRequest): Promise<AckResponse> {
    return new Promise((resolve, reject) =>
      this.acks.push({ request, reply: resolve, fail: reject }),
    );
  }
}

/** A factory that records every socket it creates (the last one is the live one). */
export function fakeSocketFactory(): {
  factory: LiveSocketFactory;
  created: FakeLiveSocket[];
  last: () => FakeLiveSocket;
} {
  const created: FakeLiveSocket[] = [];
  return {
    created,
    factory: (options, handlers) => {
      const socket = new FakeLiveSocket(options, handlers);
      created.push(socket);
      return socket;
    },
    last: () => {
      const socket = created[created.length - 1];
      if (!socket) throw new Error('no socket created yet');
      return socket;
    },
  };
}

import type {
  AckResponse,
  LiveAckRequest,
  SubscribeAck,
  SubscribeRequest,
  SummaryEvent,
  UnsubscribeRequest,
} from '@pulse/protocol/core';
import { encodeSummaryEvent } from '@pulse/protocol/core';
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

/**
 * The gateway as a spec plays it: LiveService's real handlers, except that a `summary` event is
 * written readable and goes through the protocol's wire encoding, as the gateway sends it.
 */
export type FakeServer = Omit<LiveSocketHandlers, 'summary'> & {
  summary(event: SummaryEvent): void;
};

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

  readonly server: FakeServer;

  constructor(
    readonly options: LiveSocketOptions,
    handlers: LiveSocketHandlers,
  ) {
    this.server = { ...handlers, summary: (event) => handlers.summary(encodeSummaryEvent(event)) };
  }

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

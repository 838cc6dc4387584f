import { EventEmitter } from 'node:events';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { of } from 'rxjs';
import { LiveIoAdapter } from './live-io.adapter';
import { LiveGateway } from './live.gateway';

// Nest's own binding, kept where there is something to bind: with handlers it answers as before;
// with none (LiveGateway's case) it keeps nothing per socket.
describe('LiveIoAdapter.bindMessageHandlers', () => {
  const adapter = new LiveIoAdapter(undefined as never);
  const kept = (socket: object) =>
    (adapter as unknown as { disconnectMap: WeakMap<object, unknown> }).disconnectMap.has(socket);

  it('keeps nothing for a socket when the gateway has no message handlers', () => {
    const socket = new EventEmitter();
    adapter.bindMessageHandlers(socket as never, [], (x) => of(x));
    expect(kept(socket)).toBe(false);
    expect(socket.eventNames()).toEqual([]);
  });

  it('binds handlers as Nest does when there are some', () => {
    const socket = new EventEmitter();
    const got: unknown[] = [];
    const answers: unknown[] = [];
    adapter.bindMessageHandlers(
      socket as never,
      [
        {
          message: 'ping',
          methodName: 'ping',
          isAckHandledManually: false,
          callback: (data: unknown) => (got.push(data), of('pong')),
        },
      ],
      (x) => x,
    );
    expect(kept(socket)).toBe(true);
    socket.emit('ping', 1, (answer: unknown) => answers.push(answer));
    expect(got).toEqual([1]);
    expect(answers).toEqual(['pong']);
  });
});

describe('LiveIoAdapter.bindClientDisconnect', () => {
  it('adds no listener per socket, which holds while LiveGateway has no handleDisconnect', () => {
    const socket = new EventEmitter();
    const adapter = new LiveIoAdapter(undefined as never);
    // Called as Nest calls it: with the socket and the callback it would hang on `disconnect`.
    const bind: IoAdapter['bindClientDisconnect'] = adapter.bindClientDisconnect.bind(adapter);
    bind(socket as never, () => undefined);
    expect(socket.eventNames()).toEqual([]);
    expect('handleDisconnect' in LiveGateway.prototype).toBe(false);
  });
});

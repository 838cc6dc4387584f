/**
 * Type tests of the server-side events between gateways (PeerEvents): the spec typecheck checks
 * this file, so a `@ts-expect-error` that stops being an error fails it.
 */
import type { AckResponse, AlertEvent } from '@pulse/protocol';
import { LIVE_NAMESPACE } from '@pulse/protocol';
import { createServer } from 'node:http';
import { createLiveIoServer } from './live-io.server';

describe('PeerEvents: what a peer sends is typed as outside input', () => {
  it('lets a handler of a peer read its payload only as unknown', () => {
    const io = createLiveIoServer(createServer());
    const nsp = io.of(LIVE_NAMESPACE);
    // @ts-expect-error a peer's alert is checked where it is read, not trusted as an AlertEvent
    nsp.on('pulse:alert', (alert: AlertEvent) => alert.id);
    nsp.on('pulse:alert', (alert: unknown) => alert);
    // @ts-expect-error likewise a peer's ack request
    nsp.on('pulse:ack', (request: { id: string }, answer) => answer(request.id));
    nsp.on('pulse:ack', (_request: unknown, answer) =>
      answer({ ok: false, error: 'invalid', message: 'checked' }),
    );
    // Type-checked, not run (one namespace, no Redis adapter: nobody to ask).
    const ask = (): Promise<AckResponse[]> =>
      // @ts-expect-error and the answers a peer gives: unknown to the gateway that asked
      nsp.serverSideEmitWithAck('pulse:ack', { id: 'a1' });
    expect(typeof ask).toBe('function');
    expect(nsp.listeners('pulse:alert')).toHaveLength(2);
    expect(nsp.listeners('pulse:ack')).toHaveLength(2);
    io.close();
  });
});

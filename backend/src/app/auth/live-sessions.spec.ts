import { LiveSessions, SessionSocket } from './live-sessions';
import type { Principal } from './principal';

/** The part of a Socket.IO socket LiveSessions uses, recording disconnects. */
function socket(id: string, principal: Principal) {
  let onDisconnect = () => undefined as void;
  const s = {
    id,
    data: { principal } as SessionSocket['data'],
    conn: { transport: { name: 'websocket' } },
    disconnected: false,
    once: (_event: 'disconnect', listener: () => void) => (onDisconnect = listener),
    disconnect: () => {
      s.disconnected = true;
      onDisconnect();
    },
  };
  return s;
}

const user = (role: 'viewer' | 'operator', tokenId = 't1'): Principal => ({
  kind: 'user',
  username: 'carol',
  role,
  groups: null,
  tokenId,
});

describe('LiveSessions', () => {
  it('lets the sockets of one token share one principal object', () => {
    const sessions = new LiveSessions();
    const a = socket('a', user('viewer'));
    const b = socket('b', user('viewer'));
    sessions.track(a);
    sessions.track(b);
    expect(b.data.principal).toBe(a.data.principal);
  });

  it('asks the store once per token, not per socket, and keeps the object when nothing changed', () => {
    const sessions = new LiveSessions();
    const sockets = Array.from({ length: 1000 }, (_, i) => socket(`s${i}`, user('viewer')));
    sockets.forEach((s) => sessions.track(s));
    const other = socket('other', user('viewer', 't2'));
    sessions.track(other);
    const before = sockets[0].data.principal;
    let asked = 0;
    sessions.recheck(
      () => true,
      (p) => (asked++, { ...p }),
    );
    expect(asked).toBe(2);
    expect(sockets[999].data.principal).toBe(before);
  });

  it('applies a new role to every socket of the token, and cuts them all when it is gone', () => {
    const sessions = new LiveSessions();
    const a = socket('a', user('viewer'));
    const b = socket('b', user('viewer'));
    sessions.track(a);
    sessions.track(b);
    sessions.recheck(
      () => true,
      () => user('operator'),
    );
    expect([a.data.principal?.role, b.data.principal?.role]).toEqual(['operator', 'operator']);
    sessions.recheck(
      () => true,
      () => null,
    );
    expect([a.disconnected, b.disconnected]).toEqual([true, true]);
    expect(sessions.socketsOf('t1')).toEqual([]);
  });
});

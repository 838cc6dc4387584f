import { LiveSessions, SessionSocket } from './live-sessions';
import type { Principal } from './principal';

/**
 * The part of a Socket.IO socket LiveSessions uses, recording disconnects; a disconnect is
 * reported to `sessions` as the gateway's `disconnect` listener does.
 */
function socket(sessions: LiveSessions, id: string, principal: Principal) {
  const s = {
    id,
    data: { principal } as SessionSocket['data'],
    conn: { transport: { name: 'websocket' } },
    disconnected: false,
    disconnect: () => {
      s.disconnected = true;
      sessions.forget(s);
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
    const a = socket(sessions, 'a', user('viewer'));
    const b = socket(sessions, 'b', user('viewer'));
    sessions.track(a);
    sessions.track(b);
    expect(b.data.principal).toBe(a.data.principal);
  });

  it('asks the store once per token, not per socket, and keeps the object when nothing changed', () => {
    const sessions = new LiveSessions();
    const sockets = Array.from({ length: 1000 }, (_, i) =>
      socket(sessions, `s${i}`, user('viewer')),
    );
    sockets.forEach((s) => sessions.track(s));
    const other = socket(sessions, 'other', user('viewer', 't2'));
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
    const a = socket(sessions, 'a', user('viewer'));
    const b = socket(sessions, 'b', user('viewer'));
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

  it('forgets a socket once, as it disconnects, and tells the listeners once', () => {
    const sessions = new LiveSessions();
    const gone: string[] = [];
    sessions.onGone((tokenId, s) => gone.push(`${tokenId}:${s.id}`));
    const a = socket(sessions, 'a', user('viewer'));
    const b = socket(sessions, 'b', user('viewer'));
    const never = socket(sessions, 'never', user('viewer', 't9'));
    sessions.track(a);
    sessions.track(b);
    a.disconnect();
    sessions.forget(a); // a second disconnect report changes nothing
    sessions.forget(never); // nor does one for a socket never tracked
    expect(gone).toEqual(['t1:a']);
    expect(sessions.socketsOf('t1')).toEqual([b]);
    b.disconnect();
    expect(gone).toEqual(['t1:a', 't1:b']);
    expect(sessions.socketsOf('t1')).toEqual([]);
  });

  it('cuts a socket whose principal would come back under another token', () => {
    const sessions = new LiveSessions();
    const a = socket(sessions, 'a', user('viewer'));
    sessions.track(a);
    sessions.recheck(
      () => true,
      () => user('viewer', 't2'),
    );
    expect(a.disconnected).toBe(true);
    expect(sessions.socketsOf('t1')).toEqual([]);
    expect(sessions.socketsOf('t2')).toEqual([]);
  });
});

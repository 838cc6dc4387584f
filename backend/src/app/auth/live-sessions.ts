import { Injectable } from '@nestjs/common';
import { groupScope, Principal } from './principal';

/**
 * The open `/live` sockets of every signed-in principal (user sessions, bearer tokens, wall
 * screens), by token id, so that revoking a token, disabling or deleting a user or changing a
 * role reaches the sockets already open at once instead of at their next handshake; and the set
 * of group-scoped sockets, so alert broadcasts can leave out the ones outside their scope.
 * Owns this bookkeeping and the disconnect of a revoked principal's sockets; must not decide
 * whether a principal is still valid (AuthService rechecks it) nor emit anything.
 */

/** The parts of a Socket.IO server socket this uses. */
export interface SessionSocket {
  id: string;
  data: { principal?: Principal; lagged?: number; summaryShown?: boolean[] };
  conn: { transport: { name: string } };
  disconnect(close?: boolean): unknown;
}

/** Called when a tracked socket goes: its token id and the socket. */
export type SocketGone = (tokenId: string, socket: SessionSocket) => void;

@Injectable()
export class LiveSessions {
  private readonly byToken = new Map<string, Set<SessionSocket>>();
  private readonly scoped = new Set<SessionSocket>();
  private readonly goneListeners: SocketGone[] = [];

  /**
   * Register a connected socket; call {@link forget} when it disconnects (the gateway's one
   * `disconnect` listener does: no listener of its own per socket, target 7a).
   */
  track(socket: SessionSocket): void {
    const principal = socket.data.principal;
    if (!principal || principal.kind === 'anonymous') return;
    const tokenId = principal.tokenId;
    let sockets = this.byToken.get(tokenId);
    if (!sockets) this.byToken.set(tokenId, (sockets = new Set()));
    // Sockets of one token share one principal object (a script or a test fleet may open
    // thousands with one token; each would otherwise hold its own copy).
    const sibling = firstOf(sockets)?.data.principal;
    if (sibling && samePrincipal(sibling, principal)) socket.data.principal = sibling;
    sockets.add(socket);
    if (groupScope(principal) !== null) this.scoped.add(socket);
  }

  /**
   * A socket disconnected: forget it (one that was never tracked, or already forgotten, is
   * ignored). Its principal's token id is the one it was tracked under: a recheck replaces the
   * principal only with one of the same token.
   */
  forget(socket: SessionSocket): void {
    const principal = socket.data.principal;
    if (!principal || principal.kind === 'anonymous') return;
    const tokenId = principal.tokenId;
    const set = this.byToken.get(tokenId);
    if (!set?.delete(socket)) return;
    this.scoped.delete(socket);
    if (set.size === 0) this.byToken.delete(tokenId);
    for (const listener of this.goneListeners) listener(tokenId, socket);
  }

  onGone(listener: SocketGone): void {
    this.goneListeners.push(listener);
  }

  /** Open sockets of one token or session. */
  socketsOf(tokenId: string): readonly SessionSocket[] {
    const sockets = this.byToken.get(tokenId);
    return sockets ? [...sockets] : [];
  }

  /** Open sockets with a group scope (few: wall screens, scoped tokens). */
  scopedSockets(): ReadonlySet<SessionSocket> {
    return this.scoped;
  }

  /** Disconnect every socket of these tokens; returns how many. */
  disconnectTokens(tokenIds: Iterable<string>): number {
    let count = 0;
    for (const id of tokenIds)
      for (const socket of this.socketsOf(id)) {
        socket.disconnect(true);
        count++;
      }
    return count;
  }

  /**
   * Re-evaluate the sockets whose principal `matches`: `fresh` gives the principal as the store
   * says now (role read again), or null when it is no longer valid, and then the socket goes.
   */
  recheck(
    matches: (principal: Principal) => boolean,
    fresh: (principal: Principal) => Principal | null,
  ): void {
    // Once per token, not per socket: every socket of a token stands for the same token and
    // user, so one look at the store answers for all of them (the 60 s expiry sweep over
    // 10,000 sockets of one token is one query, not 30,000, and allocates nothing when nothing
    // changed).
    for (const sockets of [...this.byToken.values()]) {
      const principal = firstOf(sockets)?.data.principal;
      if (!principal || !matches(principal)) continue;
      const fresher = fresh(principal);
      // A socket stays registered under the token it was tracked with (forget finds it there):
      // a principal of another token is not this socket's any more.
      const now = fresher && sameToken(fresher, principal) ? fresher : null;
      for (const socket of [...sockets]) {
        if (now === null) socket.disconnect(true);
        else if (socket.data.principal !== now && !samePrincipal(socket.data.principal, now))
          socket.data.principal = now;
      }
    }
  }
}

function sameToken(a: Principal, b: Principal): boolean {
  return a.kind !== 'anonymous' && b.kind !== 'anonymous' && a.tokenId === b.tokenId;
}

function firstOf<T>(set: ReadonlySet<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}

/** Same identity, role and scope (what a check reads), whatever the object. */
function samePrincipal(a: Principal | undefined, b: Principal): boolean {
  if (!a || a.kind !== b.kind || a.role !== b.role) return false;
  if (a.kind === 'anonymous' || b.kind === 'anonymous') return a.kind === b.kind;
  const ga = a.groups;
  const gb = b.groups;
  const sameGroups =
    ga === gb ||
    (ga !== null && gb !== null && ga.length === gb.length && ga.every((g, i) => g === gb[i]));
  if (!sameGroups || a.tokenId !== b.tokenId) return false;
  if (a.kind === 'user') return b.kind === 'user' && a.username === b.username;
  return b.kind === 'screen' && a.screenId === b.screenId && a.name === b.name;
}

import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  CreateScreenRequest,
  PairingClaimResponse,
  PairingStartResponse,
  SCREEN_LIMITS,
  ScreenInfo,
  ScreenSelf,
  UpdateScreenRequest,
} from '@pulse/protocol';
import { randomUUID } from 'node:crypto';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { ScreenTokens } from '../auth/auth.service';
import { LiveSessions } from '../auth/live-sessions';
import type { Principal } from '../auth/principal';
import { TokenSigner } from '../auth/token-signer';
import { BatchedTimes } from '../common/batched-times';
import { SecurityCounters } from '../security/security-counters.service';
import { networkOf, PairingBook, siteOf } from './pairing-book';
import { ScreenRow, ScreensRepository } from './screens.repository';

/**
 * Wall screens: pairing (a code shown on an unpaired wall, entered by an admin; the wall then
 * collects its display token once), the admin's list (with presence from LiveSessions), board,
 * name and scope changes and revocation — both cut the screen's open sockets at once, so it
 * reconnects with the new scope or shows a new code. It is the auth feature's
 * {@link ScreenTokens} port: a display token is valid while its screen row exists, unexpired.
 * Owns these rules and the pairing limits; must not know HTTP beyond the outcomes it returns.
 */

export type PairingStart =
  | { ok: true; response: PairingStartResponse }
  | { ok: false; retryAfterSeconds: number };

export type ClaimOutcome =
  | { ok: true; response: PairingClaimResponse }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

export type PairOutcome = ScreenInfo | 'no_code' | 'full';

/** Screens heard (their display token checked) are written together within this (ms). */
export const SCREENS_SEEN_FLUSH_MS = 2_000;

@Injectable()
export class ScreensService implements ScreenTokens, OnModuleDestroy {
  private readonly logger = new Logger('Screens');
  private readonly book = new PairingBook();
  private readonly starts = new RateLimiterMemory({
    points: SCREEN_LIMITS.pairingStartsPerWindow,
    duration: SCREEN_LIMITS.pairingWindowSeconds,
  });
  private readonly claims = new RateLimiterMemory({
    points: SCREEN_LIMITS.claimsPerMinute,
    duration: 60,
  });
  /** Last time each screen was heard (a request or a socket), newer than the stored value. */
  private readonly lastSeen = new Map<string, number>();
  /**
   * The same, on its way to the store: a wall that reads over HTTP with its token, or collects
   * it, was seen only in memory and read "never" after a restart (a socket's end is written
   * when it goes). Bounded by the screens that exist (SCREEN_LIMITS.maxScreens).
   */
  private readonly seen = new BatchedTimes((times) => this.repo.touchMany(times), {
    flushMs: SCREENS_SEEN_FLUSH_MS,
    max: SCREEN_LIMITS.maxScreens,
    failed: (error) =>
      this.logger.warn(`screens' last seen not saved: ${(error as Error).message}`),
  });
  /** `lagged` events of each screen's sockets that have gone, since the gateway started. */
  private readonly lagTotals = new Map<string, number>();

  constructor(
    private readonly repo: ScreensRepository,
    private readonly signer: TokenSigner,
    private readonly sessions: LiveSessions,
    private readonly counters: SecurityCounters,
  ) {
    sessions.onGone((_tokenId, socket) => {
      const principal = socket.data.principal;
      if (principal?.kind !== 'screen') return;
      const id = principal.screenId;
      const now = Date.now();
      this.lastSeen.set(id, now);
      try {
        this.repo.touch(id, now);
      } catch {
        // The store closes before the last sockets at shutdown: memory has it until then.
      }
      this.lagTotals.set(id, (this.lagTotals.get(id) ?? 0) + (socket.data.lagged ?? 0));
    });
  }

  onModuleDestroy(): void {
    this.seen.flush(); // before the store closes; a failure is logged
  }

  /** A new code for an unpaired wall at `address` (anonymous: bounded and rate-limited). */
  async startPairing(address: string): Promise<PairingStart> {
    try {
      await this.starts.consume(address);
    } catch (refusal) {
      this.counters.refuse('screen_pairing', `pairing codes asked too often from ${address}`);
      return { ok: false, retryAfterSeconds: retryAfter(refusal) };
    }
    const pending = this.book.start(address, Date.now());
    if (typeof pending === 'string') {
      this.counters.refuse(
        'screen_pairing',
        pending === 'full'
          ? `${SCREEN_LIMITS.maxPending} pairing codes pending`
          : pending === 'network_full'
            ? `${SCREEN_LIMITS.maxPendingPerPrefix} pairing codes pending from ${networkOf(address)}`
            : pending === 'site_full'
              ? `${SCREEN_LIMITS.maxPendingPerSite} pairing codes pending from ${siteOf(address)}`
              : `${SCREEN_LIMITS.maxPendingPerAddress} pairing codes pending from ${address}`,
      );
      return { ok: false, retryAfterSeconds: 60 };
    }
    return {
      ok: true,
      response: {
        pairingId: pending.pairingId,
        code: pending.code,
        expiresAt: pending.expiresAt,
        pollMs: SCREEN_LIMITS.claimPollMs,
      },
    };
  }

  /** The wall asks whether it was paired; once paired, the display token is handed over once. */
  async claim(pairingId: string, address: string): Promise<ClaimOutcome> {
    try {
      await this.claims.consume(address);
    } catch (refusal) {
      this.counters.refuse('screen_claim_rate', `pairing claims polled too often from ${address}`);
      return { ok: false, reason: 'rate_limited', retryAfterSeconds: retryAfter(refusal) };
    }
    const now = Date.now();
    const pending = this.book.poll(pairingId, now);
    if (!pending) return { ok: false, reason: 'unknown' };
    if (pending.screenId === null)
      return { ok: true, response: { status: 'pending', expiresAt: pending.expiresAt } };
    this.book.remove(pending);
    const row = this.repo.find(pending.screenId);
    if (!row) return { ok: false, reason: 'unknown' }; // revoked before it was collected
    const token = await this.signer.sign(
      { sub: row.id, jti: row.tokenId, kind: 'screen' },
      row.expiresAt,
    );
    this.heard(row.id, now);
    return { ok: true, response: { status: 'paired', token, screen: self(row) } };
  }

  /** An admin pairs the wall showing `request.code`. */
  pair(request: CreateScreenRequest, by: string): PairOutcome {
    const now = Date.now();
    const pending = this.book.waiting(request.code, now);
    if (!pending) return 'no_code';
    this.repo.pruneExpired(now);
    if (this.repo.count() >= SCREEN_LIMITS.maxScreens) return 'full';
    const row: ScreenRow = {
      id: randomUUID(),
      name: request.name,
      board: request.board,
      groups: request.groups ?? null,
      tokenId: randomUUID(),
      createdBy: by,
      createdAt: now,
      expiresAt: now + SCREEN_LIMITS.displayTokenTtlMs,
      lastSeen: null,
    };
    this.repo.insert(row);
    pending.screenId = row.id;
    return this.info(row);
  }

  list(): ScreenInfo[] {
    this.repo.pruneExpired(Date.now());
    return this.repo.list().map((row) => this.info(row));
  }

  /**
   * Name, board or scope. The screen's sockets are cut: it reconnects at once under the new
   * scope and reads its new board (a socket's scope is fixed at its handshake).
   */
  update(id: string, change: UpdateScreenRequest): ScreenInfo | null {
    const row = this.repo.find(id);
    if (!row) return null;
    const next = {
      name: change.name ?? row.name,
      board: change.board ?? row.board,
      groups: change.groups === undefined ? row.groups : change.groups,
    };
    this.repo.update(id, next);
    this.sessions.disconnectTokens([row.tokenId]);
    return this.info({ ...row, ...next });
  }

  /** Delete the screen: its display token stops working and its sockets are cut now. */
  revoke(id: string): boolean {
    const row = this.repo.find(id);
    if (!row || !this.repo.delete(id)) return false;
    this.book.removeScreen(id);
    this.sessions.disconnectTokens([row.tokenId]);
    this.lastSeen.delete(id);
    this.seen.forget(id);
    this.lagTotals.delete(id);
    return true;
  }

  /** What a display token's screen shows, or null when the principal is not a screen. */
  me(principal: Principal): ScreenSelf | null {
    if (principal.kind !== 'screen') return null;
    const row = this.repo.find(principal.screenId);
    return row ? self(row) : null;
  }

  principalFor(screenId: string, tokenId: string): Principal | null {
    const row = this.repo.find(screenId);
    const now = Date.now();
    if (!row || row.tokenId !== tokenId || row.expiresAt <= now) return null;
    this.heard(row.id, now);
    return {
      kind: 'screen',
      screenId: row.id,
      name: row.name,
      role: 'viewer',
      groups: row.groups,
      tokenId: row.tokenId,
    };
  }

  private heard(id: string, at: number): void {
    this.lastSeen.set(id, at);
    this.seen.note(id, at);
  }

  private info(row: ScreenRow): ScreenInfo {
    const sockets = this.sessions.socketsOf(row.tokenId);
    let lagEvents = this.lagTotals.get(row.id) ?? 0;
    for (const socket of sockets) lagEvents += socket.data.lagged ?? 0;
    const transport = sockets[0]?.conn.transport.name;
    const seen = Math.max(row.lastSeen ?? 0, this.lastSeen.get(row.id) ?? 0);
    return {
      ...self(row),
      createdAt: row.createdAt,
      createdBy: row.createdBy,
      expiresAt: row.expiresAt,
      connected: sockets.length > 0,
      transport: transport === undefined ? null : transport === 'polling' ? 'polling' : 'websocket',
      lastSeen: sockets.length > 0 ? Date.now() : seen === 0 ? null : seen,
      lagEvents,
    };
  }
}

function self(row: ScreenRow): ScreenSelf {
  return { id: row.id, name: row.name, board: row.board, groups: row.groups };
}

/** rate-limiter-flexible rejects with its RateLimiterRes (msBeforeNext), or an Error. */
function retryAfter(refusal: unknown): number {
  const ms = (refusal as { msBeforeNext?: unknown })?.msBeforeNext;
  return typeof ms === 'number' ? Math.max(1, Math.ceil(ms / 1000)) : 60;
}

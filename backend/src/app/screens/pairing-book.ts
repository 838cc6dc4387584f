import { SCREEN_LIMITS } from '@pulse/protocol';
import { randomBytes, randomInt } from 'node:crypto';

/**
 * The pairing codes walls are showing now, in memory (a code is worth nothing after a restart:
 * the wall asks for a new one when its claim gets 404). Bounded in all and per client address,
 * each living SCREEN_LIMITS.pendingTtlMs. Owns the codes and the pairing ids; must not issue
 * tokens or touch the store (ScreensService does).
 */

export interface PendingPairing {
  /** 128 random bits, base64url: only the wall that asked knows it. */
  pairingId: string;
  code: string;
  address: string;
  expiresAt: number;
  /** Set once an admin paired the code; the wall's next claim collects the token. */
  screenId: string | null;
}

export type StartOutcome = PendingPairing | 'full' | 'address_full';

export class PairingBook {
  private readonly byId = new Map<string, PendingPairing>();
  private readonly byCode = new Map<string, PendingPairing>();

  constructor(
    private readonly limits: {
      maxPending: number;
      maxPendingPerAddress: number;
      ttlMs: number;
    } = {
      maxPending: SCREEN_LIMITS.maxPending,
      maxPendingPerAddress: SCREEN_LIMITS.maxPendingPerAddress,
      ttlMs: SCREEN_LIMITS.pendingTtlMs,
    },
  ) {}

  get size(): number {
    return this.byId.size;
  }

  start(address: string, now: number): StartOutcome {
    this.prune(now);
    if (this.byId.size >= this.limits.maxPending) return 'full';
    let mine = 0;
    for (const pending of this.byId.values()) if (pending.address === address) mine++;
    if (mine >= this.limits.maxPendingPerAddress) return 'address_full';
    const pending: PendingPairing = {
      pairingId: randomBytes(16).toString('base64url'),
      code: this.freshCode(),
      address,
      expiresAt: now + this.limits.ttlMs,
      screenId: null,
    };
    this.byId.set(pending.pairingId, pending);
    this.byCode.set(pending.code, pending);
    return pending;
  }

  /** A code still waiting for an admin. */
  waiting(code: string, now: number): PendingPairing | undefined {
    const pending = this.byCode.get(code);
    return pending && pending.expiresAt > now && pending.screenId === null ? pending : undefined;
  }

  find(pairingId: string, now: number): PendingPairing | undefined {
    const pending = this.byId.get(pairingId);
    return pending && pending.expiresAt > now ? pending : undefined;
  }

  remove(pending: PendingPairing): void {
    this.byId.delete(pending.pairingId);
    if (this.byCode.get(pending.code) === pending) this.byCode.delete(pending.code);
  }

  /** Forget a paired screen's pending entry (revoked before the wall collected its token). */
  removeScreen(screenId: string): void {
    for (const pending of this.byId.values())
      if (pending.screenId === screenId) this.remove(pending);
  }

  private prune(now: number): void {
    for (const pending of this.byId.values()) if (pending.expiresAt <= now) this.remove(pending);
  }

  private freshCode(): string {
    const alphabet = SCREEN_LIMITS.codeAlphabet;
    for (;;) {
      let code = '';
      for (let i = 0; i < SCREEN_LIMITS.codeLength; i++)
        code += alphabet[randomInt(alphabet.length)];
      if (!this.byCode.has(code)) return code;
    }
  }
}

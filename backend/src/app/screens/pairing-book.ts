import { SCREEN_LIMITS } from '@pulse/protocol';
import { randomBytes, randomInt } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { normalizeIp } from '../security/connection-caps';

/**
 * The pairing codes walls are showing now, in memory (a code is worth nothing after a restart:
 * the wall asks for a new one when its claim gets 404). Bounded in all, per client address and
 * per network (IPv4 /24, IPv6 /64) and per IPv6 site (/48), so that a few networks cannot hold the
 * whole table; each
 * lives SCREEN_LIMITS.pendingTtlMs, and only while its wall polls for it (a code not polled for
 * SCREEN_LIMITS.pendingIdleMs is gone: docs/decisions/0061-pairing-table-fairness.md). Owns the
 * codes and the pairing ids; must not issue tokens or touch the store (ScreensService does).
 */

export interface PendingPairing {
  /** 128 random bits, base64url: only the wall that asked knows it. */
  pairingId: string;
  code: string;
  address: string;
  /** The address's network ({@link networkOf}). */
  network: string;
  /** Its IPv6 site ({@link siteOf}), null for IPv4. */
  site: string | null;
  expiresAt: number;
  /** When the wall last asked about it (its start, then each claim poll). */
  polledAt: number;
  /** Set once an admin paired the code; the wall's next claim collects the token. */
  screenId: string | null;
}

export type StartOutcome = PendingPairing | 'full' | 'address_full' | 'network_full' | 'site_full';

export class PairingBook {
  private readonly byId = new Map<string, PendingPairing>();
  private readonly byCode = new Map<string, PendingPairing>();

  constructor(
    private readonly limits: {
      maxPending: number;
      maxPendingPerAddress: number;
      maxPendingPerPrefix: number;
      maxPendingPerSite: number;
      ttlMs: number;
      idleMs: number;
    } = {
      maxPending: SCREEN_LIMITS.maxPending,
      maxPendingPerAddress: SCREEN_LIMITS.maxPendingPerAddress,
      maxPendingPerPrefix: SCREEN_LIMITS.maxPendingPerPrefix,
      maxPendingPerSite: SCREEN_LIMITS.maxPendingPerSite,
      ttlMs: SCREEN_LIMITS.pendingTtlMs,
      idleMs: SCREEN_LIMITS.pendingIdleMs,
    },
  ) {}

  get size(): number {
    return this.byId.size;
  }

  start(address: string, now: number): StartOutcome {
    this.prune(now);
    if (this.byId.size >= this.limits.maxPending) return 'full';
    const network = networkOf(address);
    const site = siteOf(address);
    let mine = 0;
    let ours = 0;
    let theirs = 0;
    for (const pending of this.byId.values()) {
      if (pending.address === address) mine++;
      if (pending.network === network) ours++;
      if (site !== null && pending.site === site) theirs++;
    }
    if (mine >= this.limits.maxPendingPerAddress) return 'address_full';
    if (ours >= this.limits.maxPendingPerPrefix) return 'network_full';
    if (theirs >= this.limits.maxPendingPerSite) return 'site_full';
    const pending: PendingPairing = {
      pairingId: randomBytes(16).toString('base64url'),
      code: this.freshCode(),
      address,
      network,
      site,
      expiresAt: now + this.limits.ttlMs,
      polledAt: now,
      screenId: null,
    };
    this.byId.set(pending.pairingId, pending);
    this.byCode.set(pending.code, pending);
    return pending;
  }

  /** A code still waiting for an admin. */
  waiting(code: string, now: number): PendingPairing | undefined {
    const pending = this.byCode.get(code);
    return pending && this.alive(pending, now) && pending.screenId === null ? pending : undefined;
  }

  /** The wall's poll: its pairing, still alive, now counted as polled. */
  poll(pairingId: string, now: number): PendingPairing | undefined {
    const pending = this.byId.get(pairingId);
    if (!pending || !this.alive(pending, now)) return undefined;
    pending.polledAt = now;
    return pending;
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

  private alive(pending: PendingPairing, now: number): boolean {
    return pending.expiresAt > now && pending.polledAt + this.limits.idleMs > now;
  }

  private prune(now: number): void {
    for (const pending of this.byId.values()) if (!this.alive(pending, now)) this.remove(pending);
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

/**
 * The network an address is in, as far as the pairing table's fair share goes: its IPv4 /24 or
 * its IPv6 /64 (one subscriber's LAN or one host's range: a /64 is a single allocation, so an
 * address within it costs nothing). Anything else is its own network.
 */
export function networkOf(address: string): string {
  const ip = normalizeIp(address);
  if (isIPv4(ip)) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
  const groups = ipv6Groups(ip);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : ip;
}

/**
 * The IPv6 site an address is in: its /48, the most one customer is assigned (a home gets a /56,
 * 256 /64s; a business a /48, 65,536), so that many cheap /64s of one holder share one bound.
 * Null for IPv4 (its /24s are not cheap) and for anything else.
 */
export function siteOf(address: string): string | null {
  const groups = ipv6Groups(normalizeIp(address));
  return groups ? `${groups.slice(0, 3).join(':')}::/48` : null;
}

/** The eight groups of an IPv6 address (hex, without leading zeros), or null if it is not one. */
function ipv6Groups(ip: string): string[] | null {
  const bare = ip.split('%')[0];
  if (!isIPv6(bare)) return null;
  const [head, tail] = bare.split('::');
  const split = (part: string) =>
    part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [];
  const before = split(head);
  const after = tail === undefined ? [] : split(tail);
  // `::` stands for as many zero groups as the address lacks.
  const zeros = Array<string>(8 - before.length - after.length).fill('0');
  return [...before, ...zeros, ...after].map((g) => parseInt(g, 16).toString(16));
}

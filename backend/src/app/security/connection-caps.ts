/**
 * Open-connection counts of one entry point (`/live` or the embedded broker), per IP and in
 * total, against their caps. Owns the counting only: the entry point asks {@link ConnectionCaps.open}
 * before it serves a connection, refuses and counts the refusal itself, and calls the release
 * function once the connection is gone. Exempt addresses (the host's own loopback by default)
 * are held to the total only (docs/decisions/0010-tls-broker-credentials-connection-caps.md).
 */

export interface ConnectionCapLimits {
  total: number;
  perIp: number;
  /** Exact addresses not held to `perIp` (IPv4-mapped IPv6 is compared as IPv4). */
  exempt: readonly string[];
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client has one key whichever way the socket reports it. */
export function normalizeIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class ConnectionCaps {
  private readonly perIp = new Map<string, number>();
  private readonly exempt: Set<string>;
  private total = 0;

  constructor(private readonly limits: ConnectionCapLimits) {
    this.exempt = new Set(limits.exempt.map(normalizeIp));
  }

  /** Would a new connection from `ip` be refused? `'total'`, `'per_ip'`, or null if it fits. */
  check(address: string | undefined): 'total' | 'per_ip' | null {
    const ip = normalizeIp(address);
    if (this.total >= this.limits.total) return 'total';
    if (!this.exempt.has(ip) && (this.perIp.get(ip) ?? 0) >= this.limits.perIp) return 'per_ip';
    return null;
  }

  /**
   * Count a connection from `address` if it fits: the release function (call it once, when the
   * connection closes; later calls do nothing), or the reason it does not fit.
   */
  open(address: string | undefined): (() => void) | 'total' | 'per_ip' {
    const refusal = this.admit(address);
    if (refusal) return refusal;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(address);
    };
  }

  /**
   * Count a connection from `address` if it fits (null), or the reason it does not. The caller
   * calls {@link release} with the same address exactly once when it closes ({@link open} for
   * one that cannot promise that).
   */
  admit(address: string | undefined): 'total' | 'per_ip' | null {
    const refusal = this.check(address);
    if (refusal) return refusal;
    const ip = normalizeIp(address);
    this.total++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    return null;
  }

  /** A connection {@link admit} counted has closed. */
  release(address: string | undefined): void {
    const ip = normalizeIp(address);
    const left = this.perIp.get(ip);
    if (left === undefined) return;
    this.total--;
    if (left <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, left - 1);
  }

  /** Connections counted now. */
  get count(): number {
    return this.total;
  }
}

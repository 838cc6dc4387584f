import { isIP } from 'node:net';

/**
 * Loopback checks for listen hosts and client addresses: what decides the anonymous default
 * (ANONYMOUS_ROLE) and who may create the first admin without a setup code. In `common/`, below
 * every feature folder: owns no state and must not import any feature folder.
 */

/** True for a listen HOST only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || isLoopbackAddress(bare);
}

/**
 * True for a peer address on the loopback interface (the socket's remote address, never a
 * forwarded header: a proxy on this machine makes every client look local, so behind one the
 * setup code is the way in).
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/**
 * True for a request's Host header that names this machine: `localhost` and its subdomains
 * (RFC 6761: browsers resolve them to loopback themselves), an address in 127.0.0.0/8, `[::1]`;
 * any port. A page that rebinds its own name to 127.0.0.1 (DNS rebinding) reaches the gateway with
 * its own name as Host, never one of these.
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(host);
  const name = (bracketed ? bracketed[1] : host.replace(/:\d*$/, '')).toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return isIP(name) !== 0 && isLoopbackAddress(name);
}

/*
 * Where the gateway is reached from its own machine: the host part of a URL for the address it
 * binds (HOST). The gateway names its own URLs with it, and the simulator's `credentials`
 * command finds the gateway `npm start` runs from the same environment with it. Owns that
 * mapping only: the variables, their defaults and validation belong to the gateway's config.
 */

/** `host` as seen from this machine in a URL (`0.0.0.0` → 127.0.0.1, IPv6 in brackets). */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Device ownership as the multi-gateway specs watch it: a built gateway's `ownership` stats, and
 * the wait until every gateway of a set agrees on its members with no hand-over under way. Owns
 * those reads only; starts and stops nothing.
 */
import type { IngestStats, OwnershipStats } from '@pulse/protocol';
import { Backend, getJson, waitFor } from '@pulse/test-support';

/** The gateway's ownership stats (`GET /api/stats`). */
export async function ownershipOf(gateway: Backend): Promise<OwnershipStats> {
  return (await getJson<IngestStats>(`${gateway.httpUrl}/api/stats`)).body
    .ownership as OwnershipStats;
}

/** Until every gateway sees `count` members and no hand-over is under way. */
export function settled(gateways: Backend[], count: number): Promise<true> {
  return waitFor(
    async () => {
      const all = await Promise.all(gateways.map(ownershipOf));
      return all.every((o) => o.members === count && o.member && !o.handingOver) || undefined;
    },
    { timeoutMs: 15_000, message: `${count} gateways settled` },
  );
}

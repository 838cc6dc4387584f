/**
 * Rendezvous (highest-random-weight) hashing: a device belongs to the member whose hash of
 * (member, device) is highest. Every gateway computes the same owner from the same member list,
 * without talking; when a member leaves only its own devices move (each to the member that was
 * second for it), and when one joins only the devices it now wins move to it — about 1/n each.
 *
 * Pure; owns the hash only. 32-bit FNV-1a over the UTF-16 code units, then murmur3's finaliser
 * (FNV-1a alone mixes its last characters poorly, and device ids often differ only there).
 */

export function weight(member: string, key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < member.length; i++) h = Math.imul(h ^ member.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0, 0x01000193); // a separator: ("ab", "c") and ("a", "bc") differ
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The owner of `key` among `members` (sorted or not), or null when there are none. */
export function ownerOf(key: string, members: readonly string[]): string | null {
  let best: string | null = null;
  let bestWeight = -1;
  for (let i = 0; i < members.length; i++) {
    const member = members[i];
    const w = weight(member, key);
    // Ties (1 in 2^32) go to the smaller id, so every gateway still agrees.
    if (w > bestWeight || (w === bestWeight && best !== null && member < best)) {
      best = member;
      bestWeight = w;
    }
  }
  return best;
}

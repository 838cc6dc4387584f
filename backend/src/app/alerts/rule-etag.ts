import type { AlertRule } from '@pulse/protocol';
import { createHash } from 'node:crypto';

/**
 * A rule's entity tag (`ETag`, RFC 9110 §8.8.3): strong, the first 128 bits of the SHA-256 of
 * the rule as the gateway holds it (defaults filled in by the schema), written with its keys
 * sorted, so the same rule has the same tag on every gateway and after every restart, whatever
 * order a file or a request listed its fields in. A content hash rather than a stored version:
 * nothing to migrate in the rules file or the store, and a rule changed on another gateway
 * (peer-rules.ts), by hand in ALERT_RULES_FILE or put back as it was is judged by what it is
 * (docs/decisions/0072).
 */
export function ruleEtag(rule: AlertRule): string {
  let tag = tags.get(rule);
  if (tag === undefined) {
    const digest = createHash('sha256').update(canonicalJson(rule)).digest('base64url');
    tags.set(rule, (tag = `"${digest.slice(0, 22)}"`));
  }
  return tag;
}

/**
 * Tags of the rule objects met so far: a list read of 1,000 rules hashes them once (~6–8 ms on
 * the 2-core CI machine), not at every read. Sound because a rule object is never changed in
 * place: every change (HTTP, a peer's set, the file or the store at boot) puts a new object in
 * the engine, which freezes it (AlertRuleIndex.replace), so a change in place would throw.
 */
const tags = new WeakMap<AlertRule, string>();

/** JSON with every object's keys in code-unit order (arrays keep theirs). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  );
}

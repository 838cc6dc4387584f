import { parseAlertRule } from './alert-rules.loader';
import { canonicalJson, ruleEtag } from './rule-etag';

const rule = parseAlertRule({
  id: 'hot',
  kind: 'threshold',
  metric: 't',
  op: 'above',
  value: 30,
  severity: 'major',
  scope: { group: 'hall' },
});

describe('ruleEtag', () => {
  it('is a strong tag of 22 base64url characters, the same for the same rule in any key order', () => {
    expect(ruleEtag(rule)).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const reversed = Object.fromEntries(Object.entries(rule).reverse()) as typeof rule;
    expect(ruleEtag(reversed)).toBe(ruleEtag(rule));
    // As a peer gateway or a restart reads it back.
    expect(ruleEtag(parseAlertRule(JSON.parse(JSON.stringify(rule))))).toBe(ruleEtag(rule));
  });

  it('changes with any field, nested ones included', () => {
    const tags = new Set([
      ruleEtag(rule),
      ruleEtag({ ...rule, enabled: !rule.enabled }),
      ruleEtag({ ...rule, value: 31 } as typeof rule),
      ruleEtag({ ...rule, scope: { group: 'yard' } }),
      ruleEtag({ ...rule, name: 'Hot' }),
    ]);
    expect(tags.size).toBe(5);
  });

  it('is the rule’s content, not the object’s: an equal copy has the same tag', () => {
    const copy = structuredClone(rule);
    expect(ruleEtag(copy)).toBe(ruleEtag(rule));
    expect(ruleEtag(rule)).toBe(ruleEtag(rule)); // the second time from the cache
  });
});

describe('canonicalJson', () => {
  it('sorts the keys of every object, and keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,1]},"b":1}',
    );
  });
});

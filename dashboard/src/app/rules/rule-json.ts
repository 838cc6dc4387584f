import type { AlertRule, AlertRuleInput, AlertRuleKind } from '@pulse/protocol/core';

/*
 * The text the rule editor starts from: a stored rule as pretty JSON, or a new rule of a kind
 * from a template with a fresh id. Pure; owns the templates and the key order. It must not
 * check a rule: the gateway does, with the schema (a copy here would drift from it).
 */

/** A new rule of `kind`, every field a person usually sets filled with an example. */
export function ruleTemplate(kind: AlertRuleKind, id: string): AlertRuleInput {
  const head = { id, name: `New ${kind} rule` };
  const tail = { severity: 'warning', scope: { all: true }, enabled: true } as const;
  switch (kind) {
    case 'threshold':
      return {
        ...head,
        kind,
        metric: 'temperature',
        op: 'above',
        value: 50,
        clear: 45,
        forMs: 10_000,
        clearForMs: 0,
        ...tail,
      };
    case 'rate':
      return {
        ...head,
        kind,
        metric: 'temperature',
        windowMs: 60_000,
        maxDelta: 5,
        per: 'window',
        direction: 'either',
        forMs: 0,
        ...tail,
      };
    case 'nodata':
      return { ...head, kind, silenceMs: 600_000, cadenceMultiple: 3, ...tail };
    case 'offline':
      return { ...head, kind, forMs: 60_000, ...tail, severity: 'major' };
  }
}

/** `threshold-1`, or the next number free among `taken`. */
export function freshId(kind: AlertRuleKind, taken: Iterable<string>): string {
  const used = new Set(taken);
  let n = 1;
  while (used.has(`${kind}-${n}`)) n++;
  return `${kind}-${n}`;
}

/**
 * A rule as the editor shows it: id, name and kind first (what a person looks for), then the
 * condition's fields as the gateway sent them, then severity, scope and enabled.
 */
export function ruleJson(rule: AlertRule | AlertRuleInput): string {
  const { id, name, kind, severity, scope, enabled, ...condition } = rule;
  return JSON.stringify({ id, name, kind, ...condition, severity, scope, enabled }, null, 2);
}

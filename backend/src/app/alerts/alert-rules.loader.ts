import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import {
  ALERT_LIMITS,
  AlertRule,
  AlertRuleInput,
  AlertRuleSchema,
  AlertRulesFileSchema,
} from '@pulse/protocol';
import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

/**
 * Alert rules from a config file (JSON or YAML, `{ rules: [...] }`), validated with the same
 * schema as `POST /api/alert-rules`. Every problem is reported, one `path: message` line each,
 * e.g. `rules.3.value: Invalid input: expected number, received string`.
 */

/** Thrown by the loader; `issues` has one `path: message` line per problem. */
export class AlertRulesError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`Invalid alert rules in ${source}:\n${issues.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'AlertRulesError';
  }
}

/** `path: message` lines for a zod error (`(root)` for the document itself). */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
  );
}

/**
 * Parse and validate rules text. `format` picks the parser; YAML also reads JSON.
 * @param source named in the error (a file path, `request body`...)
 */
export function parseAlertRules(
  text: string,
  format: 'json' | 'yaml',
  source = 'alert rules',
): AlertRule[] {
  let document: unknown;
  try {
    document = format === 'json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const at = error.linePos?.[0];
      const message = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new AlertRulesError(source, [
        `${at ? `line ${at.line}, column ${at.col}` : '(root)'}: ${message}`,
      ]);
    }
    throw new AlertRulesError(source, [`(root): ${(error as Error).message}`]);
  }
  if (document === null || document === undefined)
    throw new AlertRulesError(source, ['(root): empty document, expected { rules: [...] }']);
  return alertRulesOf(document, source);
}

/**
 * A rules document already parsed (`{ rules: [...] }`: a file's, or a set saved in a store)
 * through the schema: validated, defaults filled in; throws {@link AlertRulesError}.
 */
export function alertRulesOf(document: unknown, source = 'alert rules'): AlertRule[] {
  const result = AlertRulesFileSchema.safeParse(document);
  if (!result.success) throw new AlertRulesError(source, issueLines(result.error));
  return result.data.rules;
}

/** Issue lines kept per refused stored rule (a zod union can list many for one bad field). */
export const MAX_ISSUES_PER_RULE = 5;

/**
 * A saved rule the schema refused: `raw` exactly as it was saved (written back with the next save
 * of the set), its id if it has a string one, and why (`path: message`, the path in the rule).
 */
export interface RefusedRule {
  id: string | null;
  raw: unknown;
  issues: string[];
}

/**
 * A rule set saved in a store, rule by rule through the schema (defaults filled in): the rules it
 * accepts, in order, and those it refuses, as saved. Not all or nothing, unlike a rules file: a
 * set saved by another version of Pulse is not this person's typing now, and one rule the schema
 * has since tightened must not take the others (and the gateway) down with it (decision 0072,
 * addendum 2). A second rule of an id already accepted, or one past ALERT_LIMITS.maxRules, is
 * refused too, as the file's schema would.
 */
export function storedRuleSet(saved: readonly unknown[]): {
  rules: AlertRule[];
  refused: RefusedRule[];
} {
  const rules: AlertRule[] = [];
  const refused: RefusedRule[] = [];
  const ids = new Set<string>();
  for (const raw of saved) {
    const id = (raw as { id?: unknown } | null)?.id;
    const named = typeof id === 'string' ? id : null;
    const result = AlertRuleSchema.safeParse(raw);
    let issues: string[] = [];
    if (!result.success) issues = issueLines(result.error);
    else if (ids.has(result.data.id)) issues = [`id: duplicate rule id "${result.data.id}"`];
    else if (rules.length >= ALERT_LIMITS.maxRules)
      issues = [`(root): past the limit of ${ALERT_LIMITS.maxRules} rules`];
    if (issues.length === 0 && result.success) {
      ids.add(result.data.id);
      rules.push(result.data);
      continue;
    }
    const kept = issues.slice(0, MAX_ISSUES_PER_RULE);
    if (issues.length > kept.length) kept.push(`(+${issues.length - kept.length} more issues)`);
    refused.push({ id: named, raw, issues: kept });
  }
  return { rules, refused };
}

/** Read a rules file at start; `.json` is parsed as JSON, anything else (`.yaml`, `.yml`) as YAML. */
export function loadAlertRulesFile(path: string): AlertRule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AlertRulesError(path, [
      `(root): cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    ]);
  }
  return parseAlertRules(text, extname(path).toLowerCase() === '.json' ? 'json' : 'yaml', path);
}

/**
 * Write rules back (after HTTP changes), atomically: a temporary file renamed over the old
 * one, so a crash never leaves half a file. JSON for `.json`, YAML otherwise.
 */
export function saveAlertRulesFile(path: string, rules: readonly AlertRule[]): void {
  const document = { rules };
  const text =
    extname(path).toLowerCase() === '.json'
      ? `${JSON.stringify(document, null, 2)}\n`
      : stringifyYaml(document);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, 'utf8');
  renameSync(temporary, path);
}

/** Validate one rule (HTTP create / update) the same way; throws {@link AlertRulesError}. */
export function parseAlertRule(input: unknown, source = 'request body'): AlertRule {
  const result = AlertRuleSchema.safeParse(input);
  if (!result.success) throw new AlertRulesError(source, issueLines(result.error));
  return result.data;
}

/**
 * Rules for the built-in simulated fleet (`SIMULATOR=on`): environment sensors (temperature
 * around 19–28 °C, CO₂ 420–1300 ppm), machines (temperature 41–70 °C, vibration about 1 mm/s
 * with knocks of +6–15 and anomaly episodes at ×3), all publishing about once a second.
 */
export const DEFAULT_RULE_INPUTS: AlertRuleInput[] = [
  {
    id: 'temperature-high',
    name: 'Overheating',
    kind: 'threshold',
    metric: 'temperature',
    op: 'above',
    value: 68,
    clear: 66,
    forMs: 10_000,
    severity: 'major',
  },
  {
    id: 'co2-high',
    name: 'CO₂ high',
    kind: 'threshold',
    metric: 'co2',
    op: 'above',
    value: 1200,
    clear: 1000,
    forMs: 30_000,
    severity: 'warning',
  },
  {
    id: 'vibration-high',
    name: 'Vibration high',
    kind: 'threshold',
    metric: 'vibration',
    op: 'above',
    value: 4,
    clear: 3,
    forMs: 5_000,
    severity: 'major',
  },
  {
    id: 'vibration-spike',
    name: 'Vibration spike',
    kind: 'rate',
    metric: 'vibration',
    windowMs: 5_000,
    maxDelta: 5,
    per: 'window',
    direction: 'up',
    // A single knock (one reading) is normal for a machine; a jump that holds for 2 s is not.
    // Without this the built-in fleet's knocks raised and flapped this rule every minute.
    forMs: 2_000,
    severity: 'minor',
  },
  {
    id: 'no-data',
    name: 'No data',
    kind: 'nodata',
    cadenceMultiple: 3,
    silenceMs: 10_000,
    severity: 'minor',
  },
  {
    id: 'device-offline',
    name: 'Device offline',
    kind: 'offline',
    forMs: 5_000,
    severity: 'critical',
  },
];

export const DEFAULT_RULES: AlertRule[] = AlertRulesFileSchema.parse({
  rules: DEFAULT_RULE_INPUTS,
}).rules;

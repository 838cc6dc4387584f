import { SkipReason, switchValue } from './format';

/*
 * The common forms of Home Assistant's `value_template` (a Jinja expression), read as data and
 * never evaluated: `{{ value }}`, `{{ value_json.a.b }}`, `{{ value_json['a'].b }}`,
 * `{{ value_json["a"][0] }}`, each followed by any of the filters `| float`, `| int`,
 * `| round(n)` (a numeric default such as `float(0)` is accepted and not used: a payload without
 * a number is skipped rather than read as the default). Anything else (`{% if %}`, arithmetic,
 * `is defined`, other filters) is unsupported: the announcement says so and is counted by the
 * caller. Owns parsing templates and applying a parsed one to a payload; must not know topics.
 */

export type TemplateFilter =
  | { kind: 'float' }
  | { kind: 'int' }
  | { kind: 'round'; digits: number };

/** A template as data: where the value is in the payload, and the filters applied in order. */
export interface ValueTemplate {
  /** Keys and indexes into the payload's JSON (`value_json…`); null: the payload text itself. */
  path: (string | number)[] | null;
  filters: TemplateFilter[];
}

/** `{{ value }}`: what HA does when an entity has no `value_template`. */
export const PLAIN_VALUE: ValueTemplate = { path: null, filters: [] };

const KEY =
  /^\.([A-Za-z_][A-Za-z0-9_]*)|^\[\s*'([^'\\]*)'\s*\]|^\[\s*"([^"\\]*)"\s*\]|^\[\s*(\d+)\s*\]/;
const FILTER = /^(float|int|round)\s*(?:\(\s*(-?\d+(?:\.\d+)?)?\s*\))?$/;

/** A template as data, or null when it is not one of the forms above. */
export function parseValueTemplate(template: string): ValueTemplate | null {
  const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(template);
  if (!m || m[1].includes('{{') || m[1].includes('}}')) return null;
  const [head, ...rest] = m[1].split('|').map((part) => part.trim());
  let path: (string | number)[] | null;
  if (head === 'value') path = null;
  else if (head.startsWith('value_json')) {
    path = [];
    let tail = head.slice('value_json'.length);
    while (tail.length > 0) {
      const k = KEY.exec(tail);
      if (!k) return null;
      path.push(k[4] !== undefined ? Number(k[4]) : (k[1] ?? k[2] ?? k[3]));
      tail = tail.slice(k[0].length).trimStart();
    }
  } else return null;
  const filters: TemplateFilter[] = [];
  for (const part of rest) {
    const f = FILTER.exec(part);
    if (!f) return null;
    if (f[1] === 'round') {
      // round(n) takes a count of digits; round without one rounds to an integer.
      const digits = f[2] === undefined ? 0 : Number(f[2]);
      if (!Number.isInteger(digits) || digits < 0 || digits > 10) return null;
      filters.push({ kind: 'round', digits });
    } else filters.push({ kind: f[1] as 'float' | 'int' });
  }
  return { path, filters };
}

/** The payload as the template's input: its text, or its JSON parsed once per message. */
export class TemplateInput {
  private parsed: unknown;
  private parsedOnce = false;
  constructor(readonly text: string) {}

  json(): unknown {
    if (!this.parsedOnce) {
      this.parsedOnce = true;
      try {
        this.parsed = JSON.parse(this.text);
      } catch {
        this.parsed = undefined;
      }
    }
    return this.parsed;
  }
}

/**
 * What the template selects from the payload, before filters: a number, text, boolean or null;
 * undefined when the path is not there (HA renders an undefined value and logs it).
 */
export function selectValue(template: ValueTemplate, input: TemplateInput): unknown {
  if (template.path === null) return input.text;
  let node = input.json();
  for (const key of template.path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/**
 * The number a sensor's template gives, or why there is none; null when the template selects
 * nothing in this payload (HA leaves the state as it was).
 */
export function templateNumber(
  template: ValueTemplate,
  input: TemplateInput,
): number | { skip: SkipReason } | null {
  const raw = selectValue(template, input);
  if (raw === undefined) return null;
  let n: number | null;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'boolean') n = raw ? 1 : 0;
  else if (typeof raw === 'string') {
    const t = raw.trim();
    n = t !== '' && Number.isFinite(Number(t)) ? Number(t) : switchValue(t);
  } else return { skip: raw === null ? 'null' : Array.isArray(raw) ? 'array' : 'type' };
  if (n === null) return { skip: 'string' };
  if (!Number.isFinite(n)) return { skip: 'not_finite' };
  for (const f of template.filters) {
    if (f.kind === 'int') n = Math.trunc(n);
    else if (f.kind === 'round') n = Math.round(n * 10 ** f.digits) / 10 ** f.digits;
  }
  return n;
}

/** A template's selection as the text HA compares with `payload_on` / `payload_available`. */
export function templateText(template: ValueTemplate, input: TemplateInput): string | undefined {
  const raw = selectValue(template, input);
  if (raw === undefined || (raw !== null && typeof raw === 'object')) return undefined;
  return String(raw);
}

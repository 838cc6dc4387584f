import { BadRequestException, ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';

/**
 * HTTP conditional requests for writes (RFC 9110 §13): `If-Match` and `If-None-Match` read once
 * here, a malformed one refused 400 with what was wrong and the value quoted; and the
 * evaluation of both against a resource's current entity tag. Knows entity tags only: which
 * resource a tag belongs to, and what a failure answers, are the route's.
 *
 * In `common/`, below the feature folders whose routes use it: must not import any of them.
 */

/** One entity tag of a request's list: `W/"x"` is weak, `"x"` strong; `opaque` keeps the quotes. */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** `*` (any current representation), or the listed tags. */
export type EntityTagCondition = '*' | readonly EntityTag[];

/** A write's preconditions; null: the header was not sent. */
export interface Preconditions {
  ifMatch: EntityTagCondition | null;
  ifNoneMatch: EntityTagCondition | null;
}

/** A request without either header: the write is unconditional, as before 0072. */
export const NO_PRECONDITIONS: Preconditions = { ifMatch: null, ifNoneMatch: null };

/**
 * `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`, `etagc = %x21 / %x23-7E / obs-text` (RFC 9110
 * §8.8.3), at the start of what is left of the list.
 */
const ENTITY_TAG = /^(W\/)?("[\x21\x23-\x7E\x80-\xFF]*")/;

/**
 * Read `If-Match` and `If-None-Match`; throws a 400 naming the header for a value that is
 * neither `*` nor a comma-separated list of quoted entity tags (an empty one included: a
 * script whose tag variable was empty, better told than refused 412 for ever).
 */
export function parsePreconditions(headers: Request['headers']): Preconditions {
  const issues: string[] = [];
  const read = (name: 'if-match' | 'if-none-match', label: string) => {
    const raw = headers[name];
    if (raw === undefined) return null;
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    const condition = parseEntityTags(value);
    if (condition === null)
      issues.push(
        `${label}: must be * or a list of quoted entity tags ("abc", W/"abc"), got ${quote(value)}`,
      );
    return condition;
  };
  const ifMatch = read('if-match', 'If-Match');
  const ifNoneMatch = read('if-none-match', 'If-None-Match');
  if (issues.length > 0) throw new BadRequestException(issues);
  return { ifMatch, ifNoneMatch };
}

/** `*` or `#entity-tag` (empty list elements allowed, RFC 9110 §5.6.1); null if malformed or empty. */
export function parseEntityTags(value: string): EntityTagCondition | null {
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let rest = value;
  for (;;) {
    rest = rest.replace(/^[ \t,]+/, '');
    if (rest === '') break;
    const match = ENTITY_TAG.exec(rest);
    if (!match) return null;
    tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    rest = rest.slice(match[0].length).replace(/^[ \t]+/, '');
    if (rest !== '' && rest[0] !== ',') return null;
  }
  return tags.length > 0 ? tags : null;
}

/**
 * Which precondition fails for a state-changing request on a resource whose current strong tag
 * is `current` (null: it does not exist), in RFC 9110 §13.2.2's order; null when the write
 * may go ahead. `If-Match` compares strongly (a weak tag never matches), `If-None-Match`
 * weakly.
 */
export function failedPrecondition(
  conditions: Preconditions,
  current: string | null,
): 'if-match' | 'if-none-match' | null {
  const { ifMatch, ifNoneMatch } = conditions;
  if (ifMatch !== null) {
    const holds =
      current !== null &&
      (ifMatch === '*' || ifMatch.some((tag) => !tag.weak && tag.opaque === current));
    if (!holds) return 'if-match';
  }
  if (ifNoneMatch !== null) {
    const holds =
      current === null ||
      (ifNoneMatch !== '*' && !ifNoneMatch.some((tag) => tag.opaque === current));
    if (!holds) return 'if-none-match';
  }
  return null;
}

/** The request's {@link Preconditions} (400 for a malformed header, before the handler runs). */
export const WritePreconditions = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Preconditions =>
    parsePreconditions(context.switchToHttp().getRequest<Request>().headers),
);

/** A header value as it came, short enough to quote in a message. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

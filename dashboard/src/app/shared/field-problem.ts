/*
 * How a form tells a screen reader what is wrong with a field: the problem names its field,
 * which gets `aria-invalid` and, in `aria-describedby`, the id of the element that says it in
 * words. Plain functions and types; it must not hold state or touch the DOM (the forms do).
 */

/** Why a form cannot be sent (or was refused), and the field it is about. */
export interface FieldProblem<F extends string> {
  field: F;
  text: string;
}

/**
 * The value of an `aria-describedby` from these element ids, the absent ones (false, null)
 * skipped; null (no attribute) when none is left.
 */
export function idList(...ids: (string | false | null | undefined)[]): string | null {
  const present = ids.filter((id): id is string => typeof id === 'string' && id.length > 0);
  return present.length ? present.join(' ') : null;
}

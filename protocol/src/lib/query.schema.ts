import { z } from 'zod';

/*
 * Numbers in an HTTP query string, checked once for every query schema: decimal digits only
 * (`0x10`, `1e3`, ` 5` and `-1` are refused, not coerced), and a parameter given twice is said to
 * be so (Express hands a repeated parameter over as an array, which coercion turned into "expected
 * number, received NaN"). Owns that parsing only; the bounds belong to each schema.
 */
const DECIMAL = /^\d+(\.\d+)?$/;

/** A non-negative decimal from the query, then `check`ed as a number (its bounds). */
export function queryNumber(check: z.ZodNumber = z.number()) {
  return z
    .string({
      error: (issue) =>
        Array.isArray(issue.input) ? 'given more than once' : 'a decimal number, e.g. 1500',
    })
    .regex(DECIMAL, { message: 'a decimal number, e.g. 1500' })
    .transform(Number)
    .pipe(check.finite());
}

/**
 * What must never reach a log line, in two layers: pino's `redact` paths for structured fields
 * (request headers, credential fields of a logged object), and a scrub of the serialized line for
 * secrets inside free text (a URL with a password, a bearer token or a JWT quoted in a message,
 * `NAME_PASSWORD=value`). Owns these rules only; the logger (pulse.logger.ts) applies them.
 */

export const REDACTED = '[redacted]';

/** Structured fields replaced by {@link REDACTED} (fast-redact paths; `*` is one level). */
export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...['password', 'newPassword', 'token', 'secret', 'authorization', 'cookie'].flatMap((key) => [
    key,
    `*.${key}`,
  ]),
];

/**
 * Free-text patterns, each with its replacement (`$1` keeps the part that is not secret). Every
 * repetition that can start anywhere is bounded, so a long token-like run in a line costs linear
 * time, not quadratic.
 */
const TEXT_RULES: [RegExp, string][] = [
  // scheme://user:password@host (broker, database and Redis URLs)
  [/(\b[a-z][a-z0-9+.-]{0,15}:\/\/[^\s:/@"'\\]{0,256}):[^\s@/"'\\]{1,512}@/gi, `$1:${REDACTED}@`],
  // Authorization header values quoted in a message
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // A JWT anywhere (session cookies, API and screen tokens are JWTs); only where a token can
  // start, so a run of `eyJeyJ…` is scanned once
  [/(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Credentials in a query string
  [
    /([?&](?:access_token|token|password|passwd|secret|api_key|apikey|auth)=)[^&\s"'\\#]+/gi,
    `$1${REDACTED}`,
  ],
  // The session cookie by name
  [/(pulse_session=)[^;\s"'\\]+/g, `$1${REDACTED}`],
  // NAME_PASSWORD=value, NAME_SECRET: value, "NAME_TOKEN":"value" (not NAME_PASSWORD_FILE)
  [
    /\b([A-Z0-9_]{0,64}(?:PASSWORD|SECRET|TOKEN))(\\?"?\s*[=:]\s*\\?"?)[^\s"\\,}]+/g,
    `$1$2${REDACTED}`,
  ],
];

/** The line with every secret the text rules recognise replaced. */
export function scrubSecrets(line: string): string {
  let out = line;
  for (const [pattern, replacement] of TEXT_RULES) out = out.replace(pattern, replacement);
  return out;
}
